"""F10 Delete the account: blockers and their words, deletion pending until the last bill is
issued and paid, the erasure (database, WAL, Maildir, outbox, uploads, exports), the same email
signing up again, wrong input, double presses and other sessions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.errors import (
    AuthenticationError,
    LockedError,
    SessionExpired,
    ValidationError,
)
from tests.conftest import STRONG_PASSWORD, latest_code, stepped_up
from tests.core.conftest import query_elsewhere
from tests.core.test_products import (
    GOOD_CARD,
    LATER_DECLINED_CARD,
    account_of,
    ready,
)

H48 = timedelta(hours=48)
SECOND = timedelta(seconds=1)
EMAIL = "alice@example.com"


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """These tests move the clock by days and months: sessions must outlive that."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


@pytest.fixture
def buyer(active):
    token, _ = active
    ready(token)
    return token


@pytest.fixture
def poor_buyer(active):
    """A card that saves, but every later charge is declined."""
    token, _ = active
    ready(token, LATER_DECLINED_CARD)
    return token


def delete(token, password=STRONG_PASSWORD, checked=True):
    from core.deletion import request_deletion

    return request_deletion(token, password, checked)


def payg(token, hours: float = 1, *, release: bool = True):
    from core import clock
    from core.products import place_order, release_resource

    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=hours))
    return release_resource(token, view.id) if release else view


def subscription(token, *, auto_renew: bool, months: int = 1):
    from core.products import place_order

    return place_order(token, "ecs", "us-west-1", "subscription", months, auto_renew)


def use_good_card(token) -> None:
    from core.payments import list_payment_methods, save_card, set_default_method

    if not any(m.last4 == "4242" for m in list_payment_methods(token)):
        save_card(stepped_up(token), GOOD_CARD, "12/30", "123", "Alice Tan")
    good = next(m for m in list_payment_methods(token) if m.last4 == "4242")
    set_default_method(token, good.id)


def status_of(account_id: int) -> str:
    from core.models import Account

    return Account.get_by_id(account_id).status


def kinds(blockers) -> list[str]:
    return [b.kind for b in blockers]


# --- nothing to settle: deleted now ---------------------------------------------------------

def test_an_account_with_nothing_to_settle_is_deleted_at_once(buyer, clock):
    from core.accounts import WRONG_CREDENTIALS, log_on
    from core.deletion import deletion_check
    from core.gateway import payment_gateway
    from core.hashing import keyed_hash
    from core.models import Account, BillingAddress, DeletionAudit, PaymentMethod
    from core.sessions import session_alive

    account_id = account_of(buyer).id
    check = deletion_check(buyer)
    assert (check.outcome, check.blockers, check.pending_usage) == ("now", (), ())
    assert "deleted within seconds" in check.message
    assert check.prerequisites[0].startswith("You have a data back-up")
    (method,) = PaymentMethod.select()
    gateway_token = method.gateway_token

    result = delete(buyer)
    assert result.status == "deleted" and result.deleted
    assert result.deleted_at == clock.now()
    assert "logged out" in result.message and "sign up again" in result.message
    assert session_alive(buyer) == "This account has been deleted."
    with pytest.raises(SessionExpired):
        deletion_check(buyer)

    row = Account.get_by_id(account_id)
    assert row.status == "deleted" and row.deleted_at == clock.now()
    assert row.email == row.email_key == f"deleted-{account_id}"
    assert row.password_hash == "" and row.phone is None
    audit = keyed_hash("deleted-account-email", "alice@example.com")
    assert row.email_audit_hash == audit
    (entry,) = DeletionAudit.select()
    assert (entry.email_hash, entry.account_id) == (audit, account_id)
    assert not BillingAddress.select().exists()
    (method,) = PaymentMethod.select()
    assert method.removed_at is not None and method.holder_name is None
    assert method.fingerprint is None and method.gateway_token == "revoked"
    assert method.display == "Visa •••• 4242"  # kept for the ledger: nothing personal
    (token_row,) = payment_gateway()._rows("SELECT revoked_at FROM tokens WHERE token = ?",
                                           (gateway_token,))
    assert token_row["revoked_at"] is not None
    with pytest.raises(AuthenticationError) as info:
        log_on(EMAIL, STRONG_PASSWORD)
    assert info.value.message == WRONG_CREDENTIALS


