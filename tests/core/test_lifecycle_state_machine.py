"""Hypothesis stateful test of the whole account lifecycle (issue 7, item 5).

Random sequences of sign-up, verification, log-on, billing address, cards (good, declined at
the hold, declined at every charge), purchases, releases, auto-renewal, clock moves, billing
runs, payments and deletion requests, with the movable clock. After every step:

- at most one live account per email key;
- no pre-authorization left `held` at the sandbox gateway (its own SQLite file);
- the books balance: successful charges in our ledger == paid bills (subscriptions paid up
  front are bills too) == the gateway's succeeded charges, to the cent;
- a deleted account has nothing that would block deletion (no running or suspended resource,
  no outstanding bill, no unbilled usage) and no personal data (billing address, codes, keys,
  real-name registration, live payment methods);
- a refusal of deletion names its blockers, and deletion succeeds only without them.

Each example runs in a fresh data directory. Default: 20 examples of up to 30 steps;
CLOUDACCT_FUZZ_SCALE=N runs N times as many examples.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from core.errors import DomainError, SessionExpired
from tests.conftest import (
    START,
    STRONG_PASSWORD,
    TEST_POSTGRES_URL,
    create_postgres_database,
    drop_postgres_database,
    latest_code,
    with_database,
)

SCALE = max(1, int(os.environ.get("CLOUDACCT_FUZZ_SCALE", "1") or 1))
EMAILS = ("alice@example.com", "Bob@Example.com")
PHONES = {"alice@example.com": "+65 8123 4567", "Bob@Example.com": "+65 9123 4567"}
CARDS = ("4242 4242 4242 4242",  # fine
         "4000 0000 0000 0002",  # declined at the hold: never saved
         "4000 0000 0000 0341")  # saved, every charge declined
LIVE = ("unverified", "active", "deletion_pending")
_ENV = ("CLOUDACCT_HOME", "CLOUDACCT_HASH_PROFILE", "CLOUDACCT_SESSION_IDLE_MINUTES",
        "CLOUDACCT_SESSION_ABSOLUTE_HOURS", "CLOUDACCT_DATABASE_URL")

email_st = st.sampled_from(EMAILS)


def _reset_core() -> None:
    from core.config import reset_settings
    from core.db import close_database
    from core.gateway import set_payment_gateway
    from core.hashing import forget_secret_key

    close_database()
    reset_settings()
    forget_secret_key()
    set_payment_gateway(None)


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        from core import clock
        from core.config import settings as core_settings
        from core.db import init_database

        self.saved_env = {name: os.environ.get(name) for name in _ENV}
        self.home = Path(tempfile.mkdtemp(prefix="cloudacct-sm-"))
        os.environ["CLOUDACCT_HOME"] = str(self.home)
        os.environ["CLOUDACCT_HASH_PROFILE"] = "test"
        os.environ["CLOUDACCT_SESSION_IDLE_MINUTES"] = str(10 * 366 * 24 * 60)
        os.environ["CLOUDACCT_SESSION_ABSOLUTE_HOURS"] = str(10 * 366 * 24)
        self.pg_database = None
        if TEST_POSTGRES_URL:  # a fresh PostgreSQL database per example, as a fresh home
            self.pg_database = create_postgres_database()
            os.environ["CLOUDACCT_DATABASE_URL"] = with_database(TEST_POSTGRES_URL,
                                                                 self.pg_database)
        _reset_core()
        clock.set_now(START)
        init_database(core_settings().database_url)
        self.tokens: dict[str, str] = {}

    def teardown(self) -> None:
        _reset_core()
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reset_core()
        shutil.rmtree(self.home, ignore_errors=True)
        if self.pg_database:
            drop_postgres_database(self.pg_database)

    # --- helpers -----------------------------------------------------------------------------

    def account(self, email: str):
        from core.models import Account
        from core.validation import check_email

        return Account.get_or_none(Account.email_key == check_email(email).key,
                                   Account.status.in_(LIVE))

    def token(self, email: str) -> str | None:
        """A live session of the email's live account (logging on again when it ended)."""
        from core.accounts import log_on
        from core.sessions import session_alive

        account = self.account(email)
        if account is None:
            self.tokens.pop(email, None)
            return None
        token = self.tokens.get(email)
        if token is not None and session_alive(token) is None:
            return token
        try:
            self.tokens[email] = log_on(email, STRONG_PASSWORD).token
        except DomainError:
            return None
        return self.tokens[email]

    # --- rules ---------------------------------------------------------------------------------

    @initialize(email=email_st, card=st.sampled_from(CARDS))
    def start_with_a_customer(self, email, card):
        """One account ready to buy, so that most examples reach billing and deletion."""
        self.onboard(email, card)

    @rule(email=email_st, card=st.sampled_from(CARDS))
    def onboard(self, email, card):
        """Sign up, verify, billing address and a card, as far as the account still needs."""
        if self.account(email) is None:
            self.sign_up(email, "same")
        self.verify(email)
        account = self.account(email)
        if account is not None and not account.billing_address.exists():
            self.add_address(email)
        self.add_card(email, card, True)

    @rule(email=email_st, spelling=st.sampled_from(["same", "upper", "spaced"]))
    def sign_up(self, email, spelling):
        from core.accounts import sign_up

        typed = {"same": email, "upper": email.upper(), "spaced": f"  {email} "}[spelling]
        existed = self.account(email) is not None
        result = sign_up("SG", typed, STRONG_PASSWORD, STRONG_PASSWORD, True)
        if not existed:
            self.tokens[email] = result.token

    @rule(email=email_st)
    def verify(self, email):
        from core.verify_account import confirm_code, send_code

        account = self.account(email)
        token = self.token(email)
        if account is None or token is None or account.status != "unverified":
            return
        with contextlib.suppress(DomainError):
            send_code(token, "signup", "email")
            confirm_code(token, "signup", "email", latest_code(email))
            assert self.account(email).status == "active"

    @rule(email=email_st, password=st.sampled_from([STRONG_PASSWORD, "wrong password 123"]))
    def log_on(self, email, password):
        from core.accounts import log_on

        try:
            result = log_on(email, password)
        except DomainError:
            return
        assert password == STRONG_PASSWORD and self.account(email) is not None
        self.tokens[email] = result.token

    @rule(email=email_st)
    def add_address(self, email):
        from core.billing_address import save_billing_address
        from core.verify_account import confirm_code, send_code

        token = self.token(email)
        if token is None:
            return
        phone = PHONES[email]
        with contextlib.suppress(DomainError):
            account = self.account(email)
            if account.status != "unverified" and account.phone_verified_at is None:
                send_code(token, "second_channel", "sms", phone)
                confirm_code(token, "second_channel", "sms",
                             latest_code(phone.replace(" ", "")), phone)
            save_billing_address(token, account_type="individual", full_name="Zoë O'Hara",
                                 country="SG", city="Singapore", street="1 Raffles Place",
                                 postal_code="048616")

    @rule(email=email_st, card=st.sampled_from(CARDS), make_default=st.booleans())
    def add_card(self, email, card, make_default):
        from core.payments import list_payment_methods, save_card, set_default_method

        token = self.token(email)
        if token is None:
            return
        with contextlib.suppress(DomainError):
            save_card(token, card, "12/30", "123", "Zoe OHara")
        if make_default:
            with contextlib.suppress(DomainError):
                method = next((m for m in list_payment_methods(token)
                               if m.last4 == card[-4:]), None)
                if method is not None:
                    set_default_method(token, method.id)

    @rule(email=email_st, method=st.sampled_from(["payg", "subscription"]),
          months=st.sampled_from([1, 3, 12]), auto_renew=st.booleans(),
          product=st.sampled_from(["ecs", "oss"]))
    def buy(self, email, method, months, auto_renew, product):
        from core.products import place_order

        token = self.token(email)
        if token is None:
            return
        try:
            place_order(token, product, "us-west-1", method, months, auto_renew)
            event(f"bought {method}")
        except DomainError as exc:
            event(f"purchase refused: {type(exc).__name__}")

    @rule(email=email_st, pick=st.integers(0, 5))
    def release(self, email, pick):
        from core.products import list_resources, release_resource

        token = self.token(email)
        if token is None:
            return
        running = [r for r in list_resources(token)
                   if r.billing_method == "payg" and r.state == "running"]
        if running:
            view = release_resource(token, running[pick % len(running)].id)
            assert view.state == "released"

    @rule(email=email_st, pick=st.integers(0, 5), on=st.booleans())
    def toggle_auto_renew(self, email, pick, on):
        from core.products import list_resources, set_auto_renew

        token = self.token(email)
        if token is None:
            return
        subs = [r for r in list_resources(token)
                if r.billing_method == "subscription" and r.state in ("running", "suspended")]
        if subs:
            view = set_auto_renew(token, subs[pick % len(subs)].id, on)
            assert view.auto_renew is on

    @rule(hours=st.sampled_from([1, 5, 24, 49, 24 * 31, 24 * 92]))
    def advance_clock(self, hours):
        from core import clock

        clock.advance(timedelta(hours=hours))

    @rule()
    def run_billing(self):
        from core.billing_run import run_billing

        run_billing()

    @rule(email=email_st)
    def pay_outstanding(self, email):
        from core.billing_run import pay_outstanding

        token = self.token(email)
        if token is None:
            return
        try:
            if pay_outstanding(token).paid:
                event("bills paid")
        except DomainError:
            event("payment refused")

    @rule(email=email_st, password=st.sampled_from([STRONG_PASSWORD, STRONG_PASSWORD,
                                                     "not my password 42"]))
    def request_deletion(self, email, password):
        from core.deletion import DeletionBlocked, request_deletion

        token = self.token(email)
        if token is None:
            return
        account_id = self.account(email).id
        try:
            result = request_deletion(token, password, True)
        except DeletionBlocked as exc:
            assert exc.blockers, "a refusal names what blocks it"
            event("deletion blocked")
            assert self._status(account_id) in LIVE
            return
        except SessionExpired:
            assert self._status(account_id) == "deleted"
            return
        except DomainError:
            assert password != STRONG_PASSWORD or self._status(account_id) in LIVE
            return
        assert password == STRONG_PASSWORD
        if result.status == "deleted":
            assert self._status(account_id) == "deleted"
            self.tokens.pop(email, None)
            event("deleted at once")
        else:
            assert result.status == "deletion_pending"
            event("deletion pending")
            assert self._status(account_id) in ("deletion_pending", "deleted")

    @precondition(lambda self: bool(self.tokens))
    @rule()
    def complete_pending_deletions(self):
        from core.deletion import complete_pending_deletions

        complete_pending_deletions()

    @staticmethod
    def _status(account_id: int) -> str:
        from core.models import Account

        return Account.get_by_id(account_id).status

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def one_live_account_per_email(self):
        from peewee import fn

        from core.models import Account

        doubles = (Account.select(Account.email_key, fn.COUNT(Account.id).alias("n"))
                   .where(Account.status.in_(LIVE)).group_by(Account.email_key)
                   .having(fn.COUNT(Account.id) > 1))
        assert not list(doubles.dicts())

    def _gateway(self, sql: str) -> list[tuple]:
        path = self.home / "sandbox-gateway.db"
        if not path.exists():
            return []
        conn = sqlite3.connect(path)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    @invariant()
    def no_hold_left_at_the_gateway(self):
        assert self._gateway("SELECT id FROM authorizations WHERE state = 'held'") == []

    @invariant()
    def the_books_balance(self):
        from peewee import fn

        from core.models import Bill, LedgerEntry

        charged = (LedgerEntry.select(fn.COALESCE(fn.SUM(LedgerEntry.amount_cents), 0))
                   .where(LedgerEntry.kind == "charge", LedgerEntry.status == "done").scalar())
        paid = (Bill.select(fn.COALESCE(fn.SUM(Bill.amount_cents), 0))
                .where(Bill.status == "paid").scalar())
        assert charged == paid
        rows = self._gateway("SELECT COALESCE(SUM(amount_cents), 0) FROM charges "
                             "WHERE state = 'succeeded'")
        at_gateway = rows[0][0] if rows else 0
        assert at_gateway == charged
        # Every paid bill was paid by exactly one successful charge of its amount.
        for bill in Bill.select().where(Bill.status == "paid"):
            done = [e.amount_cents for e in LedgerEntry.select().where(
                LedgerEntry.bill == bill.id, LedgerEntry.kind == "charge",
                LedgerEntry.status == "done")]
            assert done == [bill.amount_cents], bill.id
        assert not LedgerEntry.select().where(LedgerEntry.status == "started").exists()

    @invariant()
    def deleted_accounts_are_settled_and_erased(self):
        from core import clock
        from core.billing import pending_usage
        from core.deletion import _blockers
        from core.models import (
            Account,
            BillingAddress,
            Code,
            PaymentMethod,
            RealNameRegistration,
            TrustedKey,
        )

        for account in Account.select().where(Account.status == "deleted"):
            aid = account.id
            assert _blockers(aid, clock.now()) == ()
            assert [u for u in pending_usage(aid) if not u.running] == []
            assert not BillingAddress.select().where(BillingAddress.account == aid).exists()
            assert not Code.select().where(Code.account == aid).exists()
            assert not TrustedKey.select().where(TrustedKey.account == aid).exists()
            assert not RealNameRegistration.select().where(
                RealNameRegistration.account == aid).exists()
            assert not PaymentMethod.select().where(PaymentMethod.account == aid,
                                                    PaymentMethod.removed_at.is_null()).exists()
            assert "@" not in account.email and account.password_hash == ""


Lifecycle.TestCase.settings = settings(
    max_examples=20 * SCALE, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_lifecycle(cloudacct_home):
    """Runs inside the autouse data-directory fixture; each example makes its own."""
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(Lifecycle, settings=Lifecycle.TestCase.settings)
