"""F15 notifications: every event's notice reaches the outbox from its flow, saying what
happened, when (UTC), from where and what to do if it was not the person; by SMS too for the
security ones; through full caps; and a notice that fails never undoes its action."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from tests.conftest import START, STRONG_PASSWORD, latest_code, stepped_up
from tests.core.protect import (
    E164,
    EMAIL,
    KEY,
    NEW_PASSWORD,
    PHONE,
    SSH_ADDRESS,
    active_account,
    enable_mfa,
    ssh_session,
)
from tests.core.test_products import GOOD_CARD, LATER_DECLINED_CARD, account_of, add_address

WHEN = "2026-12-01 10:00 UTC"
LOCAL = "this computer"
SIX_DIGITS = re.compile(r"(?<!\d)\d{6}(?!\d)")


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """Billing events need the clock moved by days and months."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


@pytest.fixture
def token(db):
    return active_account(phone=PHONE)


def newest(to: str, subject_part: str):
    from core.delivery import read_outbox

    for message in read_outbox(to):
        if subject_part.lower() in (message.subject or message.body).lower():
            return message
    raise AssertionError(f"no message about {subject_part!r} to {to}: "
                         f"{[m.subject or m.body for m in read_outbox(to)]}")


def assert_security_notice(subject_part: str, where: str = LOCAL, when: str = WHEN,
                           sms_part: str | None = None) -> None:
    """The email says what, when, where from and what to do; the SMS goes to the phone."""
    mail = newest(EMAIL, subject_part)
    assert when in mail.body, mail.body
    assert where in mail.body, mail.body
    assert "not you" in mail.body.lower() and "support@cloudacct.invalid" in mail.body
    assert not SIX_DIGITS.search(mail.body) and not SIX_DIGITS.search(mail.subject)
    if sms_part is not None:
        text = newest(E164, sms_part)
        assert when in text.body and "support@" in text.body
        assert not SIX_DIGITS.search(text.body.replace(E164, ""))


# --- security events, each through its flow -----------------------------------------------------

def test_password_changed(token):
    from core.security import change_password

    change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert_security_notice("password was changed", sms_part="password was changed")


def test_password_changed_over_ssh_names_the_address(token):
    from core.security import change_password

    ssh = ssh_session()
    change_password(ssh, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert_security_notice("password was changed", where=f"the address {SSH_ADDRESS}")


def test_password_reset(token):
    from core.password_reset import complete_password_reset, start_password_reset

    state = start_password_reset(EMAIL, origin=SSH_ADDRESS)
    complete_password_reset(state.reset_token, latest_code(EMAIL), NEW_PASSWORD, NEW_PASSWORD)
    assert_security_notice("password was reset", where=SSH_ADDRESS, sms_part="was reset")


def test_email_changed_both_addresses(token):
    from core.contact_change import confirm_email_change, start_email_change

    start_email_change(token, "new@example.com")
    confirm_email_change(token, "new@example.com", latest_code("new@example.com"))
    old = newest(EMAIL, "was changed")
    assert WHEN in old.body and LOCAL in old.body and "support@" in old.body
    new = newest("new@example.com", "now the email")
    assert WHEN in new.body and LOCAL in new.body and "not you" in new.body.lower()


def test_phone_changed(token):
    from core.contact_change import confirm_phone_change, start_phone_change

    start_phone_change(token, "+65 9876 5432")
    confirm_phone_change(token, "+65 9876 5432", latest_code("+6598765432"))
    assert_security_notice("phone number", sms_part="phone number")
    assert "phone number" in newest("+6598765432", "phone number").body


def test_mfa_enabled_and_disabled(token):
    from core.mfa import disable_mfa

    mfa = enable_mfa(token)
    assert_security_notice("MFA is on", sms_part="turned on")
    disable_mfa(token, mfa.code(), STRONG_PASSWORD)
    assert_security_notice("MFA is off", when="2026-12-01 10:00 UTC", sms_part="turned off")


def test_key_trusted_and_removed(token):
    from core.security import remove_trusted_key, trust_current_key

    ssh = ssh_session()
    key = trust_current_key(ssh, "laptop")
    assert_security_notice("new SSH key", where=SSH_ADDRESS, sms_part="trusted")
    assert KEY in newest(EMAIL, "new SSH key").body and "laptop" in newest(EMAIL,
                                                                          "new SSH key").body
    remove_trusted_key(ssh, key.id)
    assert_security_notice("SSH key was removed", where=SSH_ADDRESS, sms_part="removed")


def test_a_log_on_from_a_new_address_once_in_90_days(token, clock):
    from core.accounts import log_on
    from core.delivery import read_outbox

    log_on(EMAIL, STRONG_PASSWORD)  # local: the address it signed up from
    assert not any("new address" in (m.subject or "") for m in read_outbox(EMAIL))
    log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS)
    assert_security_notice("new address", where=SSH_ADDRESS, sms_part="log-on")
    count = len(read_outbox(EMAIL))
    log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS)  # seen now
    assert len(read_outbox(EMAIL)) == count
    clock.advance(timedelta(days=91))
    log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS)
    assert len(read_outbox(EMAIL)) == count + 1