def test_an_unverified_account_can_be_deleted(signed_up):
    result, _ = signed_up
    assert delete(result.token).deleted


# --- wrong input -------------------------------------------------------------------------------

@pytest.mark.parametrize("checked", [False, None, "yes", 1])
def test_unchecked_disclaimer_changes_nothing(buyer, checked):
    with pytest.raises(ValidationError) as info:
        delete(buyer, checked=checked)
    assert info.value.field == "delete-disclaimer"
    assert status_of(account_of(buyer).id) == "active"


@pytest.mark.parametrize("password", ["", None])
def test_missing_password(buyer, password):
    with pytest.raises(ValidationError) as info:
        delete(buyer, password)
    assert info.value.field == "delete-password"
    assert status_of(account_of(buyer).id) == "active"


@pytest.mark.parametrize("password", ["wrong password here 1", STRONG_PASSWORD + " ",
                                      "'; DROP TABLE account; --", "x" * 10_000])
def test_wrong_password_changes_nothing(buyer, password):
    with pytest.raises(AuthenticationError) as info:
        delete(buyer, password)
    assert info.value.field == "delete-password"
    assert info.value.message == "The password is not correct."
    assert status_of(account_of(buyer).id) == "active"


def test_wrong_passwords_lock_like_log_on(buyer, clock):
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            delete(buyer, "wrong password here 1")
    with pytest.raises(LockedError) as info:
        delete(buyer)  # even the right one, while locked
    assert info.value.field == "delete-password"
    clock.advance(timedelta(minutes=15, seconds=1))
    assert delete(buyer).deleted


# --- blockers ---------------------------------------------------------------------------------

def test_running_payg_blocks_until_released(buyer, clock):
    from core.deletion import DeletionBlocked, deletion_blockers, deletion_check
    from core.products import release_resource

    view = payg(buyer, 1, release=False)
    (blocker,) = deletion_blockers(buyer)
    assert blocker.kind == "running_payg" and blocker.resource_id == view.id
    assert blocker.what == f"ECS instance #{view.id} in us-west-1 is still running " \
                           "(Pay-As-You-Go)."
    assert blocker.fix == "Release it (Resources)."
    assert blocker.clears.startswith("As soon as it is released.")
    assert blocker.screen == "resources" and blocker.clears_at is None
    assert deletion_check(buyer).outcome == "blocked"
    with pytest.raises(DeletionBlocked) as info:
        delete(buyer)
    assert info.value.blockers == (blocker,)
    assert "cannot be deleted yet" in info.value.message and blocker.what in info.value.message
    assert status_of(account_of(buyer).id) == "active"
    release_resource(buyer, view.id)
    assert deletion_blockers(buyer) == ()
    assert deletion_check(buyer).outcome == "pending"  # its usage is billed 48 hours later
    assert delete(buyer).status == "deletion_pending"


def test_subscription_with_auto_renewal_blocks_until_off_and_over(buyer, clock):
    from core.deletion import DeletionBlocked, deletion_blockers
    from core.models import Bill, Resource
    from core.products import set_auto_renew

    view = subscription(buyer, auto_renew=True)
    end = view.period_end
    with pytest.raises(DeletionBlocked) as info:
        delete(buyer)
    auto, period = info.value.blockers
    assert (auto.kind, period.kind) == ("auto_renew", "period_not_over")
    assert auto.fix == "Turn off auto-renewal (Resources)."
    assert auto.clears == "As soon as auto-renewal is off."
    assert period.fix == "Wait until its end date 2027-01-01 10:00 UTC, when it expires and " \
                         "is released."
    assert period.clears == "On 2027-01-01 10:00 UTC." and period.clears_at == end
    assert "2027-01-01 10:00 UTC" in info.value.message
    set_auto_renew(buyer, view.id, False)
    assert kinds(deletion_blockers(buyer)) == ["period_not_over"]
    clock.set_now(end - SECOND)
    with pytest.raises(DeletionBlocked):
        delete(buyer)
    clock.set_now(end)  # the period is over: it expires, and the account goes
    result = delete(buyer)
    assert result.deleted
    row = Resource.get_by_id(view.id)
    assert (row.state, row.released_at) == ("expired", end)
    assert Bill.select().where(Bill.resource == view.id).count() == 1  # kept for accounting


