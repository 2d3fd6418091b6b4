"""Several real processes on one SQLite file (issue 7, item 2).

Each test starts child processes with multiprocessing's `spawn` (a fresh interpreter, nothing
inherited but the environment): they share this test's CLOUDACCT_HOME (the database and the
sandbox gateway's own file), the test hash profile and one secret key. The children wait at a
barrier so their calls really overlap, and report every exception they saw; only DomainErrors
may reach a person, so a raw peewee/sqlite error ("database is locked") fails the test.
"""

from __future__ import annotations

import multiprocessing
import random
import secrets
import sqlite3
import traceback
from datetime import datetime, timedelta

import pytest

from tests.conftest import START, STRONG_PASSWORD
from tests.core.test_products import GOOD_CARD, activate, add_address

PROCESSES_SIGNUP = 6
PROCESSES_MIXED = 4
OPERATIONS_EACH = 15
CHILD_TIMEOUT_S = 120  # a guard against a hung child, not a timing target


@pytest.fixture(autouse=True)
def shared_environment(cloudacct_home, monkeypatch):
    """What the children inherit: the data directory, fast hashing, one secret key, sessions
    that outlive the days the clock moves."""
    from core.config import reset_settings
    from core.hashing import forget_secret_key

    monkeypatch.setenv("CLOUDACCT_SECRET_KEY", secrets.token_hex(32))
    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()
    forget_secret_key()


# --- the children -----------------------------------------------------------------------------

def _describe(exc: BaseException) -> dict:
    from core.errors import DomainError

    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "domain": isinstance(exc, DomainError), "message": str(exc),
            "traceback": "" if isinstance(exc, DomainError) else traceback.format_exc()}


def _child(scenario: str, args: dict, barrier, queue, index: int) -> None:
    """Runs in a spawned process: open the shared database, wait for the others, act."""
    errors: list[dict] = []
    result = None
    try:
        from core import clock
        from core.config import settings
        from core.db import database, init_database

        assert str(settings().home) == args["home"], "the child must share the data directory"
        init_database(settings().database_url)
        clock.set_now(args["now"])
        barrier.wait(CHILD_TIMEOUT_S)
        result = SCENARIOS[scenario](index, args, errors)
        database.close()
    except BaseException as exc:  # noqa: BLE001 (reported to the parent)
        errors.append(_describe(exc))
    queue.put((index, result, errors))


def _sign_up(index: int, args: dict, errors: list[dict]):
    from core.accounts import sign_up

    try:
        return sign_up("SG", args["email"], STRONG_PASSWORD, STRONG_PASSWORD, True).token
    except Exception as exc:  # noqa: BLE001 (reported to the parent)
        errors.append(_describe(exc))
        return None


def _pay(index: int, args: dict, errors: list[dict]):
    """Half the children pay from their own session, half run billing."""
    from core.billing_run import pay_outstanding, run_billing

    try:
        if index < len(args["tokens"]):
            return [bill.id for bill in pay_outstanding(args["tokens"][index]).paid]
        run_billing()
        return []
    except Exception as exc:  # noqa: BLE001 (reported to the parent)
        errors.append(_describe(exc))
        return None


def _mixed(index: int, args: dict, errors: list[dict]):
    """A bounded random mix of buying, releasing, billing and paying on a shared account."""
    from core import clock
    from core.billing_run import pay_outstanding, run_billing
    from core.products import list_resources, place_order, release_resource

    rng = random.Random(args["seed"] * 100 + index)
    token = args["tokens"][index % len(args["tokens"])]
    done: dict[str, int] = {}
    for step in range(OPERATIONS_EACH):
        clock.set_now(args["now"] + timedelta(hours=9 * step + rng.randrange(9)))
        action = rng.choice(["payg", "payg", "release", "release", "subscription", "billing",
                             "pay"])
        try:
            if action == "payg":
                place_order(token, rng.choice(["ecs", "oss"]), "us-west-1", "payg")
            elif action == "subscription":
                place_order(token, "ecs", "us-west-1", "subscription", 1,
                            auto_renew=rng.random() < 0.5)
            elif action == "release":
                running = [r for r in list_resources(token)
                           if r.billing_method == "payg" and r.state == "running"]
                if running:
                    release_resource(token, rng.choice(running).id)
            elif action == "billing":
                run_billing()
            else:
                pay_outstanding(token)
            done[action] = done.get(action, 0) + 1
        except Exception as exc:  # noqa: BLE001 (reported to the parent)
            errors.append(_describe(exc))
    return done


