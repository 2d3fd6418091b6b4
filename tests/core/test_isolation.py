"""Security (issue 7, item 6): account isolation, code brute force, identical log-on refusals,
and no card number, security code, password or one-time code left in the data directory."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import CodeError, DomainError, LockedError, NotFound, RateLimitError
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.test_products import account_of, activate, add_address


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


def _snapshot(account_id: int) -> dict:
    """Every row that belongs to the account, as stored."""
    from core.models import (
        Account,
        Bill,
        BillingAddress,
        LedgerEntry,
        PaymentMethod,
        Resource,
        TrustedKey,
    )

    out = {"account": Account.get_by_id(account_id).__data__}
    for model in (Bill, BillingAddress, LedgerEntry, PaymentMethod, Resource, TrustedKey):
        out[model.__name__] = [dict(r.__data__) for r in
                               model.select().where(model.account == account_id)
                               .order_by(model.id)]
    return out


@pytest.fixture
def two_accounts(db):
    """A and B, each with an address, two cards, a PAYG and a subscription, a trusted key."""
    from core.accounts import log_on
    from core.payments import save_card
    from core.products import place_order
    from core.security import trust_current_key

    tokens = {}
    for name, email, key in (("A", "a@example.com", "SHA256:aaaa"),
                             ("B", "b@example.com", "SHA256:bbbb")):
        token = activate(email)
        add_address(account_of(token).id)
        save_card(token, "4242 4242 4242 4242", "12/30", "123", "Card Holder")
        save_card(token, "5555 5555 5555 4444", "12/30", "123", "Card Holder")
        place_order(token, "ecs", "us-west-1", "payg")
        place_order(token, "oss", "us-west-1", "subscription", 1, True)
        keyed = log_on(email, STRONG_PASSWORD, key_fingerprint=key).token
        trust_current_key(keyed, f"{name}'s laptop")
        tokens[name] = token
    return tokens["A"], tokens["B"]


def _ids_of(account_id: int) -> dict[str, list[int]]:
    from core.models import Bill, PaymentMethod, Resource, TrustedKey

    return {
        "resource": [r.id for r in Resource.select().where(Resource.account == account_id)],
        "method": [m.id for m in PaymentMethod.select().where(
            PaymentMethod.account == account_id)],
        "key": [k.id for k in TrustedKey.select().where(TrustedKey.account == account_id)],
        "bill": [b.id for b in Bill.select().where(Bill.account == account_id)],
    }


def test_a_session_can_never_change_or_read_another_accounts_objects(two_accounts):
    from core.payments import remove_method, set_default_method
    from core.products import get_resource, release_resource, set_auto_renew
    from core.security import remove_trusted_key

    token_a, token_b = two_accounts
    b_id = account_of(token_b).id
    ids = _ids_of(b_id)
    assert all(ids.values())  # B has something of each kind
    before = _snapshot(b_id)
    calls = []
    for rid in ids["resource"]:
        for as_given in (rid, str(rid), f" {rid} "):
            calls += [lambda r=as_given: release_resource(token_a, r),
                      lambda r=as_given: set_auto_renew(token_a, r, False),
                      lambda r=as_given: get_resource(token_a, r)]
    for mid in ids["method"]:
        calls += [lambda m=mid: set_default_method(token_a, m),
                  lambda m=mid: remove_method(token_a, m, STRONG_PASSWORD)]
    for kid in ids["key"]:
        calls += [lambda k=kid: remove_trusted_key(token_a, k),
                  lambda k=kid: remove_trusted_key(token_a, str(k))]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert _snapshot(b_id) == before


def test_list_functions_never_return_another_accounts_data(two_accounts):
    from core.billing import billing_page, list_bills
    from core.payments import list_payment_methods
    from core.products import list_resources
    from core.security import export_data, security_overview, trusted_keys

    token_a, token_b = two_accounts
    a_id, b_id = account_of(token_a).id, account_of(token_b).id
    ids_a, ids_b = _ids_of(a_id), _ids_of(b_id)
    assert {r.id for r in list_resources(token_a)} == set(ids_a["resource"])
    assert {m.id for m in list_payment_methods(token_a)} == set(ids_a["method"])
    assert {k.id for k in trusted_keys(token_a)} == set(ids_a["key"])
    assert {b.id for b in list_bills(token_a)} == set(ids_a["bill"])
    summary = billing_page(token_a)
    shown = {b.id for b in summary.outstanding + summary.paid}
    assert shown <= set(ids_a["bill"]) and not shown & set(ids_b["bill"])
    overview = security_overview(token_a)
    assert overview.email == "a@example.com"
    assert all(k.id in ids_a["key"] for k in overview.trusted_keys)
    text = export_data(token_a).read_text(encoding="utf-8")
    assert "b@example.com" not in text and "SHA256:bbbb" not in text


# --- code brute force -----------------------------------------------------------------------------

def test_code_guessing_is_bounded_by_the_limits(signed_up, clock):
    """An attacker holding the session guesses as fast as the limits allow for two hours.

    Each code is burned after 5 wrong tries, at most 5 codes are sent per destination and hour,
    and 10 failures in a row lock the verification for 15 minutes: at most 25 guesses per hour
    are checked against a live code, so one hour finds a given code with probability at most
    25 / 1 000 000. Trying all 1 000 000 codes would take at least 40 000 hours."""
    from core.models import Account
    from core.verification import FAILURES_BEFORE_LOCK, SENDS_PER_HOUR, TRIES_PER_CODE
    from core.verify_account import confirm_code, send_code

    result, email = signed_up
    bound_per_hour = SENDS_PER_HOUR * TRIES_PER_CODE
    assert bound_per_hour == 25 and FAILURES_BEFORE_LOCK == 10
    checked_per_hour: list[int] = []
    locked_seen = rate_limited_seen = 0
    for _hour in range(2):
        checked = 0
        for _minute in range(60):
            try:
                send_code(result.token, "signup", "email")
            except RateLimitError:
                rate_limited_seen += 1
            except LockedError:
                locked_seen += 1
            code = None
            for _ in range(20):  # far more guesses than allowed
                if code is None:
                    try:
                        code = latest_code(email)
                    except AssertionError:
                        break
                wrong = f"{(int(code) + 1) % 1_000_000:06d}"
                try:
                    confirm_code(result.token, "signup", "email", wrong)
                except LockedError:
                    locked_seen += 1
                    break
                except CodeError as exc:
                    if exc.message.startswith("Wrong code"):
                        checked += 1  # compared with a live code
                    else:
                        break
            clock.advance(timedelta(minutes=1))
        checked_per_hour.append(checked)
    assert locked_seen and rate_limited_seen  # both limits were met
    assert all(0 < n <= bound_per_hour for n in checked_per_hour), checked_per_hour
    assert Account.get(Account.email_key == email).status == "unverified"


# --- log-on responses ---------------------------------------------------------------------------

def _refusal(email: str, password: str) -> tuple[type, str, str | None]:
    from core.accounts import log_on

    with pytest.raises(DomainError) as info:
        log_on(email, password)
    return type(info.value), info.value.message, info.value.field


def test_log_on_refusals_are_identical_for_unknown_and_known_emails(active, clock):
    from core.accounts import LOGON_FAILURES_BEFORE_LOCK

    known, unknown = "alice@example.com", "nobody-here@example.com"
    for _ in range(LOGON_FAILURES_BEFORE_LOCK):
        assert _refusal(known, "wrong password 1") == _refusal(unknown, "wrong password 1")
    # Both are now locked, with the same words; the right password changes nothing.
    locked_known = _refusal(known, STRONG_PASSWORD)
    assert locked_known[0] is LockedError
    assert locked_known == _refusal(unknown, STRONG_PASSWORD)
    assert _refusal(known, "wrong password 1") == _refusal(unknown, "wrong password 1")
    # The delays grow alike, step by step.
    for minutes in (1, 2, 4, 8, 15):
        clock.advance(timedelta(minutes=minutes))
        assert _refusal(known, "x") == _refusal(unknown, "x")
        locked_known = _refusal(known, STRONG_PASSWORD)
        assert locked_known[0] is LockedError
        assert locked_known == _refusal(unknown, STRONG_PASSWORD)
    # An unverified account's email answers as any other.
    from tests.core.conftest import make_account

    make_account("carol@example.com")
    other_unknown = "nobody-else@example.com"
    assert _refusal("carol@example.com", "nope nope") == _refusal(other_unknown, "nope nope")


# --- nothing secret left on disk ----------------------------------------------------------------

AMEX = "378282246310005"
VISA = "4242424242424242"
NEW_PASSWORD = "an entirely new pass phrase 77"


def _spaced(digits: str) -> str:
    if len(digits) == 15:
        return f"{digits[:4]} {digits[4:10]} {digits[10:]}"
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


@pytest.mark.sqlite_only
def test_no_card_number_code_or_password_is_left_anywhere(cloudacct_home, db, clock):
    import json
    import re

    from core.accounts import log_on
    from core.billing_address import save_billing_address
    from core.billing_run import pay_outstanding, run_billing
    from core.db import database
    from core.deletion import request_deletion
    from core.delivery import read_outbox
    from core.models import Account
    from core.payments import add_paypal, list_payment_methods, paypal_log_on, save_card
    from core.products import place_order, release_resource
    from core.security import change_password
    from core.verify_account import confirm_code, send_code
    from tests.core.conftest import make_account

    email, phone = "dana@example.com", "+65 8123 4567"
    token = make_account(email).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))
    send_code(token, "second_channel", "sms", phone)
    confirm_code(token, "second_channel", "sms", latest_code("+6581234567"), phone)
    save_billing_address(token, account_type="individual", full_name="Dana Quill", country="SG",
                         city="Singapore", street="1 Raffles Place", postal_code="048616")
    save_card(token, _spaced(VISA), "12/30", "739", "Dana Quill")
    save_card(token, _spaced(AMEX), "11/29", "7391", "Dana Quill")
    add_paypal(token, paypal_log_on(token, "buyer@example.com", "sandbox-pass"))
    assert len(list_payment_methods(token)) == 3
    view = place_order(token, "ecs", "us-west-1", "payg")
    place_order(token, "oss", "us-west-1", "subscription", 1, False)
    clock.advance(timedelta(hours=3))
    release_resource(token, view.id)
    clock.advance(timedelta(days=32))
    run_billing()
    pay_outstanding(token)
    change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    token = log_on(email, NEW_PASSWORD).token
    codes = set()
    for message in read_outbox():
        codes.update(re.findall(r"(?<!\d)\d{6}(?!\d)", message.body))
    assert len(codes) >= 2
    # The codes can be found before deletion: the search below can fail.
    database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
    before = b"".join(p.read_bytes() for p in cloudacct_home.rglob("*") if p.is_file())
    assert all(code.encode() in before for code in codes)

    result = request_deletion(token, NEW_PASSWORD, True)
    assert result.status == "deleted"
    assert Account.select().where(Account.status == "deleted").count() == 1
    assert read_outbox(email) == [] and read_outbox("+6581234567") == []  # purged

    needles: list[str] = [VISA, _spaced(VISA), VISA.replace("4242", "4242-", 3), AMEX,
                          _spaced(AMEX), STRONG_PASSWORD, NEW_PASSWORD, "sandbox-pass",
                          "739", "7391"]
    needles += sorted(codes)
    context = [f'"{c}"' for c in ("739", "7391")] + [f"cvv={c}" for c in ("739", "7391")]
    files = [p for p in sorted(cloudacct_home.rglob("*")) if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            forms = {needle.encode("utf-8"), json.dumps(needle).encode("ascii"),
                     needle.encode("utf-16-le")}
            if needle in ("739", "7391"):
                # A bare 3-digit run is everywhere in a binary file: look for it in context.
                forms = {c.encode() for c in context if needle in c}
                forms |= {f"cvv\x00{needle}".encode(), f"cvc {needle}".encode()}
            for form in forms:
                if needle in codes:
                    # Not inside a hex id or a longer number (random ids may hold any run).
                    pattern = rb"(?<![0-9a-fA-F])" + re.escape(form) + rb"(?![0-9a-fA-F])"
                    assert not re.search(pattern, data), f"code {needle} found in {path}"
                else:
                    assert form not in data, f"{needle!r} found in {path}"