def test_a_log_on_with_mfa_from_a_new_address_is_told_once_the_code_is_in(token):
    from core.accounts import complete_mfa_log_on, log_on
    from core.delivery import read_outbox

    mfa = enable_mfa(token)
    pending = log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS)
    assert not any("new address" in (m.subject or "") for m in read_outbox(EMAIL))
    complete_mfa_log_on(pending.pending_token, mfa.code())
    assert "new address" in read_outbox(EMAIL)[0].subject


def test_deletion_pending(token, clock):
    from core.deletion import request_deletion
    from core.products import place_order, release_resource

    add_address(account_of(token).id)
    from core.payments import save_card

    save_card(token, GOOD_CARD, "12/30", "123", "Alice Tan")
    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=2))
    release_resource(token, view.id)
    stepped_up(token)
    assert request_deletion(token, STRONG_PASSWORD, True).status == "deletion_pending"
    assert_security_notice("will be deleted", when="2026-12-01 12:00 UTC",
                           sms_part="deleting your account")


def test_account_deleted_reaches_the_person_by_smtp(token, smtp_server):
    from core.deletion import request_deletion

    assert request_deletion(token, STRONG_PASSWORD, True).deleted
    [(envelope, _)] = [m for m in smtp_server.messages if EMAIL in m[0].rcpt_tos]
    text = envelope.content.decode()
    assert "was deleted" in text and WHEN in text and "support@" in text


def test_account_deleted_leaves_no_local_copy(token, cloudacct_home):
    from core.deletion import request_deletion
    from core.delivery import read_outbox

    assert request_deletion(token, STRONG_PASSWORD, True).deleted
    assert read_outbox(EMAIL) == [] and read_outbox(E164) == []


# --- money and real-name, from the billing run and the reviews ------------------------------------

@pytest.fixture
def buyer(token):
    from core.payments import save_card

    add_address(account_of(token).id)
    save_card(token, GOOD_CARD, "12/30", "123", "Alice Tan")
    return token


def test_bill_issued(buyer, clock):
    from core.billing_run import run_billing
    from core.products import place_order, release_resource

    view = place_order(buyer, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=3))
    release_resource(buyer, view.id)
    clock.advance(timedelta(hours=48))
    run_billing()
    mail = newest(EMAIL, "bill of")
    assert "2026-12-03 13:00 UTC" in mail.body and "charged to Visa •••• 4242" in mail.body
    assert "support@" in mail.body and not SIX_DIGITS.search(mail.body)