def test_suspended_subscription_and_its_unpaid_renewal_block(active, clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.deletion import DeletionBlocked, deletion_blockers
    from core.models import Bill
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import add_months, set_auto_renew

    token, _ = active
    ready(token)  # the good card pays the first period
    view = subscription(token, auto_renew=True)
    save_card(token, LATER_DECLINED_CARD, "12/30", "123", "Alice Tan")
    poor = next(m for m in list_payment_methods(token) if m.last4 == "0341")
    set_default_method(token, poor.id)
    clock.set_now(view.period_end)
    run_billing()  # the renewal is declined: suspended
    new_end = add_months(view.period_end, 1)
    renewal = Bill.get(Bill.kind == "renewal")
    with pytest.raises(DeletionBlocked) as info:
        delete(token)
    assert kinds(info.value.blockers) == ["auto_renew", "suspended", "outstanding_bill"]
    suspended, bill = info.value.blockers[1:]
    assert suspended.what == f"ECS instance #{view.id} in us-west-1 is suspended: its renewal " \
                             "was not paid."
    assert suspended.clears_at == new_end and "pay its renewal bill" in suspended.fix
    assert bill.bill_id == renewal.id and bill.screen == "billing"
    set_auto_renew(token, view.id, False)
    clock.set_now(new_end)
    run_billing()  # still suspended at its end: expired
    assert kinds(deletion_blockers(token)) == ["outstanding_bill"]
    use_good_card(token)
    pay_outstanding(token)
    assert delete(token).deleted


def test_outstanding_bill_blocks_until_paid(poor_buyer, clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.deletion import DeletionBlocked
    from core.models import Bill

    view = payg(poor_buyer, 1)
    clock.set_now(view.released_at + H48)
    run_billing()
    (bill,) = Bill.select()
    with pytest.raises(DeletionBlocked) as info:
        delete(poor_buyer)
    (blocker,) = info.value.blockers
    assert (blocker.kind, blocker.bill_id, blocker.screen) == ("outstanding_bill", bill.id,
                                                                "billing")
    assert blocker.what.startswith(f"Bill #{bill.id} of 0.08 USD is unpaid: ECS instance")
    assert blocker.fix == "Pay it (Billing)." and blocker.clears == "As soon as it is paid."
    assert status_of(account_of(poor_buyer).id) == "active"
    use_good_card(poor_buyer)
    pay_outstanding(poor_buyer)
    assert delete(poor_buyer).deleted


def test_every_blocker_is_listed_at_once(buyer, clock):
    from core.deletion import DeletionBlocked

    payg(buyer, 1, release=False)
    subscription(buyer, auto_renew=True)
    subscription(buyer, auto_renew=False)
    with pytest.raises(DeletionBlocked) as info:
        delete(buyer)
    assert kinds(info.value.blockers) == ["running_payg", "auto_renew", "period_not_over",
                                          "period_not_over"]
    assert info.value.message.count("\n- ") == 4


def test_blockers_accept_an_account_or_its_id(buyer):
    from core.deletion import deletion_blockers

    payg(buyer, 1, release=False)
    account = account_of(buyer)
    assert kinds(deletion_blockers(account)) == kinds(deletion_blockers(account.id)) == \
        ["running_payg"]


# --- deletion pending ---------------------------------------------------------------------------

def test_unbilled_usage_makes_deletion_pending_until_billed_and_paid(buyer, clock):
    from core.accounts import log_on
    from core.billing_run import run_billing
    from core.deletion import deletion_check
    from core.errors import Refused
    from core.models import Account, Bill
    from core.products import place_order

    account_id = account_of(buyer).id
    view = payg(buyer, 2)
    requested = clock.now()
    result = delete(buyer)
    assert result.status == "deletion_pending" and not result.deleted
    assert result.bills_due_by == view.released_at + H48
    assert result.requested_at == requested
    (usage,) = result.pending_usage
    assert (usage.resource_id, usage.amount_cents) == (view.id, 16)
    assert "2026-12-03 12:00 UTC" in result.message
    row = Account.get_by_id(account_id)
    assert (row.status, row.deletion_requested_at) == ("deletion_pending", requested)
    # it can still log on (to pay), but buys nothing new
    other = log_on(EMAIL, STRONG_PASSWORD).token
    assert deletion_check(other).outcome == "pending"
    with pytest.raises(Refused):
        place_order(other, "ecs", "us-west-1", "payg")
    # pressing again: the same pending result, nothing done twice
    clock.advance(timedelta(hours=1))
    again = delete(buyer)
    assert again.status == "deletion_pending" and again.requested_at == requested
    assert again.bills_due_by == result.bills_due_by

    clock.set_now(view.released_at + H48 - SECOND)
    report = run_billing()
    assert [e.kind for e in report.events] == ["deletion_waiting"]
    assert status_of(account_id) == "deletion_pending"
    clock.set_now(view.released_at + H48)
    report = run_billing()
    assert [e.kind for e in report.events] == ["bill", "deletion"]
    assert report.events[1].account_id == account_id
    assert "1 deletion completed" in report.summary
    assert "alice" not in " ".join(report.lines()[1:])
    assert status_of(account_id) == "deleted"
    (bill,) = Bill.select()
    assert (bill.status, bill.amount_cents, bill.account_id) == ("paid", 16, account_id)
    assert run_billing().events == ()


def test_a_declined_last_bill_keeps_it_pending_until_paid(poor_buyer, clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.models import Bill

    account_id = account_of(poor_buyer).id
    view = payg(poor_buyer, 1)
    assert delete(poor_buyer).status == "deletion_pending"
    clock.set_now(view.released_at + H48)
    report = run_billing()
    assert [e.kind for e in report.events] == ["bill", "deletion_waiting"]
    assert "Bill #" in report.events[1].text and "unpaid" in report.events[1].text
    assert status_of(account_id) == "deletion_pending"
    clock.advance(timedelta(days=3))
    assert [e.kind for e in run_billing().events] == ["deletion_waiting"]
    # pressing Delete now says what it waits for
    pending = delete(poor_buyer)
    assert pending.status == "deletion_pending"
    assert kinds(pending.waiting_for) == ["outstanding_bill"]
    assert "once its last bill is paid" in pending.message
    # the person pays with another method: the last bill paid completes the deletion at once
    use_good_card(poor_buyer)
    pay_outstanding(poor_buyer)
    assert status_of(account_id) == "deleted"
    assert Bill.get().status == "paid"
    assert run_billing().events == ()


def test_paying_the_last_bill_deletes_at_once_and_pressing_again_finds_it_gone(poor_buyer,
                                                                              clock):
    from core.billing_run import pay_outstanding, run_billing
    from core.errors import SessionExpired

    view = payg(poor_buyer, 1)
    assert delete(poor_buyer).status == "deletion_pending"
    clock.set_now(view.released_at + H48)
    run_billing()
    use_good_card(poor_buyer)
    pay_outstanding(poor_buyer)
    with pytest.raises(SessionExpired):
        delete(poor_buyer)


def test_usage_due_but_not_yet_billed_is_billed_when_delete_is_pressed(buyer, clock):
    from core.models import Bill

    view = payg(buyer, 1)
    clock.set_now(view.released_at + H48)  # no billing run has happened yet
    assert delete(buyer).deleted
    assert Bill.get().status == "paid"


def test_complete_pending_deletions_leaves_other_accounts_alone(buyer, clock):
    from core.deletion import complete_pending_deletions

    assert complete_pending_deletions() == []
    payg(buyer, 1)
    assert complete_pending_deletions() == []  # active, not pending
    assert status_of(account_of(buyer).id) == "active"


# --- double press, other sessions ------------------------------------------------------------

def test_pressing_delete_twice_deletes_once(buyer):
    from core.models import DeletionAudit

    assert delete(buyer).deleted
    with pytest.raises(SessionExpired) as info:
        delete(buyer)
    assert info.value.message == "This account has been deleted."
    assert DeletionAudit.select().count() == 1


def test_erase_account_twice_does_nothing_the_second_time(buyer):
    from core.deletion import erase_account
    from core.models import DeletionAudit

    account_id = account_of(buyer).id
    first = erase_account(account_id)
    second = erase_account(account_id)
    assert not first.already_deleted and second.already_deleted
    assert first.methods_revoked == 1 and first.sessions_ended == 1
    assert DeletionAudit.select().count() == 1


def test_every_other_session_ends_with_account_deleted(buyer, cloudacct_home):
    from core.accounts import current_account, log_on
    from core.sessions import session_alive

    account_id = account_of(buyer).id
    other = log_on(EMAIL, STRONG_PASSWORD, origin="203.0.113.9",
                   key_fingerprint="SHA256:otherkey").token
    assert session_alive(other) is None
    assert delete(buyer).deleted
    assert session_alive(other) == "This account has been deleted."
    with pytest.raises(SessionExpired) as info:
        current_account(other)
    assert "deleted" in info.value.message
    rows = query_elsewhere("SELECT ended_reason, origin, key_fingerprint FROM session "
                           "WHERE account_id = ?", (account_id,))  # another connection sees it
    assert rows and all(r == ("account_deleted", "", None) for r in rows)


def test_a_decoy_sign_up_for_the_deleted_email_ends(buyer):
    from core.accounts import sign_up
    from core.verify_account import send_code

    decoy = sign_up("SG", EMAIL, STRONG_PASSWORD, STRONG_PASSWORD, True).token
    assert delete(buyer).deleted
    with pytest.raises(SessionExpired):
        send_code(decoy, "signup", "email")


# --- the same email again -------------------------------------------------------------------

def test_the_same_email_signs_up_again_as_a_fresh_account(buyer, clock):
    from core.accounts import log_on, overview_page
    from core.billing import billing_page, list_bills
    from core.billing_run import run_billing
    from core.models import Account
    from core.payments import list_payment_methods
    from core.products import list_resources
    from core.real_name import real_name_status, submit_individual
    from core.security import security_overview
    from core.verify_account import confirm_code, send_code
    from tests.core.test_products import EVEN_RESIDENT_ID

    old_id = account_of(buyer).id
    assert submit_individual(buyer, "Li Lei", "resident_id", EVEN_RESIDENT_ID).status == \
        "approved"
    view = payg(buyer, 1)
    clock.set_now(view.released_at + H48)
    run_billing()
    assert delete(buyer).deleted

    from core.accounts import sign_up

    fresh = sign_up("SG", "Alice@Example.com", "another strong pass phrase 7",
                    "another strong pass phrase 7", True)
    send_code(fresh.token, "signup", "email")
    confirm_code(fresh.token, "signup", "email", latest_code(EMAIL))
    new = Account.get(Account.email_key == "alice@example.com")
    assert new.id != old_id and new.status == "active"
    home = overview_page(fresh.token)
    assert not home.has_billing_address and home.payment_methods == 0
    assert home.real_name_status is None
    assert [s.key for s in home.next_steps] == ["billing-address", "payment-method",
                                                 "real-name"]
    assert list_payment_methods(fresh.token) == [] and list_resources(fresh.token) == []
    assert list_bills(fresh.token) == [] and billing_page(fresh.token).ledger == ()
    assert real_name_status(fresh.token).status == "none"
    assert len(security_overview(fresh.token).recent_logons) == 1
    with pytest.raises(AuthenticationError):
        log_on(EMAIL, STRONG_PASSWORD)  # the old password opens nothing
    assert log_on(EMAIL, "another strong pass phrase 7").account.id == new.id


def test_a_deleted_accounts_trusted_key_never_logs_on(buyer):
    from core.accounts import log_on, log_on_with_trusted_key, sign_up
    from core.security import trust_current_key

    keyed = log_on(EMAIL, STRONG_PASSWORD, origin="198.51.100.4",
                   key_fingerprint="SHA256:alicekey").token
    trust_current_key(keyed)
    assert log_on_with_trusted_key("SHA256:alicekey", "198.51.100.4") is not None
    assert delete(buyer).deleted
    assert log_on_with_trusted_key("SHA256:alicekey", "198.51.100.4") is None
    sign_up("SG", EMAIL, STRONG_PASSWORD, STRONG_PASSWORD, True)  # the email again
    assert log_on_with_trusted_key("SHA256:alicekey", "198.51.100.4") is None


def test_a_deletion_pending_accounts_key_still_logs_on(buyer):
    from core.accounts import log_on, log_on_with_trusted_key
    from core.security import trust_current_key

    keyed = log_on(EMAIL, STRONG_PASSWORD, key_fingerprint="SHA256:alicekey",
                   origin="198.51.100.4").token
    trust_current_key(keyed)
    payg(buyer, 1)
    assert delete(buyer).status == "deletion_pending"
    result = log_on_with_trusted_key("SHA256:alicekey", "198.51.100.4")
    assert result is not None and result.account.status == "deletion_pending"


# --- erasure: nothing personal anywhere on disk ------------------------------------------------

FULL_NAME = "Zoë Quintarelli-Marchetti"
STREET = "77 Zanzibar Crescent"
STREET_2 = "#31-07 Quokka Tower"
PHONE = "+65 8123 4567"
COMPANY = "Quintarelli Holographics"
LICENCE = b"\x89PNG\r\n\x1a\n" + b"LICENCE-CONTENT-7f3a9c-QUINTARELLI " * 40
SSH_ADDRESS = "203.0.113.77"


def _disk(home) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in sorted(home.rglob("*")) if p.is_file()]


def _forms(text: str) -> list[bytes]:
    forms = {text, text.casefold(), text.upper()}
    found = []
    for form in forms:
        found.append(form.encode("utf-8"))
        found.append(json.dumps(form).strip('"').encode("ascii"))  # JSON-escaped
    return found


@pytest.mark.sqlite_only
def test_nothing_personal_remains_on_disk(active, cloudacct_home, tmp_path, clock):
    from core.accounts import log_on
    from core.billing_address import save_billing_address
    from core.billing_run import run_billing
    from core.db import database
    from core.deletion import deletion_check
    from core.models import Account
    from core.payments import save_card
    from core.real_name import credit_code_check_char, submit_enterprise
    from core.security import change_password, export_data, trust_current_key
    from core.verify_account import confirm_code, send_code

    token, _ = active
    account_id = account_of(token).id
    send_code(token, "second_channel", "sms", PHONE)
    confirm_code(token, "second_channel", "sms", latest_code(PHONE), PHONE)
    save_billing_address(token, account_type="individual", full_name=FULL_NAME, country="SG",
                         region="SG-01", city="Singapore", street=STREET, street_2=STREET_2,
                         postal_code="048616")
    save_card(token, GOOD_CARD, "12/30", "123", FULL_NAME)
    source = tmp_path / "licence.png"  # outside the data directory
    source.write_bytes(LICENCE)
    first17 = "91350100MA2XY3QK1"
    code = first17 + credit_code_check_char(first17)
    submit_enterprise(token, COMPANY, code, FULL_NAME, str(source))
    keyed = log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS,
                   key_fingerprint="SHA256:zoekeyzoekey").token
    trust_current_key(keyed, "Zoë's laptop")
    view = payg(token, 3)
    clock.set_now(view.released_at + H48)
    run_billing()
    change_password(token, STRONG_PASSWORD, "a brand new pass phrase 42",
                    "a brand new pass phrase 42")
    export = export_data(token)
    assert FULL_NAME in export.read_text(encoding="utf-8")
    database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
    before = b"".join(data for _, data in _disk(cloudacct_home))
    for needle in (FULL_NAME, STREET, COMPANY, "81234567"):
        assert any(form in before for form in _forms(needle)), needle  # the test can fail
    assert LICENCE[8:40] in before
    assert deletion_check(token).outcome == "now"

    assert delete(token, "a brand new pass phrase 42").deleted
    assert Account.get_by_id(account_id).status == "deleted"
    assert not export.exists()
    files = _disk(cloudacct_home)
    names = [name for name, _ in files]
    assert any(name.endswith("cloudacct.db") for name in names)
    assert any(name.endswith("sandbox-gateway.db") for name in names)
    wal = cloudacct_home / "cloudacct.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # truncated by the checkpoint
    needles = [FULL_NAME, "Zoë", "Quintarelli", STREET, "Zanzibar", STREET_2, COMPANY,
               "81234567", "+6581234567", EMAIL, code, SSH_ADDRESS, "zoekeyzoekey"]
    for name, data in files:
        for needle in needles:
            for form in _forms(needle):
                assert form not in data, f"{needle!r} found in {name}"
        assert b"LICENCE-CONTENT-7f3a9c" not in data, name
    assert not list((cloudacct_home / "uploads").glob("licence-*"))


def test_delivery_copies_of_other_accounts_stay(buyer):
    from core.delivery import read_outbox
    from core.delivery.phone import send_sms
    from core.verify_account import send_code
    from tests.core.conftest import make_account

    send_code(make_account("bob@example.com").token, "signup", "email")  # a code for Bob
    send_sms("+6590001111", "a message for someone else")
    assert read_outbox(EMAIL)
    assert delete(buyer).deleted
    assert read_outbox(EMAIL) == []
    assert read_outbox("bob@example.com") and read_outbox("+6590001111")


@pytest.fixture
def indian_payer(db):
    from core.billing_address import save_billing_address
    from core.payments import add_paytm, send_paytm_code
    from tests.core.test_payments import _active_account

    token = _active_account("ravi@example.com", "IN", "+91 98111 22233")
    save_billing_address(token, account_type="individual", full_name="Ravi Kumar", country="IN",
                         region="IN-MH", city="Mumbai", street="1 Marine Drive",
                         postal_code="400001")
    send_paytm_code(token, "98765 43210")
    add_paytm(token, "+919876543210", latest_code("+919876543210"))
    return token


def test_paytm_number_leaves_our_files(indian_payer, cloudacct_home):
    from core.models import PaymentMethod

    assert delete(indian_payer, STRONG_PASSWORD).deleted
    assert PaymentMethod.get().display == "Paytm"
    for name, data in _disk(cloudacct_home):
        if name.endswith(("sandbox-gateway.db", "sandbox-gateway.db-wal")):
            continue  # the gateway's own books: see the next test
        for needle in ("9876543210", "98111 22233", "9811122233", "Ravi Kumar",
                       "Marine Drive"):
            assert needle.encode() not in data, f"{needle} in {name}"


def test_the_sandbox_gateway_forgets_a_revoked_paytm_number(indian_payer, cloudacct_home):
    assert delete(indian_payer, STRONG_PASSWORD).deleted
    for name, data in _disk(cloudacct_home):
        assert b"9876543210" not in data, name