def _billing_run(index: int, args: dict, errors: list[dict]):
    """One billing run (as on one of several machines): what it reported doing."""
    from core.billing_run import run_billing

    try:
        return [(e.kind, e.bill_id, e.resource_id, e.charged) for e in run_billing().events]
    except Exception as exc:  # noqa: BLE001 (reported to the parent)
        errors.append(_describe(exc))
        return None


SCENARIOS = {"sign_up": _sign_up, "pay": _pay, "mixed": _mixed, "billing": _billing_run}


def run_children(scenario: str, count: int, args: dict) -> list[tuple[object, list[dict]]]:
    """Start `count` spawned children on `scenario`; their results and errors, in order."""
    from core.config import settings
    from core.db import database

    args = {**args, "home": str(settings().home)}
    database.close()  # nothing of ours is open while they work
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(count)
    queue = ctx.Queue()
    children = [ctx.Process(target=_child, args=(scenario, args, barrier, queue, i))
                for i in range(count)]
    for child in children:
        child.start()
    results: dict[int, tuple[object, list[dict]]] = {}
    try:
        for _ in range(count):
            index, result, errors = queue.get(timeout=CHILD_TIMEOUT_S)
            results[index] = (result, errors)
    finally:
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
                child.join()
    assert all(child.exitcode == 0 for child in children)
    return [results[i] for i in range(count)]


def assert_only_domain_errors(results) -> list[dict]:
    """No raw storage error (or any other non-DomainError) reached the caller."""
    errors = [e for _, errs in results for e in errs]
    raw = [e for e in errors if not e["domain"]]
    assert raw == [], "\n".join(e["traceback"] or e["type"] for e in raw)
    assert not any("locked" in e["message"].lower() for e in errors)
    return errors