def test_charge_declined(token, clock):
    from core.billing_run import run_billing
    from core.payments import save_card
    from core.products import place_order, release_resource

    add_address(account_of(token).id)
    save_card(token, LATER_DECLINED_CARD, "12/30", "123", "Alice Tan")
    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=3))
    release_resource(token, view.id)
    clock.advance(timedelta(hours=48))
    run_billing()
    mail = newest(EMAIL, "was declined")
    assert "declined" in mail.body and "Billing section" in mail.body
    assert "2026-12-03 13:00 UTC" in mail.body and "support@" in mail.body
    assert "outstanding" in newest(EMAIL, "bill of").body


def test_subscription_renewed_and_expired(buyer, clock):
    from core.billing_run import run_billing
    from core.products import place_order

    place_order(buyer, "ecs", "us-west-1", "subscription", 1, True)
    place_order(buyer, "oss", "us-west-1", "subscription", 1, False)
    clock.set_now(START + timedelta(days=32))
    run_billing()
    renewed = newest(EMAIL, "was renewed")
    assert "renewed on 2027-01-02 10:00 UTC until 2027-02-01 10:00 UTC" in renewed.body
    assert "auto-renewal off" in renewed.body and "support@" in renewed.body
    expired = newest(EMAIL, "expired")
    assert "expired and was released on 2027-01-01 10:00 UTC" in expired.body


def test_a_card_about_to_expire_is_told_once_per_expiry(buyer, clock):
    from core.billing_run import run_billing
    from core.delivery import read_outbox
    from core.payments import save_card

    stepped_up(buyer)
    save_card(buyer, "5555 5555 5555 4444", "01/27", "123", "Alice Tan")
    run_billing()
    assert not any("expires soon" in (m.subject or "") for m in read_outbox(EMAIL))
    clock.set_now(START + timedelta(days=3))  # 2026-12-04: January's end is 58 days away
    run_billing()
    assert not any("expires soon" in (m.subject or "") for m in read_outbox(EMAIL))
    clock.set_now(START + timedelta(days=31))  # 2027-01-01: within 30 days of 01/27's end
    run_billing()
    mail = newest(EMAIL, "expires soon")
    assert "Mastercard •••• 4444" in mail.subject and "after 2027-01-31" in mail.body
    run_billing()
    assert sum("expires soon" in (m.subject or "") for m in read_outbox(EMAIL)) == 1


def test_real_name_approved_and_rejected(token):
    from core.real_name import submit_individual
    from tests.core.test_real_name import resident_id_ending

    submit_individual(token, "Li Lei", "resident_id", resident_id_ending("reject"))
    rejected = newest(EMAIL, "was rejected")
    assert "identity could not be verified" in rejected.body and WHEN in rejected.body
    assert "support@" in rejected.body
    submit_individual(token, "Li Lei", "resident_id", resident_id_ending("approve"))
    assert WHEN in newest(EMAIL, "is approved").body


def test_enterprise_review_is_told(token, tmp_path):
    from core.real_name import (
        approve_enterprise,
        credit_code_check_char,
        reject_enterprise,
        submit_enterprise,
    )

    licence = tmp_path / "licence.png"
    licence.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    first17 = "91350100MA2XY3QK1"
    code = first17 + credit_code_check_char(first17)
    submit_enterprise(token, "Acme Ltd", code, "Li Lei", str(licence))
    reject_enterprise(EMAIL, "The licence scan is unreadable")
    assert "licence scan is unreadable" in newest(EMAIL, "was rejected").body
    submit_enterprise(token, "Acme Ltd", code, "Li Lei", str(licence))
    approve_enterprise(EMAIL)
    assert "approved" in newest(EMAIL, "is approved").subject


# --- delivery: caps, failures -------------------------------------------------------------------

def test_a_security_notice_goes_through_full_caps(token, monkeypatch):
    from core.config import reset_settings
    from core.errors import RateLimitError
    from core.security import change_password
    from core.verify_account import send_code

    monkeypatch.setenv("CLOUDACCT_MESSAGES_PER_HOUR", "3")  # the two codes and one more
    reset_settings()
    from tests.core.conftest import make_account

    send_code(make_account("bob@example.com").token, "signup", "email")
    with pytest.raises(RateLimitError):
        send_code(make_account("carol@example.com").token, "signup", "email")
    change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert_security_notice("password was changed", sms_part="password was changed")


