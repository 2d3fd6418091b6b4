"""The sandbox payment gateway on its own: every CONTRACT test card, idempotency by key, its own
SQLite file outside cloudacct's database, PayPal and Paytm sandboxes."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest

from core.gateway import payment_gateway, set_payment_gateway
from core.gateway.base import GatewayDecline
from core.gateway.sandbox import SandboxGateway

FUTURE = (12, 2030)

OK_CARDS = [
    ("4242 4242 4242 4242", "Visa", "123"),
    ("5555 5555 5555 4444", "Mastercard", "123"),
    ("3782 822463 10005", "American Express", "1234"),
    ("6011 1111 1111 1117", "Discover", "123"),
    ("4000 0000 0000 0341", "Visa", "123"),
    ("4111 1111 1111 1111", "Visa", "123"),  # any other valid number
]

DECLINED = [
    ("4000000000000002", "card_declined", "Your card was declined."),
    ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
    ("4000000000000127", "incorrect_cvc", "Your card's security code is incorrect."),
    ("4000000000000069", "expired_card", "Your card has expired."),
    ("4000000000000119", "processing_error",
     "An error occurred while processing your card. Try again."),
]


@pytest.fixture
def gw(cloudacct_home):
    return SandboxGateway()


def tokenize(gw, number, cvv="123"):
    return gw.tokenize_card(number, FUTURE[0], FUTURE[1], cvv, "Alice Tan")


# --- where it lives ---------------------------------------------------------------------------

def test_default_gateway_is_the_sandbox_in_the_data_directory(cloudacct_home):
    gateway = payment_gateway()
    assert isinstance(gateway, SandboxGateway)
    assert gateway.path == cloudacct_home / "sandbox-gateway.db"
    tokenize(gateway, "4242424242424242")
    assert gateway.path.exists()
    conn = sqlite3.connect(gateway.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        columns = {row[1] for row in conn.execute("PRAGMA table_info(tokens)")}
    finally:
        conn.close()
    assert not {"number", "pan", "cvv", "cvc"} & columns


def test_set_payment_gateway_swaps_and_none_restores(cloudacct_home, tmp_path):
    other = SandboxGateway(tmp_path / "elsewhere.db")
    set_payment_gateway(other)
    try:
        assert payment_gateway() is other
    finally:
        set_payment_gateway(None)
    assert isinstance(payment_gateway(), SandboxGateway) and payment_gateway() is not other


def test_state_persists_across_instances(gw):
    token = tokenize(gw, "4242424242424242").token
    auth = gw.authorize(token, 100, idempotency_key="k1")
    again = SandboxGateway()
    assert again.authorize(token, 100, idempotency_key="k1") == auth
    assert len(again.authorizations()) == 1


# --- cards ------------------------------------------------------------------------------------

@pytest.mark.parametrize("number, brand, cvv", OK_CARDS)
def test_good_cards_tokenize_and_hold(gw, number, brand, cvv):
    card = tokenize(gw, number, cvv)
    digits = number.replace(" ", "")
    assert card.brand == brand and card.last4 == digits[-4:]
    assert (card.exp_month, card.exp_year) == FUTURE
    auth = gw.authorize(card.token, 100, idempotency_key="hold-1")
    assert auth.amount_cents == 100 and auth.currency == "USD"
    assert [a["state"] for a in gw.authorizations()] == ["held"]
    gw.void(auth.id, idempotency_key="void-1")
    assert [a["state"] for a in gw.authorizations()] == ["voided"]
    assert gw.authorizations("held") == []


@pytest.mark.parametrize("number, code, reason", DECLINED)
def test_declining_cards_tokenize_but_decline_at_authorize(gw, number, code, reason):
    card = tokenize(gw, number)  # well formed: the gateway takes it
    with pytest.raises(GatewayDecline) as info:
        gw.authorize(card.token, 100, idempotency_key="hold-1")
    assert info.value.reason == reason and info.value.code == code
    assert str(info.value) == reason and number not in repr(info.value)
    assert info.value.retryable == (code == "processing_error")
    assert gw.authorizations("held") == []
    assert [a["state"] for a in gw.authorizations()] == ["declined"]


@pytest.mark.parametrize("number, code, reason", DECLINED)
def test_declining_cards_decline_charges_too(gw, number, code, reason):
    card = tokenize(gw, number)
    with pytest.raises(GatewayDecline) as info:
        gw.charge(card.token, 500, idempotency_key="c1")
    assert info.value.reason == reason
    assert [c["state"] for c in gw.charges()] == ["declined"]


def test_0341_holds_but_every_charge_is_declined(gw):
    card = tokenize(gw, "4000000000000341")
    auth = gw.authorize(card.token, 100, idempotency_key="h")
    gw.void(auth.id, idempotency_key="v")
    for key in ("c1", "c2", "c3"):
        with pytest.raises(GatewayDecline) as info:
            gw.charge(card.token, 999, idempotency_key=key)
        assert info.value.reason == "Your card was declined."
    assert {c["state"] for c in gw.charges()} == {"declined"}


@pytest.mark.parametrize("number", ["4242424242424241", "0000000000000000", "42424242424",
                                    "42424242424242424242", "4242abcd42424242", ""])
def test_malformed_numbers_are_refused_at_tokenize(gw, number):
    with pytest.raises(GatewayDecline) as info:
        tokenize(gw, number)
    assert info.value.code == "incorrect_number"
    assert gw.tokens() == []


def test_expiry_and_cvv_are_checked_at_tokenize(gw, clock):
    with pytest.raises(GatewayDecline) as info:
        gw.tokenize_card("4242424242424242", 11, 2026, "123", "")  # last month (Dec 2026 now)
    assert info.value.code == "invalid_expiry"
    gw.tokenize_card("4242424242424242", 12, 2026, "123", "")  # this month is fine
    with pytest.raises(GatewayDecline) as info:
        gw.tokenize_card("378282246310005", 12, 2030, "123", "")
    assert info.value.code == "invalid_cvc"
    with pytest.raises(GatewayDecline):
        gw.tokenize_card("4242424242424242", 12, 2030, "1234", "")


def test_sandbox_stores_no_number_and_no_cvv(gw):
    tokenize(gw, "5555-5555-5555-4444", "739")
    row = gw.tokens()[0]
    assert row["last4"] == "4444" and row["brand"] == "Mastercard" and row["behaviour"] == "ok"
    data = b"".join(p.read_bytes() for p in gw.path.parent.glob("sandbox-gateway.db*"))
    assert b"5555555555554444" not in data and b"5555 5555 5555 4444" not in data


def test_a_stored_card_that_expires_is_declined_later(gw, clock):
    card = gw.tokenize_card("4242424242424242", 12, 2026, "123", "")
    gw.charge(card.token, 100, idempotency_key="c1")
    clock.advance(timedelta(days=31))
    with pytest.raises(GatewayDecline) as info:
        gw.charge(card.token, 100, idempotency_key="c2")
    assert info.value.code == "expired_card"


# --- idempotency ------------------------------------------------------------------------------

def test_same_key_charges_once(gw):
    card = tokenize(gw, "4242424242424242")
    first = gw.charge(card.token, 1234, idempotency_key="bill-1-1", description="ECS")
    second = gw.charge(card.token, 1234, idempotency_key="bill-1-1", description="ECS")
    assert first == second
    assert len(gw.charges()) == 1 and gw.charges()[0]["amount_cents"] == 1234
    assert gw.lookup("bill-1-1").state == "succeeded"
    gw.charge(card.token, 1234, idempotency_key="bill-1-2")
    assert len(gw.charges()) == 2


def test_same_key_authorizes_once_and_a_decline_replays(gw):
    good = tokenize(gw, "4242424242424242")
    assert gw.authorize(good.token, 100, idempotency_key="a") == \
        gw.authorize(good.token, 100, idempotency_key="a")
    bad = tokenize(gw, "4000000000000002")
    for _ in range(2):
        with pytest.raises(GatewayDecline) as info:
            gw.authorize(bad.token, 100, idempotency_key="b")
        assert info.value.code == "card_declined"
    assert len(gw.authorizations()) == 2
    record = gw.lookup("b")
    assert record.state == "declined" and record.extra["decline_code"] == "card_declined"


def test_a_key_reused_for_another_request_is_refused(gw):
    card = tokenize(gw, "4242424242424242")
    gw.charge(card.token, 100, idempotency_key="k")
    with pytest.raises(GatewayDecline) as info:
        gw.charge(card.token, 200, idempotency_key="k")
    assert info.value.code == "idempotency_mismatch"
    with pytest.raises(GatewayDecline):
        gw.authorize(card.token, 100, idempotency_key="k")
    assert len(gw.charges()) == 1 and gw.authorizations() == []


def test_concurrent_calls_with_one_key_move_money_once(gw):
    card = tokenize(gw, "4242424242424242")
    results, errors = [], []

    def pay():
        try:
            results.append(gw.charge(card.token, 700, idempotency_key="same"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({r.id for r in results}) == 1 and len(gw.charges()) == 1


def test_void_is_idempotent_and_unknown_authorizations_are_refused(gw):
    card = tokenize(gw, "4242424242424242")
    auth = gw.authorize(card.token, 100, idempotency_key="a")
    gw.void(auth.id, idempotency_key="v")
    gw.void(auth.id, idempotency_key="v")
    gw.void(auth.id, idempotency_key="v2")  # already voided: nothing more happens
    assert [a["state"] for a in gw.authorizations()] == ["voided"]
    with pytest.raises(GatewayDecline):
        gw.void("auth_nope", idempotency_key="v3")


def test_refunds_partial_capped_and_idempotent(gw):
    card = tokenize(gw, "4242424242424242")
    charge = gw.charge(card.token, 1000, idempotency_key="c")
    refund = gw.refund(charge.id, 400, idempotency_key="r1")
    assert gw.refund(charge.id, 400, idempotency_key="r1") == refund
    gw.refund(charge.id, 600, idempotency_key="r2")
    with pytest.raises(GatewayDecline):
        gw.refund(charge.id, 1, idempotency_key="r3")
    assert len(gw.refunds()) == 2 and gw.charges()[0]["refunded_cents"] == 1000
    with pytest.raises(GatewayDecline):
        gw.refund("ch_nope", 1, idempotency_key="r4")


@pytest.mark.parametrize("amount", [0, -100, 1.5, True, "100"])
def test_amounts_are_positive_integer_cents(gw, amount):
    card = tokenize(gw, "4242424242424242")
    with pytest.raises(GatewayDecline) as info:
        gw.charge(card.token, amount, idempotency_key="c")
    assert info.value.code == "invalid_amount"
    assert gw.charges() == []


def test_revoked_tokens_cannot_be_used(gw):
    card = tokenize(gw, "4242424242424242")
    gw.revoke(card.token)
    gw.revoke(card.token)  # twice is fine
    with pytest.raises(GatewayDecline) as info:
        gw.authorize(card.token, 100, idempotency_key="a")
    assert info.value.code == "token_revoked"
    with pytest.raises(GatewayDecline):
        gw.charge(card.token, 100, idempotency_key="c")
    assert gw.lookup("nothing") is None


# --- PayPal and Paytm -------------------------------------------------------------------------

def test_paypal_buyer_logs_on_and_agrees_once(gw):
    session = gw.paypal_log_on(" Buyer@Example.com ", "sandbox-pass")
    agreement = gw.paypal_agree(session)
    assert agreement.email == "buyer@example.com" and agreement.token
    with pytest.raises(GatewayDecline):
        gw.paypal_agree(session)  # used
    charge = gw.charge(agreement.token, 100, idempotency_key="pp")
    assert charge.amount_cents == 100


@pytest.mark.parametrize("email, password", [("buyer@example.com", "wrong"),
                                             ("other@example.com", "sandbox-pass"),
                                             ("", ""), ("buyer@example.com", "Sandbox-pass")])
def test_paypal_refuses_other_credentials(gw, email, password):
    with pytest.raises(GatewayDecline) as info:
        gw.paypal_log_on(email, password)
    assert "Check your email address and password" in info.value.reason


def test_paypal_session_expires_and_cancel_ends_it(gw, clock):
    session = gw.paypal_log_on("buyer@example.com", "sandbox-pass")
    clock.advance(timedelta(minutes=16))
    with pytest.raises(GatewayDecline):
        gw.paypal_agree(session)
    cancelled = gw.paypal_log_on("buyer@example.com", "sandbox-pass")
    gw.paypal_cancel(cancelled)
    with pytest.raises(GatewayDecline):
        gw.paypal_agree(cancelled)
    with pytest.raises(GatewayDecline):
        gw.paypal_agree("made-up")


def test_paytm_links_indian_mobiles_only(gw):
    link = gw.paytm_link("+919876543210")
    assert link.phone == "+919876543210" and link.token
    for bad in ("+91987654321", "+9198765432101", "+915876543210", "+6581234567", ""):
        with pytest.raises(GatewayDecline):
            gw.paytm_link(bad)
