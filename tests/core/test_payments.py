"""F5 payment methods: card checks, saving a card with the 1.00 USD hold and its release,
every sandbox outcome, duplicates, PayPal, Paytm, default and removal, charging, and that the
card number and security code never reach the disk."""

from __future__ import annotations

import pickle
import re
from datetime import datetime, timedelta

import pytest

from core.billing_address import save_billing_address
from core.errors import (
    AuthenticationError,
    CodeError,
    DomainError,
    NotFound,
    Refused,
    StorageError,
    ValidationError,
)
from core.gateway import payment_gateway, set_payment_gateway
from core.gateway.base import GatewayDecline
from core.models import Bill, LedgerEntry, PaymentMethod, Resource
from core.payments import (
    NoPaymentMethod,
    PaymentDeclined,
    PayPalRefused,
    add_paypal,
    add_paytm,
    charge_default_method,
    check_card,
    list_payment_methods,
    paypal_cancel,
    paypal_log_on,
    paytm_offered,
    remove_method,
    save_card,
    send_paytm_code,
    set_default_method,
)
from core.sessions import require_account
from core.verify_account import confirm_code, send_code
from tests.conftest import STRONG_PASSWORD, latest_code, stepped_up

VISA = "4242 4242 4242 4242"
GOOD = "12/30"

DECLINES = [
    ("4000 0000 0000 0002", "Your card was declined."),
    ("4000 0000 0000 9995", "Your card has insufficient funds."),
    ("4000 0000 0000 0127", "Your card's security code is incorrect."),
    ("4000 0000 0000 0069", "Your card has expired."),
    ("4000 0000 0000 0119", "An error occurred while processing your card. Try again."),
]