def test_a_notice_that_cannot_be_sent_never_undoes_its_action(token, monkeypatch, caplog):
    import core.delivery
    from core.accounts import log_on
    from core.errors import DeliveryError
    from core.security import change_password

    def broken(*_args, **_kwargs):
        raise DeliveryError("The mail server is down.")

    monkeypatch.setattr(core.delivery, "send_email", broken)
    monkeypatch.setattr(core.delivery, "send_sms", broken)
    with caplog.at_level(logging.WARNING, logger="cloudacct.notices"):
        assert change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert log_on(EMAIL, NEW_PASSWORD).token  # the change stands
    assert "not sent" in caplog.text and "mail server is down" in caplog.text
    from core.models import MessageSend

    assert MessageSend.select().where(MessageSend.capped == False).count() == 0  # noqa: E712


def test_a_notice_to_an_unverified_email_is_capped_like_any_message(db):
    """An account verified by phone only: its email may be someone else's."""
    from core.accounts import sign_up
    from core.models import MessageSend
    from core.notices import notify_password_changed
    from core.verify_account import confirm_code, send_code

    result = sign_up("SG", "phoneonly@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    send_code(result.token, "signup", "sms", PHONE)
    confirm_code(result.token, "signup", "sms", latest_code(E164), PHONE)
    notify_password_changed(account_of(result.token).id, origin="local")
    email_send = MessageSend.select().where(MessageSend.channel == "email").get()
    assert email_send.capped
    sms_send = MessageSend.select().where(MessageSend.channel == "sms").order_by(
        MessageSend.id.desc()).get()
    assert not sms_send.capped  # the verified phone: never capped


@pytest.mark.parametrize("origin", [None, "local", SSH_ADDRESS, "2001:db8::1"])
def test_where_a_notice_says_it_came_from(origin):
    from core.notices import where

    text = where(origin)
    if origin is None:
        assert "itself" in text
    elif origin == "local":
        assert LOCAL in text
    else:
        assert origin in text and "SSH" in text


def test_no_notice_looks_like_a_code():
    """Codes are runs of six digits (CONTRACT.md); no notice's words have one."""
    from datetime import datetime

    from core import notices

    at = datetime(2026, 12, 1, 10, 0)
    words = [
        notices.password_changed_words(at, SSH_ADDRESS, 2),
        notices.password_reset_words(at, "local"),
        notices.email_changed_words("a@example.com", "b@example.com", at, None, to_old=True),
        notices.email_changed_words("a@example.com", "b@example.com", at, None, to_old=False),
        notices.phone_changed_words("+6581234567", "+6598765432", at, "local"),
        notices.mfa_words(True, at, "local"), notices.mfa_words(False, at, "local"),
        notices.new_address_words(at, SSH_ADDRESS),
        notices.deletion_pending_words(at, "local", at), notices.account_deleted_words(at),
        notices.bill_issued_words("ECS #3 usage", "1234.56 USD", True, "Visa •••• 4242", at),
        notices.charge_declined_words("ECS #3 usage", "1.00 USD", "card declined", None, at),
        notices.subscription_words(True, "ECS #3", at, "10.00 USD", at),
        notices.subscription_words(False, "ECS #3", None, None, at),
        notices.card_expiring_words("Visa •••• 4242", "01/27", at),
        notices.real_name_words(True, None, at), notices.real_name_words(False, "no", at),
        notices.signup_attempt(), notices.email_change_attempt(at, SSH_ADDRESS),
        notices.signup_with_phone_attempt("+6581234567", decoy=True),
    ]
    for each in words:
        for text in (each.subject, each.body, each.sms or ""):
            assert not SIX_DIGITS.search(text), text
    assert not SIX_DIGITS.search(notices.account_closed_sms("a@example.com"))