def gateway_charges() -> list[dict]:
    """The sandbox gateway's own record of charges (its file, not our database)."""
    from core.gateway import payment_gateway

    conn = sqlite3.connect(payment_gateway().path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT idempotency_key, amount_cents, state FROM charges")]
    finally:
        conn.close()


def buyer(email: str) -> str:
    """An active account with a billing address and a good card: its token."""
    from core.payments import save_card
    from core.sessions import require_account

    token = activate(email)
    add_address(require_account(token).id)
    save_card(token, GOOD_CARD, "12/30", "123", "Alice Tan")
    return token


def second_session(email: str) -> str:
    from core.accounts import log_on

    return log_on(email, STRONG_PASSWORD).token


# --- (a) one email, six sign-ups at once ---------------------------------------------------------

def test_same_email_signed_up_at_once_makes_one_account(db):
    """One account holds the email; as nobody has verified it yet, the others are email claims
    on it (core.accounts.email_is_claimable): the first to verify the email keeps it."""
    from core.models import Account, EmailClaim, Session
    from core.sessions import token_hash

    email = "race@example.com"
    results = run_children("sign_up", PROCESSES_SIGNUP, {"email": email, "now": START})
    assert assert_only_domain_errors(results) == []  # every call returned normally
    tokens = [token for token, _ in results]
    assert all(tokens) and len(set(tokens)) == PROCESSES_SIGNUP
    (account,) = Account.select().where(Account.email_key == email)
    sessions = [Session.get(Session.token_hash == token_hash(t)) for t in tokens]
    holders = [s for s in sessions if s.account_id == account.id]
    claims = {c.account_id for c in EmailClaim.select().where(EmailClaim.email_key == email)}
    assert len(holders) == 1
    assert {s.account_id for s in sessions if s is not holders[0]} == claims
    assert len(claims) == PROCESSES_SIGNUP - 1


# --- (b) one bill, paid from two sessions (and two billing runs) at once ------------------------

def test_the_same_bills_paid_from_two_sessions_are_charged_once(db):
    from core.models import Bill, LedgerEntry
    from core.sessions import require_account

    email = "payer@example.com"
    tokens = [buyer(email), second_session(email)]
    account_id = require_account(tokens[0]).id
    # Bills issued earlier whose charge was never made (a crash between issue and charge):
    # the person pays them now, from two sessions, while two billing runs retry them.
    amounts = [101, 202, 303, 404, 505, 606]
    for amount in amounts:
        Bill.create(account=account_id, kind="usage", description=f"usage {amount}",
                    amount_cents=amount, period_start=START - timedelta(days=3),
                    period_end=START - timedelta(days=2), issued_at=START - timedelta(hours=1),
                    status="outstanding")
    results = run_children("pay", 4, {"tokens": tokens, "now": START})
    errors = assert_only_domain_errors(results)
    assert errors == [], errors
    bills = list(Bill.select())
    assert all(b.status == "paid" for b in bills)
    charges = list(LedgerEntry.select().where(LedgerEntry.kind == "charge"))
    assert sorted(c.amount_cents for c in charges if c.status == "done") == amounts
    assert all(c.status == "done" for c in charges)
    assert {c.bill_id for c in charges} == {b.id for b in bills}
    at_gateway = [c for c in gateway_charges() if c["idempotency_key"].startswith("bill-")]
    assert sorted(c["amount_cents"] for c in at_gateway if c["state"] == "succeeded") == amounts
    assert {c["idempotency_key"] for c in at_gateway} == {c.idempotency_key for c in charges}


# --- (c) many processes billing, buying and releasing: the ledger balances ------------------------

def test_billing_buying_and_releasing_at_once_balances_to_the_cent(db):
    from core.billing_run import run_billing
    from core.models import Bill, LedgerEntry

    first, second = "one@example.com", "two@example.com"
    tokens = [buyer(first), buyer(second), second_session(first), second_session(second)]
    results = run_children("mixed", PROCESSES_MIXED,
                           {"tokens": tokens, "now": START, "seed": 7})
    errors = assert_only_domain_errors(results)
    # Allowed refusals: a resource another session released first, nothing left to release.
    assert all("released" in e["message"] for e in errors), errors
    operations = sum(sum(done.values()) for done, _ in results)
    assert operations + len(errors) == PROCESSES_MIXED * OPERATIONS_EACH

    # Everything the children left unbilled is billed by a last run far enough ahead.
    report = run_billing(datetime(2027, 6, 1))
    assert report.outstanding == 0

    charges = list(LedgerEntry.select().where(LedgerEntry.kind.in_(("charge",
                                                                    "charge_failed"))))
    assert [c for c in charges if c.status != "done"] == []  # nothing declined or left started
    paid = list(Bill.select().where(Bill.status == "paid"))
    assert Bill.select().where(Bill.status != "paid").count() == 0
    ledger_total = sum(c.amount_cents for c in charges)
    assert ledger_total == sum(b.amount_cents for b in paid) > 0
    # Each paid bill has exactly one charge, of its amount.
    by_bill: dict[int, list[int]] = {}
    for c in charges:
        by_bill.setdefault(c.bill_id, []).append(c.amount_cents)
    assert by_bill == {b.id: [b.amount_cents] for b in paid}
    # The gateway's own books agree with ours, charge by charge.
    at_gateway = [c for c in gateway_charges() if c["state"] == "succeeded"]
    assert sum(c["amount_cents"] for c in at_gateway) == ledger_total
    assert {c["idempotency_key"] for c in at_gateway} == {c.idempotency_key for c in charges}


# --- (d) two billing runs at once (two machines): each due item billed once, all of it billed ----

def test_two_billing_runs_at_once_bill_each_item_exactly_once(db, clock):
    """Usage due (released, and running across a month's end), subscriptions to renew and to
    expire, and a bill whose charge a crash cut short: two runs started together issue each
    bill once, charge it once, and together leave nothing due. On PostgreSQL they split the
    work (row locks with SKIP LOCKED, claims on bills), so every item is reported by one run."""
    from core.billing_run import run_billing
    from core.models import Bill, LedgerEntry, Resource
    from core.products import place_order, release_resource
    from core.sessions import require_account

    tokens = [buyer(f"machine{i}@example.com") for i in range(3)]
    released: dict[int, str] = {}  # resource id -> its owner's session
    running, renewing, expiring = [], [], []
    for token in tokens:
        for _ in range(6):
            released[place_order(token, "ecs", "us-west-1", "payg").id] = token
        running += [place_order(token, "oss", "us-west-1", "payg").id for _ in range(2)]
        renewing.append(place_order(token, "ecs", "us-west-1", "subscription", 1,
                                    auto_renew=True).id)
        expiring.append(place_order(token, "ecs", "us-west-1", "subscription", 1).id)
    for hours, (resource_id, token) in enumerate(released.items(), start=1):
        clock.set_now(START + timedelta(hours=hours))
        release_resource(token, resource_id)
    crashed = Bill.create(account=require_account(tokens[0]).id, kind="usage",
                          description="a charge cut short by a crash", amount_cents=77,
                          issued_at=START, status="outstanding")
    at = START + timedelta(days=40)  # past 48 h after the releases and after Jan 1 + 48 h
    earlier = set(Bill.select(Bill.id).tuples())

    results = run_children("billing", 2, {"now": at})
    assert assert_only_domain_errors(results) == []
    reported = [event for events, _ in results for event in events]

    issued = [bill_id for kind, bill_id, _, _ in reported if kind in ("bill", "renewal")]
    assert len(issued) == len(set(issued)), "a bill reported by both runs"
    new_bills = list(Bill.select().where(Bill.id.not_in([b for (b,) in earlier])))
    assert sorted(issued) == sorted(b.id for b in new_bills)
    # Exactly what was due, once: one usage bill per released resource, one per running
    # resource (December), one renewal per auto-renewing subscription.
    usage = sorted(b.resource_id for b in new_bills if b.kind == "usage")
    assert usage == sorted([*released, *running])
    assert sorted(b.resource_id for b in new_bills if b.kind == "renewal") == sorted(renewing)
    assert len({(b.resource_id, b.period_start) for b in new_bills}) == len(new_bills)
    expiries = sorted(resource_id for kind, _, resource_id, _ in reported if kind == "expiry")
    assert expiries == sorted(expiring)
    assert all(Resource.get_by_id(r).state == "expired" for r in expiring)
    retries = [bill_id for kind, bill_id, _, _ in reported if kind == "charge_retry"]
    # Claimed by one run, left alone by the other: on SQLite too (the bill's lease, issue 14).
    assert retries == [crashed.id]

    # Charged once each, at the gateway too; nothing left due for a third run.
    assert all(b.status == "paid" for b in Bill.select())
    charges = list(LedgerEntry.select().where(LedgerEntry.bill.is_null(False),
                                              LedgerEntry.kind == "charge"))
    paid_by_run = [c for c in charges if c.idempotency_key.startswith("bill-")]
    assert sorted(c.bill_id for c in paid_by_run) == sorted([*issued, crashed.id])
    at_gateway = [c for c in gateway_charges() if c["idempotency_key"].startswith("bill-")]
    assert sorted(c["idempotency_key"] for c in at_gateway) == \
        sorted(c.idempotency_key for c in paid_by_run)
    assert run_billing(at).events == ()

