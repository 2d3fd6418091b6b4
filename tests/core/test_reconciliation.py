"""Issue 7, item 1: reconciliation finishes what a crash left half-done between the ledger and
the gateway. Each crash point is simulated by a BaseException (like SIGKILL, nothing after it
runs in the flow) raised just before or just after the gateway call; then `reconcile()` must
leave no hold at the gateway, record every charge exactly once, and change nothing when run
again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.billing_address import save_billing_address
from core.gateway import payment_gateway, set_payment_gateway
from core.models import Bill, LedgerEntry, PaymentMethod, Resource
from core.reconciliation import reconcile
from core.sessions import require_account
from tests.core.test_payments import VISA, individual
from tests.core.test_payments import verified as verified  # noqa: F401 (a fixture)

NOW = timedelta(0)


class Crash(BaseException):
    """The process dies here: not an Exception, so no `except Exception` catches it."""


class CrashingGateway:
    """The sandbox, but `method` dies before (`when='before'`) or after the real call, once."""

    def __init__(self, inner, method: str, when: str) -> None:
        self.inner, self.method, self.when, self.crashed = inner, method, when, False

    def __getattr__(self, name):
        real = getattr(self.inner, name)
        if name != self.method or self.crashed:
            return real

        def crashing(*args, **kwargs):
            self.crashed = True
            if self.when == "before":
                raise Crash(name)
            real(*args, **kwargs)
            raise Crash(name)

        return crashing


@pytest.fixture(autouse=True)
def sandbox():
    set_payment_gateway(None)
    yield payment_gateway()
    set_payment_gateway(None)


@pytest.fixture
def payer(verified):  # noqa: F811
    save_billing_address(verified, **individual())
    return verified


@pytest.fixture
def account(payer) -> int:
    return require_account(payer).id


def crash_in(sandbox, method: str, when: str = "after") -> None:
    set_payment_gateway(CrashingGateway(sandbox, method, when))


def recover(sandbox):
    """After the crash: the real gateway again, reconcile, and check a second run is a no-op."""
    set_payment_gateway(None)
    report = reconcile(older_than=NOW)
    assert report.errors == ()
    again = reconcile(older_than=NOW)
    assert again.fixes == (), again.lines()
    assert sandbox.authorizations("held") == []
    assert not LedgerEntry.select().where(LedgerEntry.status == "started").exists()
    return report


def card_token(sandbox) -> str:
    return sandbox.tokenize_card("4242424242424242", 12, 2030, "123", "Alice").token


def ledger() -> list[tuple[str, str]]:
    return [(e.kind, e.status) for e in LedgerEntry.select().order_by(LedgerEntry.id)]


# --- holds -------------------------------------------------------------------------------------

def test_crash_after_the_hold_is_placed_before_it_is_recorded(account, sandbox):
    from core.payments import place_preauthorization_hold

    token = card_token(sandbox)
    crash_in(sandbox, "authorize")
    with pytest.raises(Crash):
        place_preauthorization_hold(account, token, "Visa •••• 4242")
    assert ledger() == [("hold", "started")] and len(sandbox.authorizations("held")) == 1
    report = recover(sandbox)
    assert report.count("hold_recorded") == 1 and report.count("hold_released") == 1
    assert ledger() == [("hold", "done"), ("hold_release", "done")]
    hold, release = LedgerEntry.select().order_by(LedgerEntry.id)
    assert hold.gateway_ref == release.gateway_ref == sandbox.authorizations()[0]["id"]


def test_crash_before_the_hold_reaches_the_gateway(account, sandbox):
    from core.payments import place_preauthorization_hold

    token = card_token(sandbox)
    crash_in(sandbox, "authorize", "before")
    with pytest.raises(Crash):
        place_preauthorization_hold(account, token, "Visa •••• 4242")
    recover(sandbox)
    assert ledger() == [("hold", "failed")] and sandbox.authorizations() == []


def test_crash_between_the_hold_and_its_release(account, sandbox):
    """A save_card killed after the hold: nothing released it."""
    from core.payments import place_preauthorization_hold

    place_preauthorization_hold(account, card_token(sandbox), "Visa •••• 4242")
    assert len(sandbox.authorizations("held")) == 1
    report = recover(sandbox)
    assert report.count("hold_released") == 1
    assert ledger() == [("hold", "done"), ("hold_release", "done")]


@pytest.mark.parametrize("when", ["before", "after"])
def test_crash_around_the_release(account, sandbox, when):
    from core.payments import place_preauthorization_hold, release_preauthorization_hold

    _, auth = place_preauthorization_hold(account, card_token(sandbox), "Visa •••• 4242")
    crash_in(sandbox, "void", when)
    with pytest.raises(Crash):
        release_preauthorization_hold(account, auth, "Visa •••• 4242")
    assert ledger() == [("hold", "done"), ("hold_release", "started")]
    recover(sandbox)
    # the interrupted release itself is finished (with its own key): no second release entry
    assert ledger() == [("hold", "done"), ("hold_release", "done")]
    assert [a["state"] for a in sandbox.authorizations()] == ["voided"]


def test_save_card_killed_after_the_hold(payer, sandbox, monkeypatch):
    """The real flow: save_card dies right after the gateway placed the hold."""
    from core.payments import save_card

    crash_in(sandbox, "authorize")
    with pytest.raises(Crash):
        save_card(payer, VISA, "12/30", "123", "")
    recover(sandbox)
    assert PaymentMethod.select().count() == 0
    assert ledger() == [("hold", "done"), ("hold_release", "done")]


def test_a_hold_the_ledger_never_knew_is_voided(account, sandbox, db):
    sandbox.authorize(card_token(sandbox), 100, idempotency_key="lost-hold")
    report = recover(sandbox)
    assert report.count("orphan_hold_voided") == 1


def test_a_hold_still_in_flight_is_left_to_its_flow(account, sandbox, clock):
    from core.payments import place_preauthorization_hold

    place_preauthorization_hold(account, card_token(sandbox), "Visa •••• 4242")
    assert reconcile().fixes == ()  # just placed: save_card is about to release it
    assert len(sandbox.authorizations("held")) == 1
    clock.advance(timedelta(minutes=5))
    assert reconcile().count("hold_released") == 1
    assert sandbox.authorizations("held") == []


# --- charges -----------------------------------------------------------------------------------

@pytest.fixture
def card(payer):
    from core.payments import save_card

    return save_card(payer, VISA, "12/30", "123", "").method


def test_crash_after_the_gateway_charged_records_it_once(account, card, sandbox):
    from core.payments import charge_default_method

    crash_in(sandbox, "charge")
    with pytest.raises(Crash):
        charge_default_method(account, 700, "ECS", idempotency_key="k-1")
    assert LedgerEntry.get(LedgerEntry.idempotency_key == "k-1").status == "started"
    report = recover(sandbox)
    assert report.count("charge_recorded") == 1
    entry = LedgerEntry.get(LedgerEntry.idempotency_key == "k-1")
    assert entry.status == "done" and entry.gateway_ref == sandbox.charges()[0]["id"]
    assert len(sandbox.charges()) == 1


def test_a_charge_the_gateway_never_saw_is_marked_failed(account, card, sandbox):
    from core.payments import charge_default_method

    crash_in(sandbox, "charge", "before")
    with pytest.raises(Crash):
        charge_default_method(account, 700, "ECS", idempotency_key="k-1")
    recover(sandbox)
    entry = LedgerEntry.get(LedgerEntry.idempotency_key == "k-1")
    assert (entry.kind, entry.status) == ("charge_failed", "failed")
    assert sandbox.charges() == []


def _bill(account: int, cents: int = 4200) -> Bill:
    from core import clock

    return Bill.create(account=account, kind="usage", description="usage", amount_cents=cents,
                       issued_at=clock.now(), status="outstanding")


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_bill_charge_interrupted_is_paid_once(account, card, sandbox, when):
    from core.billing import _charge_bill

    bill = _bill(account)
    crash_in(sandbox, "charge", when)
    with pytest.raises(Crash):
        _charge_bill(bill.id)
    assert Bill.get_by_id(bill.id).status == "outstanding"
    recover(sandbox)
    assert Bill.get_by_id(bill.id).status == "paid"
    charges = [c for c in sandbox.charges() if c["state"] == "succeeded"]
    assert [c["amount_cents"] for c in charges] == [4200]
    entries = LedgerEntry.select().where(LedgerEntry.bill == bill.id)
    assert [(e.kind, e.status, e.idempotency_key) for e in entries] == [
        ("charge", "done", f"bill-{bill.id}-1")]


def test_a_paid_bill_is_not_charged_by_the_billing_run_after_reconcile(account, card, sandbox,
                                                                       clock):
    from core.billing import _charge_bill
    from core.billing_run import run_billing

    bill = _bill(account)
    crash_in(sandbox, "charge")
    with pytest.raises(Crash):
        _charge_bill(bill.id)
    recover(sandbox)
    clock.advance(timedelta(minutes=1))
    run_billing()
    assert len(sandbox.charges()) == 1


# --- purchases -----------------------------------------------------------------------------------

def test_a_purchase_killed_after_the_charge_is_refunded(payer, card, sandbox):
    from core.products import place_order

    crash_in(sandbox, "charge")
    with pytest.raises(Crash):
        place_order(payer, "ecs", "ap-southeast-1", "subscription", "1")
    assert Resource.select().count() == 0
    report = recover(sandbox)
    assert report.count("charge_recorded") == 1 and report.count("refund") == 1
    (charge,) = sandbox.charges()
    assert sandbox.refunds()[0]["amount_cents"] == charge["amount_cents"]
    kinds = [k for k, s in ledger() if s == "done" and k in ("charge", "refund")]
    assert kinds == ["charge", "refund"]


def test_a_purchase_killed_before_it_is_recorded_is_refunded(payer, card, sandbox, monkeypatch):
    import core.products as products

    def killed(*args, **kwargs):
        raise Crash("recording")

    monkeypatch.setattr(products.Resource, "create", killed)
    with pytest.raises(Crash):
        products.place_order(payer, "ecs", "ap-southeast-1", "subscription", "1")
    monkeypatch.undo()
    report = recover(sandbox)
    assert report.count("refund") == 1
    assert sandbox.charges()[0]["refunded_cents"] == sandbox.charges()[0]["amount_cents"]


def test_a_recorded_purchase_is_left_alone(payer, card, sandbox):
    from core.products import place_order

    place_order(payer, "ecs", "ap-southeast-1", "subscription", "1")
    assert recover(sandbox).fixes == ()
    assert sandbox.refunds() == []


def test_billing_run_command_reconciles_first(account, sandbox, capsys):
    from core.payments import place_preauthorization_hold
    from tui.cli import main

    place_preauthorization_hold(account, card_token(sandbox), "Visa •••• 4242")
    from core import clock

    clock.advance(timedelta(minutes=5))
    assert main(["billing", "run"]) == 0
    out = capsys.readouterr().out
    assert "released" in out and "Reconciliation:" in out
    assert sandbox.authorizations("held") == []