def luhn_complete(prefix: str, length: int) -> str:
    """A number of `length` digits starting with `prefix` whose last digit makes Luhn pass."""
    body = prefix + "0" * (length - len(prefix) - 1)
    for check in "0123456789":
        candidate = body + check
        total = 0
        for i, ch in enumerate(reversed(candidate)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return candidate
    raise AssertionError


def individual(**over) -> dict:
    values = dict(account_type="individual", full_name="Alice Tan", country="SG",
                  region="SG-01", city="Singapore", street="1 Raffles Place",
                  postal_code="048616")
    values.update(over)
    return values


@pytest.fixture(autouse=True)
def sandbox():
    """The default sandbox gateway of this test's data directory (reset after the test)."""
    set_payment_gateway(None)
    yield payment_gateway()
    set_payment_gateway(None)


@pytest.fixture
def verified(active):
    token, _ = active
    send_code(token, "second_channel", "sms", "+65 8123 4567")
    confirm_code(token, "second_channel", "sms", latest_code("+65 8123 4567"), "+65 8123 4567")
    return token


@pytest.fixture
def payer(verified):
    """An active account with an Individual billing address: returns its token."""
    save_billing_address(verified, **individual())
    return verified


def _active_account(email: str, country: str, phone: str) -> str:
    from core.accounts import sign_up

    result = sign_up(country, email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    send_code(result.token, "second_channel", "sms", phone)
    confirm_code(result.token, "second_channel", "sms", latest_code(phone), phone)
    return result.token


@pytest.fixture
def indian_payer(db):
    token = _active_account("ravi@example.com", "IN", "+91 98111 22233")
    save_billing_address(token, account_type="individual", full_name="Ravi Kumar", country="IN",
                         region="IN-MH", city="Mumbai", street="1 Marine Drive",
                         postal_code="400001")
    return token


def methods() -> int:
    return PaymentMethod.select().where(PaymentMethod.removed_at.is_null()).count()


def held(gw) -> list:
    return gw.authorizations("held")


# --- check_card -------------------------------------------------------------------------------

@pytest.mark.parametrize("number, brand", [
    ("4242424242424242", "Visa"), ("5555 5555 5555 4444", "Mastercard"),
    ("2223003122003222", "Mastercard"), ("3782-822463-10005", "American Express"),
    ("6011111111111117", "Discover"), ("3566002020360505", "JCB"),
    ("6200000000000005", "UnionPay"), ("36227206271667", "Diners Club"),
    ("3056930009020004", "Diners Club"), ("6759649826438453", "Maestro"),
    (luhn_complete("6759", 12), "Maestro"), (luhn_complete("4", 19), "Visa"),
    (luhn_complete("622126", 16), "Discover"), (luhn_complete("2720", 16), "Mastercard"),
])
def test_brand_from_the_number(number, brand):
    cvv = "1234" if brand == "American Express" else "123"
    card = check_card(number, GOOD, cvv, "Alice Tan")
    assert card.brand == brand
    assert card.number == re.sub(r"\D", "", number)
    assert card.last4 == card.number[-4:]


@pytest.mark.parametrize("number", [
    "4242424242424241",  # Luhn
    "0000 0000 0000 0000", "000000000000",  # all zeros
    "4242 4242 424",  # 11 digits
    luhn_complete("4", 20),  # 20 digits
    "4242 4242 abcd 4242", "4242424242424242x",  # letters
    "４２４２４２４２４２４２４２４２",  # fullwidth digits
    "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢",  # Arabic-Indic digits
    "4242\u200b4242 4242 4242", "4242\n4242 4242 4242", "4242.4242.4242.4242",
    "", "   ", None, "4" * 10_000,
    luhn_complete("9", 16),  # no known brand
    luhn_complete("5", 16)[:0] + luhn_complete("51", 15),  # Mastercard needs 16
])
def test_bad_card_numbers(number):
    with pytest.raises(ValidationError) as info:
        check_card(number, GOOD, "123", "Alice")
    assert info.value.field == "card-number"
    if number:
        digits = re.sub(r"\D", "", number)
        assert digits[:12] not in info.value.message if len(digits) >= 12 else True


@pytest.mark.parametrize("expiry, words", [
    ("00/30", "01 to 12"), ("13/30", "01 to 12"), ("1/30", "MM/YY"), ("0130", "MM/YY"),
    ("01/2030", "MM/YY"), ("01-30", "MM/YY"), ("ab/cd", "MM/YY"), ("", "MM/YY"),
    ("11/26", "expired"), ("01/47", "20 years"), ("12/47", "20 years"),
])
def test_bad_expiry(expiry, words):
    with pytest.raises(ValidationError) as info:
        check_card(VISA, expiry, "123", "")
    assert info.value.field == "card-expiry"
    assert words in info.value.message


def test_expiry_is_valid_through_the_last_day_of_its_month(clock):
    assert (check_card(VISA, "12/26", "123", "").exp_month,
            check_card(VISA, "12/26", "123", "").exp_year) == (12, 2026)  # this month
    assert check_card(VISA, "12/46", "123", "").exp_year == 2046  # 20 years ahead
    clock.set_now(datetime(2026, 12, 31, 23, 59, 59))
    check_card(VISA, "12/26", "123", "")
    clock.set_now(datetime(2027, 1, 1, 0, 0, 0))
    with pytest.raises(ValidationError):
        check_card(VISA, "12/26", "123", "")


@pytest.mark.parametrize("number, cvv", [
    (VISA, "12"), (VISA, "12345"), (VISA, "1234"), (VISA, "12a"), (VISA, ""), (VISA, "１２３"),
    ("378282246310005", "123"), ("378282246310005", "12345"),
])
def test_bad_security_codes(number, cvv):
    with pytest.raises(ValidationError) as info:
        check_card(number, GOOD, cvv, "")
    assert info.value.field == "card-cvv"
    assert cvv not in info.value.message or not cvv


@pytest.mark.parametrize("holder", ["x" * 101, "Alice\nTan", "\x1b[2J", "a\u202eb",
                                    "Alice 4242"])
def test_bad_holder_names(holder):
    with pytest.raises(ValidationError) as info:
        check_card(VISA, GOOD, "123", holder)
    assert info.value.field == "card-holder"


@pytest.mark.parametrize("holder", ["O'Hara", "Zoë", "ねこ", "Мария", "", None])
def test_holder_names_that_are_fine(holder):
    assert check_card(VISA, GOOD, "123", holder).holder == (holder or "")


def test_card_details_never_show_the_number_or_cvv():
    from core.payments import CardDetails

    card = check_card("3782 822463 10005", GOOD, "7391", "Alice")
    for text in (repr(card), str(card), f"{card}", repr([card]), repr({"c": card})):
        assert "378282246310005" not in text and "7391" not in text
        assert "American Express •••• 0005" in text
    assert isinstance(card, CardDetails)
    with pytest.raises(TypeError):
        pickle.dumps(card)


# --- save_card --------------------------------------------------------------------------------

def test_saving_a_card_holds_and_releases_one_dollar(payer, sandbox):
    result = save_card(payer, VISA, GOOD, "123", "Alice Tan")
    method = result.method
    assert method.kind == "card" and method.display == "Visa •••• 4242"
    assert method.brand == "Visa" and method.last4 == "4242" and method.expiry == "12/30"
    assert method.is_default and method.holder_name == "Alice Tan"
    assert result.story == "Held 1.00 USD on Visa •••• 4242 — released"
    entries = list(LedgerEntry.select().order_by(LedgerEntry.id))
    assert [(e.kind, e.amount_cents, e.status, e.currency) for e in entries] == [
        ("hold", 100, "done", "USD"), ("hold_release", 100, "done", "USD")]
    assert all(e.payment_method_id == method.id for e in entries)
    assert entries[0].gateway_ref == entries[1].gateway_ref  # the same authorization
    assert result.hold.hold.kind == "hold" and result.hold.release.kind == "hold_release"
    auths = sandbox.authorizations()
    assert len(auths) == 1 and auths[0]["state"] == "voided" and auths[0]["amount_cents"] == 100
    assert sandbox.lookup(entries[0].idempotency_key).state == "voided"
    row = PaymentMethod.get_by_id(method.id)
    assert row.gateway_token == auths[0]["token"]
    assert row.fingerprint == sandbox.tokens()[0]["fingerprint"]  # the gateway's
    assert list_payment_methods(payer) == [method]


@pytest.mark.parametrize("number, cvv, display", [
    ("5555 5555 5555 4444", "123", "Mastercard •••• 4444"),
    ("3782 822463 10005", "1234", "American Express •••• 0005"),
    ("6011 1111 1111 1117", "123", "Discover •••• 1117"),
    ("4000 0000 0000 0341", "123", "Visa •••• 0341"),
    ("4111 1111 1111 1111", "123", "Visa •••• 1111"),
    ("3566002020360505", "123", "JCB •••• 0505"),
])
def test_contract_cards_that_save(payer, sandbox, number, cvv, display):
    result = save_card(payer, number, GOOD, cvv, "")
    assert result.method.display == display
    assert methods() == 1 and held(sandbox) == []


@pytest.mark.parametrize("number, reason", DECLINES)
def test_declines_give_the_reason_and_save_nothing(payer, sandbox, number, reason):
    with pytest.raises(PaymentDeclined) as info:
        save_card(payer, number, GOOD, "123", "Alice Tan")
    error = info.value
    assert error.message == reason and error.field == "payment"
    digits = number.replace(" ", "")
    assert digits not in repr(error) and digits not in str(error)
    assert methods() == 0 and PaymentMethod.select().count() == 0
    assert held(sandbox) == []
    # the attempted hold stays in the ledger as failed, with the gateway's reason
    entries = list(LedgerEntry.select())
    assert [(e.kind, e.status, e.failure_reason) for e in entries] == [("hold", "failed", reason)]
    assert all(t["revoked_at"] for t in sandbox.tokens())  # the unused token is revoked


def test_processing_error_can_be_retried(payer):
    with pytest.raises(PaymentDeclined) as info:
        save_card(payer, "4000 0000 0000 0119", GOOD, "123", "")
    assert info.value.retryable


def test_the_same_card_twice_is_refused(payer, sandbox):
    save_card(payer, VISA, GOOD, "123", "")
    with pytest.raises(ValidationError) as info:
        save_card(payer, "4242-4242-4242-4242", "01/31", "456", "Someone")
    assert info.value.field == "card-number" and "already" in info.value.message
    # The gateway tells a duplicate once the card is tokenized: that token is revoked, unheld.
    assert methods() == 1 and sorted(t["revoked_at"] is None for t in sandbox.tokens()) == [
        False, True]
    assert len(sandbox.authorizations()) == 1 and LedgerEntry.select().count() == 2


def test_another_account_may_save_the_same_card(payer, db):
    save_card(payer, VISA, GOOD, "123", "")
    other = _active_account("carol@example.com", "SG", "+65 9123 4567")
    save_billing_address(other, **individual(full_name="Carol"))
    assert save_card(other, VISA, GOOD, "123", "").method.display == "Visa •••• 4242"


def test_a_removed_card_can_be_saved_again(payer):
    first = save_card(payer, VISA, GOOD, "123", "").method
    remove_method(payer, first.id, STRONG_PASSWORD)
    assert save_card(payer, VISA, GOOD, "123", "").method.id != first.id


def test_a_card_needs_a_billing_address(verified, sandbox):
    with pytest.raises(Refused) as info:
        save_card(verified, VISA, GOOD, "123", "")
    assert "billing address" in info.value.message
    assert methods() == 0 and sandbox.tokens() == [] and LedgerEntry.select().count() == 0


def test_checks_come_before_anything_is_sent(payer, sandbox):
    with pytest.raises(ValidationError):
        save_card(payer, "4242424242424241", GOOD, "123", "")
    assert sandbox.tokens() == [] and LedgerEntry.select().count() == 0


def test_card_without_holder_takes_the_persons_own_name(verified):
    save_billing_address(verified, account_type="corporate", company_name="Tan Trading",
                         contact_name="Alice Tan", contact_phone="8123 4567",
                         contact_email="ap@tan.example", country="SG", region="SG-01",
                         city="Singapore", street="1 Raffles Place", postal_code="048616")
    assert save_card(verified, VISA, GOOD, "123", "").method.holder_name == "Alice Tan"
    assert save_card(verified, "5555555555554444", GOOD, "123", "Tan Trading").method \
        .holder_name == "Tan Trading"


def test_individual_card_without_holder_takes_the_full_name(payer):
    assert save_card(payer, VISA, GOOD, "123", "  ").method.holder_name == "Alice Tan"


def test_a_failure_after_the_hold_voids_it(payer, sandbox, monkeypatch):
    import core.payments as payments

    def broken(*args, **kwargs):
        raise StorageError("The database is full: nothing was saved.")

    monkeypatch.setattr(payments, "_store_method", broken)
    with pytest.raises(StorageError):
        save_card(payer, VISA, GOOD, "123", "")
    assert held(sandbox) == [] and methods() == 0
    assert all(t["revoked_at"] for t in sandbox.tokens())


class VoidFailsOnce:
    """The sandbox, but the first void times out."""

    def __init__(self, inner):
        self.inner = inner
        self.failed = False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def void(self, authorization_id, *, idempotency_key):
        if not self.failed:
            self.failed = True
            raise GatewayDecline("The payment gateway could not be reached.", "timeout",
                                 retryable=True)
        return self.inner.void(authorization_id, idempotency_key=idempotency_key)


def test_a_failed_release_is_retried_and_nothing_is_saved(payer, sandbox):
    set_payment_gateway(VoidFailsOnce(sandbox))
    with pytest.raises(PaymentDeclined):
        save_card(payer, VISA, GOOD, "123", "")
    assert held(sandbox) == [] and methods() == 0
    kinds = [(e.kind, e.status) for e in LedgerEntry.select().order_by(LedgerEntry.id)]
    assert kinds == [("hold", "done"), ("hold_release", "failed"), ("hold_release", "done")]


def test_first_method_is_default_and_the_default_can_change(payer):
    first = save_card(payer, VISA, GOOD, "123", "").method
    second = save_card(payer, "5555555555554444", GOOD, "123", "").method
    assert first.is_default and not second.is_default
    listed = set_default_method(payer, second.id)
    assert [m.id for m in listed] == [second.id, first.id]
    assert [m.is_default for m in listed] == [True, False]
    assert set_default_method(payer, second.id)[0].id == second.id  # again: no change


def test_set_default_of_another_accounts_method_is_not_found(payer, db):
    mine = save_card(payer, VISA, GOOD, "123", "").method
    other = _active_account("dave@example.com", "SG", "+65 9123 4567")
    for bad in (mine.id, 99999, "x", None):
        with pytest.raises(NotFound):
            set_default_method(other, bad)


# --- removal ----------------------------------------------------------------------------------

def test_remove_needs_the_password(payer, sandbox):
    method = save_card(payer, VISA, GOOD, "123", "").method
    for wrong in ("wrong password!", "", None):
        with pytest.raises(AuthenticationError) as info:
            remove_method(payer, method.id, wrong)
        assert info.value.field == "password"
    assert methods() == 1
    assert remove_method(payer, method.id, STRONG_PASSWORD) == []
    assert methods() == 0
    assert sandbox.tokens()[0]["revoked_at"] is not None


def test_removing_the_default_makes_another_default(payer):
    first = save_card(payer, VISA, GOOD, "123", "").method
    save_card(payer, "5555555555554444", GOOD, "123", "")
    third = save_card(payer, "6011111111111117", GOOD, "123", "").method
    left = remove_method(payer, first.id, STRONG_PASSWORD)
    assert [m.id for m in left if m.is_default] == [third.id]
    assert len(left) == 2


def test_another_accounts_method_cannot_be_removed(payer, db):
    mine = save_card(payer, VISA, GOOD, "123", "").method
    other = _active_account("erin@example.com", "SG", "+65 9123 4567")
    with pytest.raises(NotFound):
        remove_method(other, mine.id, STRONG_PASSWORD)
    assert methods() == 1


def _resource(token: str, state: str) -> None:
    from core import clock

    Resource.create(account=require_account(token).id, product="ecs", region="us-west-1",
                    billing_method="payg", state=state, hourly_cents=10,
                    created_at=clock.now())


def test_last_method_stays_while_resources_run(payer):
    method = save_card(payer, VISA, GOOD, "123", "").method
    _resource(payer, "running")
    with pytest.raises(Refused) as info:
        remove_method(payer, method.id, STRONG_PASSWORD)
    assert "release" in info.value.message
    assert methods() == 1
    # with a second method, one of them can go
    other = save_card(payer, "5555555555554444", GOOD, "123", "").method
    remove_method(payer, method.id, STRONG_PASSWORD)
    with pytest.raises(Refused):
        remove_method(payer, other.id, STRONG_PASSWORD)


def test_last_method_stays_while_bills_are_unpaid(payer):
    from core import clock

    method = save_card(payer, VISA, GOOD, "123", "").method
    _resource(payer, "released")
    bill = Bill.create(account=require_account(payer).id, kind="usage", description="ECS",
                       amount_cents=250, issued_at=clock.now(), status="outstanding")
    with pytest.raises(Refused) as info:
        remove_method(payer, method.id, STRONG_PASSWORD)
    assert "unpaid" in info.value.message
    Bill.update(status="paid").where(Bill.id == bill.id).execute()
    assert remove_method(payer, method.id, STRONG_PASSWORD) == []


# --- charging ---------------------------------------------------------------------------------

def _account_id(token: str) -> int:
    return require_account(token).id


def test_charge_default_method(payer, sandbox):
    save_card(payer, VISA, GOOD, "123", "")
    entry = charge_default_method(_account_id(payer), 1234, "ECS in us-west-1",
                                  idempotency_key="order-1")
    assert entry.kind == "charge" and entry.status == "done" and entry.amount_cents == 1234
    assert entry.amount == "12.34 USD" and entry.gateway_ref.startswith("ch_")
    again = charge_default_method(_account_id(payer), 1234, "ECS in us-west-1",
                                  idempotency_key="order-1")
    assert again == entry
    assert len(sandbox.charges()) == 1
    assert LedgerEntry.select().where(LedgerEntry.kind == "charge").count() == 1


def test_charge_links_the_bill(payer):
    from core import clock

    save_card(payer, VISA, GOOD, "123", "")
    bill = Bill.create(account=_account_id(payer), kind="usage", description="ECS",
                       amount_cents=99, issued_at=clock.now())
    entry = charge_default_method(_account_id(payer), 99, "ECS", bill_id=bill.id,
                                  idempotency_key="bill-1-1")
    assert entry.bill_id == bill.id


def test_0341_saves_but_charges_are_declined(payer, sandbox):
    save_card(payer, "4000 0000 0000 0341", GOOD, "123", "")
    with pytest.raises(PaymentDeclined) as info:
        charge_default_method(_account_id(payer), 500, "ECS", idempotency_key="k1")
    assert info.value.message == "Your card was declined."
    failed = LedgerEntry.get(LedgerEntry.idempotency_key == "k1")
    assert (failed.kind, failed.status, failed.failure_reason) == (
        "charge_failed", "failed", "Your card was declined.")
    with pytest.raises(PaymentDeclined):  # the same key: the same answer, no new call
        charge_default_method(_account_id(payer), 500, "ECS", idempotency_key="k1")
    assert len(sandbox.charges()) == 1


def test_charge_without_a_method(payer, sandbox):
    with pytest.raises(NoPaymentMethod) as info:
        charge_default_method(_account_id(payer), 500, "ECS", idempotency_key="k")
    assert isinstance(info.value, PaymentDeclined)
    assert LedgerEntry.select().count() == 0 and sandbox.charges() == []


def test_a_charge_interrupted_after_the_gateway_is_completed_once(payer, sandbox):
    """A crash after the gateway charged but before the ledger said so: the retry with the
    same key gets the first charge back, and money moves once."""
    from core import clock

    method = save_card(payer, VISA, GOOD, "123", "").method
    row = PaymentMethod.get_by_id(method.id)
    LedgerEntry.create(account=_account_id(payer), payment_method=method.id, kind="charge",
                       amount_cents=700, description="ECS", idempotency_key="crash-1",
                       status="started", created_at=clock.now())
    sandbox.charge(row.gateway_token, 700, idempotency_key="crash-1")
    entry = charge_default_method(_account_id(payer), 700, "ECS", idempotency_key="crash-1")
    assert entry.status == "done"
    assert len(sandbox.charges()) == 1


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", True])
def test_charge_amounts_are_positive_integer_cents(payer, amount):
    save_card(payer, VISA, GOOD, "123", "")
    with pytest.raises(ValueError):
        charge_default_method(_account_id(payer), amount, "x", idempotency_key="k")


# --- PayPal -----------------------------------------------------------------------------------

def test_paypal_is_added_after_log_on_and_agreement(payer):
    session = paypal_log_on(payer, "buyer@example.com", "sandbox-pass")
    method = add_paypal(payer, session)
    assert method.kind == "paypal" and method.display == "PayPal b•••r@example.com"
    assert method.is_default and method.last4 is None
    assert list_payment_methods(payer) == [method]
    entry = charge_default_method(_account_id(payer), 300, "OSS", idempotency_key="pp-1")
    assert entry.status == "done"


@pytest.mark.parametrize("email, password", [("buyer@example.com", "wrong-pass"),
                                             ("someone@example.com", "sandbox-pass"),
                                             ("buyer@example.com", "x" * 300)])
def test_paypal_wrong_credentials(payer, email, password):
    with pytest.raises(PayPalRefused) as info:
        paypal_log_on(payer, email, password)
    assert info.value.field == "paypal"
    assert "Check your email address and password" in info.value.message
    assert password not in str(info.value)
    assert methods() == 0


@pytest.mark.parametrize("email, password, field", [
    ("", "sandbox-pass", "paypal-email"), ("   ", "x", "paypal-email"),
    ("buyer@example.com\r\nBcc: x", "sandbox-pass", "paypal-email"),
    ("buyer@example.com", "", "paypal-password"), ("buyer@example.com", None, "paypal-password"),
])
def test_paypal_empty_fields(payer, email, password, field):
    with pytest.raises(ValidationError) as info:
        paypal_log_on(payer, email, password)
    assert info.value.field == field


def test_paypal_cancel_adds_nothing(payer):
    session = paypal_log_on(payer, "buyer@example.com", "sandbox-pass")
    paypal_cancel(session)
    with pytest.raises(PayPalRefused):
        add_paypal(payer, session)
    with pytest.raises(PayPalRefused):
        add_paypal(payer, "made-up-session")
    assert methods() == 0


def test_paypal_session_is_short_lived(payer, clock):
    session = paypal_log_on(payer, "buyer@example.com", "sandbox-pass")
    clock.advance(timedelta(minutes=16))
    with pytest.raises(PayPalRefused):
        add_paypal(stepped_up(payer), session)
    assert methods() == 0


def test_the_same_paypal_twice_is_refused(payer, sandbox):
    add_paypal(payer, paypal_log_on(payer, "buyer@example.com", "sandbox-pass"))
    with pytest.raises(Refused):
        add_paypal(payer, paypal_log_on(payer, "buyer@example.com", "sandbox-pass"))
    assert methods() == 1
    assert sum(1 for t in sandbox.tokens() if t["revoked_at"] is None) == 1


def test_paypal_needs_a_billing_address(verified):
    with pytest.raises(Refused):
        paypal_log_on(verified, "buyer@example.com", "sandbox-pass")


# --- Paytm ------------------------------------------------------------------------------------

def test_paytm_is_only_for_india(payer):
    assert not paytm_offered(payer)
    with pytest.raises(Refused) as info:
        send_paytm_code(payer, "+91 98765 43210")
    assert "India" in info.value.message
    with pytest.raises(Refused):
        add_paytm(payer, "+91 98765 43210", "123456")
    assert methods() == 0


def test_paytm_code_by_sms_then_add_now(indian_payer):
    assert paytm_offered(indian_payer)
    state = send_paytm_code(indian_payer, "98765 43210")
    assert state.destination_masked == "+91••••••••10" and state.status.sent
    method = add_paytm(indian_payer, "+91 98765-43210", latest_code("+919876543210"))
    assert method.kind == "paytm" and method.display == "Paytm +91••••••••10"
    assert method.is_default
    with pytest.raises(ValidationError) as info:  # the same number again
        send_paytm_code(indian_payer, "+919876543210")
    assert info.value.field == "paytm-phone"


@pytest.mark.parametrize("phone", ["+91 98765 4321", "+91 98765 432101", "+91 58765 43210",
                                   "987654321", "98765432101", "+1 650 253 0000", "abc",
                                   "+91 98765\n43210", "", "９８７６５４３２１０"])
def test_paytm_numbers_must_be_indian_mobiles(indian_payer, phone):
    with pytest.raises(ValidationError) as info:
        send_paytm_code(indian_payer, phone)
    assert info.value.field == "paytm-phone"


def test_paytm_wrong_code_adds_nothing(indian_payer):
    send_paytm_code(indian_payer, "+919876543210")
    code = latest_code("+919876543210")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(CodeError) as info:
        add_paytm(indian_payer, "+919876543210", wrong)
    assert info.value.field == "paytm-code"
    for bad in ("12345", "abcdef", "", "１２３４５６"):
        with pytest.raises(ValidationError) as info:
            add_paytm(indian_payer, "+919876543210", bad)
        assert info.value.field == "paytm-code"
    assert methods() == 0
    with pytest.raises(CodeError):  # a code for another number does not link this one
        add_paytm(indian_payer, "+919876543211", code)
    assert add_paytm(indian_payer, "+919876543210", code).kind == "paytm"


def test_paytm_resend_cooldown_is_beside_the_code(indian_payer):
    send_paytm_code(indian_payer, "+919876543210")
    with pytest.raises(DomainError) as info:
        send_paytm_code(indian_payer, "+919876543210")
    assert info.value.field == "paytm-code"


# --- secrets never reach the disk -------------------------------------------------------------

SECRET_NUMBERS = ["378282246310005", "4000000000000002", "4000000000000127",
                  "5555555555554444"]


def _stored_outside_hex(data: bytes, needle: bytes) -> bool:
    """Whether `needle` occurs other than inside a long hex run (keyed hashes, gateway ids, the
    12-hex random part of an outbox file's name, where a short digit string turns up by
    chance)."""
    hexdigits = b"0123456789abcdefABCDEF"
    start = data.find(needle)
    while start != -1:
        left, right = start, start + len(needle)
        while left > 0 and data[left - 1] in hexdigits:
            left -= 1
        while right < len(data) and data[right] in hexdigits:
            right += 1
        if right - left < 12:
            return True
        start = data.find(needle, start + 1)
    return False


def _everything_on_disk(home) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in sorted(home.rglob("*")) if p.is_file()]


@pytest.mark.sqlite_only
def test_no_card_number_or_cvv_anywhere_on_disk(payer, sandbox, cloudacct_home, db):
    from core.db import database

    attempts = [
        ("3782 822463 10005", "7391"),  # saved
        ("5555-5555-5555-4444", "739"),  # saved
        ("4000 0000 0000 0002", "739"),  # declined
        ("4000 0000 0000 0127", "739"),  # declined
        ("3782 822463 10005", "7391"),  # duplicate
        ("3782 822463 10005", "739"),  # wrong CVV length
        ("4000000000000002", "73"),  # too short
    ]
    errors = []
    for number, cvv in attempts:
        try:
            save_card(payer, number, GOOD, cvv, "Alice Tan")
        except DomainError as exc:
            errors.append(exc)
    assert methods() == 2 and len(errors) == 5
    for exc in errors:
        for text in (str(exc), repr(exc), exc.message):
            assert not any(n in re.sub(r"[ -]", "", text) for n in SECRET_NUMBERS)
    database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
    files = _everything_on_disk(cloudacct_home)
    names = [name for name, _ in files]
    assert any(name.endswith("sandbox-gateway.db") for name in names)
    assert any(name.endswith("cloudacct.db") for name in names)
    for name, data in files:
        for number in SECRET_NUMBERS:
            spaced = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
            for form in (number, spaced, "3782 822463 10005", "5555-5555-5555-4444"):
                assert form.encode() not in data, (name, form)
                assert form.encode("utf-16-le") not in data, (name, form)
        for cvv in (b"7391", b"739"):
            assert not _stored_outside_hex(data, cvv), (name, cvv)
        assert b"cvv" not in data.lower().replace(b"invalid_cvc", b""), name

