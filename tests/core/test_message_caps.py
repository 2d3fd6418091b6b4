"""Message caps (SPEC "Abuse limits"): per session 3 destinations, per account 10 SMS/calls and
20 emails a day, per client address 30 a day, a global hourly ceiling with one log line; F2's
per-destination hourly cap counts only what that account asked for; security notices to the
owner are never capped. On the movable clock, counted in the database."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from core.accounts import log_on
from core.delivery import read_outbox
from core.errors import DeliveryError, RateLimitError
from core.models import MessageSend
from core.verify_account import confirm_code, send_code
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.conftest import make_account, make_verified_account, rows

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
NUMBERS = ["8123 4567", "8123 4568", "8123 4569", "8123 4570"]


def e164(number: str) -> str:
    return "+65" + number.replace(" ", "")


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """Sessions that outlive a day of sends, so that only the caps end them."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(3 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(3 * 24))
    reset_settings()


def ceiling(monkeypatch, per_hour: int) -> None:
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_MESSAGES_PER_HOUR", str(per_hour))
    reset_settings()


def sent_to(destination: str) -> int:
    return len(read_outbox(destination))


# --- per session ------------------------------------------------------------------------------

def test_one_session_cannot_send_more_than_3_destinations_a_code(db, clock):
    token = make_verified_account("alice@example.com").token  # the email: destination 1
    for number in NUMBERS[:2]:  # destinations 2 and 3
        send_code(token, "second_channel", "sms", number)
        clock.advance(MINUTE)
    with pytest.raises(RateLimitError) as err:
        send_code(token, "second_channel", "sms", NUMBERS[2])
    assert "at most 3 different" in err.value.message
    assert err.value.field == "code"
    assert sent_to(e164(NUMBERS[2])) == 0
    with pytest.raises(RateLimitError):  # a call to it is the same destination
        send_code(token, "second_channel", "voice", NUMBERS[2])
    # The destinations already used still work, by text or call.
    send_code(token, "second_channel", "voice", NUMBERS[0])
    assert sent_to(e164(NUMBERS[0])) == 2
    # The cap is the session's: a new session of the account may use a new one.
    other = log_on("alice@example.com", STRONG_PASSWORD).token
    send_code(other, "second_channel", "sms", NUMBERS[2])
    assert sent_to(e164(NUMBERS[2])) == 1


def test_the_session_cap_holds_for_paytm_codes_too(db, clock):
    from core.billing_address import save_billing_address
    from core.payments import send_paytm_code

    token = make_verified_account("ravi@example.com", "IN").token
    send_code(token, "second_channel", "sms", "+91 98111 22233")
    confirm_code(token, "second_channel", "sms", latest_code("+919811122233"),
                 "+91 98111 22233")
    save_billing_address(token, account_type="individual", full_name="Ravi Kumar", country="IN",
                         region="IN-MH", city="Mumbai", street="1 Marine Drive",
                         postal_code="400001")
    send_paytm_code(token, "+91 98111 22244")  # the third destination of this session
    with pytest.raises(RateLimitError) as err:
        send_paytm_code(token, "+91 98111 22255")
    assert err.value.field == "paytm-code"
    assert sent_to("+919811122255") == 0


# --- per account ------------------------------------------------------------------------------

def test_an_account_sends_at_most_10_texts_and_calls_a_day(db, clock):
    token = make_verified_account("alice@example.com").token
    first = clock.now()
    for number in NUMBERS[:2]:
        for channel in ("sms", "voice", "sms", "voice", "sms"):
            send_code(token, "second_channel", channel, number)
            clock.advance(MINUTE)
    other = log_on("alice@example.com", STRONG_PASSWORD).token  # a fresh session, same account
    with pytest.raises(RateLimitError) as err:
        send_code(other, "second_channel", "sms", NUMBERS[2])
    assert err.value.message.startswith(
        "You have reached today's limit of 10 text messages and calls for this account.")
    assert "or use email" in err.value.message
    assert sent_to(e164(NUMBERS[2])) == 0
    # Another account is not affected.
    stranger = make_verified_account("bob@example.com").token
    send_code(stranger, "second_channel", "sms", NUMBERS[3])
    # 24 hours after the first text, it no longer counts.
    clock.set_now(first + timedelta(hours=24) - timedelta(seconds=1))
    with pytest.raises(RateLimitError):
        send_code(other, "second_channel", "sms", NUMBERS[2])
    clock.set_now(first + timedelta(hours=24))
    send_code(other, "second_channel", "sms", NUMBERS[2])
    assert sent_to(e164(NUMBERS[2])) == 1


def test_an_account_sends_at_most_20_emails_a_day(db, clock):
    # Verified by phone: F4 then mails codes to the account's own email.
    result = make_account("alice@example.com")
    send_code(result.token, "signup", "sms", NUMBERS[0])
    confirm_code(result.token, "signup", "sms", latest_code(e164(NUMBERS[0])), NUMBERS[0])
    for _hour in range(4):
        for _ in range(5):  # 5 an hour to one destination (F2)
            send_code(result.token, "second_channel", "email")
            clock.advance(MINUTE)
        clock.advance(HOUR)
    assert sent_to("alice@example.com") == 20
    with pytest.raises(RateLimitError) as err:
        send_code(result.token, "second_channel", "email")
    assert err.value.message.startswith(
        "You have reached today's limit of 20 emails for this account.")
    assert sent_to("alice@example.com") == 20
    send_code(result.token, "second_channel", "sms", NUMBERS[0])  # texts are counted apart


# --- per client address -----------------------------------------------------------------------

def test_one_client_address_sends_at_most_30_messages_a_day(db, clock):
    address = "203.0.113.7"
    for n in range(30):
        result = make_account(f"person{n}@example.com", origin=address)
        send_code(result.token, "signup", "email")
    result = make_account("person30@example.com", origin=address)
    with pytest.raises(RateLimitError) as err:
        send_code(result.token, "signup", "email")
    assert "30 messages were sent from your network address today" in err.value.message
    assert sent_to("person30@example.com") == 0
    # Another address is not affected; this one is again a day after its first message.
    elsewhere = make_account("someone@example.com", origin="198.51.100.1")
    send_code(elsewhere.token, "signup", "email")
    clock.advance(timedelta(hours=24))
    send_code(result.token, "signup", "email")
    assert sent_to("person30@example.com") == 1


def test_one_ipv6_network_counts_as_one_address(db):
    for n in range(30):
        result = make_account(f"person{n}@example.com", origin=f"2001:db8:1:2::{n + 1:x}")
        send_code(result.token, "signup", "email")
    result = make_account("person30@example.com", origin="2001:db8:1:2:ffff::1")
    with pytest.raises(RateLimitError):
        send_code(result.token, "signup", "email")


# --- the global ceiling -----------------------------------------------------------------------

def test_global_ceiling_pauses_sends_and_says_so_once(db, clock, monkeypatch, caplog):
    ceiling(monkeypatch, 3)
    tokens = [make_account(f"p{n}@example.com", origin=f"198.51.100.{n}").token
              for n in range(6)]
    caplog.set_level(logging.INFO, logger="cloudacct.abuse")
    for token in tokens[:3]:
        send_code(token, "signup", "email")
        clock.advance(MINUTE)
    for token in tokens[3:]:  # every address, every account: paused
        with pytest.raises(RateLimitError) as err:
            send_code(token, "signup", "email")
        assert "paused" in err.value.message
    assert sent_to("p3@example.com") == sent_to("p5@example.com") == 0
    paused = [r for r in caplog.records if "paused" in r.getMessage()]
    assert len(paused) == 1  # one line when it trips, not one per refused message
    assert paused[0].levelno == logging.WARNING and paused[0].name == "cloudacct.abuse"
    assert "CLOUDACCT_MESSAGES_PER_HOUR=3" in paused[0].getMessage()
    # An hour after the first send, sending resumes, and the log says so.
    clock.advance(HOUR - 3 * MINUTE)
    send_code(tokens[3], "signup", "email")
    assert sent_to("p3@example.com") == 1
    assert [r for r in caplog.records if "resumed" in r.getMessage()]
    assert len([r for r in caplog.records if "paused" in r.getMessage()]) == 1


def test_ceiling_must_be_a_positive_number(monkeypatch):
    from core.config import Settings

    monkeypatch.setenv("CLOUDACCT_MESSAGES_PER_HOUR", "0")
    with pytest.raises(SystemExit):
        Settings.from_env()
    monkeypatch.delenv("CLOUDACCT_MESSAGES_PER_HOUR")
    assert Settings.from_env().messages_per_hour == 1000


# --- sends others ask for do not block anyone -------------------------------------------------

def test_strangers_phone_sends_do_not_block_the_owners_own_codes(db, clock):
    """Sign-ups with the owner's email (decoys) that text the owner's phone, five an hour,
    leave the owner's own codes to that phone alone."""
    owner = make_verified_account("owner@example.com").token
    for n in range(5):
        decoy = make_account("owner@example.com", password="Another strong passphrase 42",
                             origin=f"198.51.100.{n}")
        send_code(decoy.token, "signup", "sms", NUMBERS[0])
        clock.advance(MINUTE)
    assert sent_to(e164(NUMBERS[0])) == 5  # real texts: a decoy's phone path is not silent
    decoy = make_account("owner@example.com", password="Another strong passphrase 42",
                         origin="198.51.100.9")
    with pytest.raises(RateLimitError):  # strangers' sends have their own hourly cap
        send_code(decoy.token, "signup", "sms", NUMBERS[0])
    send_code(owner, "second_channel", "sms", NUMBERS[0])
    view = confirm_code(owner, "second_channel", "sms", latest_code(e164(NUMBERS[0])),
                        NUMBERS[0])
    assert view.phone == e164(NUMBERS[0])


# --- security notices to the owner ------------------------------------------------------------

def test_security_notice_to_the_owners_verified_email_is_never_capped(db, clock, monkeypatch):
    from core.security import change_password

    token = make_verified_account("alice@example.com").token
    ceiling(monkeypatch, 1)  # the owner's own code already filled the hour
    with pytest.raises(RateLimitError):
        send_code(token, "second_channel", "sms", NUMBERS[0])
    change_password(token, STRONG_PASSWORD, "an entirely new pass phrase 77",
                    "an entirely new pass phrase 77")
    newest = read_outbox("alice@example.com")[0]
    assert "password was changed" in newest.subject
    notice = MessageSend.get(MessageSend.capped == False)  # noqa: E712
    assert notice.account_id is not None  # recorded, not counted


def test_notice_to_an_unverified_email_is_capped(db, clock, monkeypatch):
    """Only the owner's verified address is exempt: an email F2 did not verify may be
    someone else's, and a notice there reaches another person."""
    from core.security import change_password

    result = make_account("alice@example.com")
    send_code(result.token, "signup", "sms", NUMBERS[0])
    confirm_code(result.token, "signup", "sms", latest_code(e164(NUMBERS[0])), NUMBERS[0])
    ceiling(monkeypatch, 1)
    change_password(result.token, STRONG_PASSWORD, "an entirely new pass phrase 77",
                    "an entirely new pass phrase 77")  # the change stands
    assert sent_to("alice@example.com") == 0
    assert log_on("alice@example.com", "an entirely new pass phrase 77")


# --- what is counted ----------------------------------------------------------------------------

def test_a_failed_delivery_is_not_counted(db, clock):
    from core.delivery.phone import set_phone_provider

    class Down:
        def send_sms(self, to: str, body: str) -> None:
            raise OSError("provider down")

        def place_call(self, to: str, script: str) -> None:
            raise OSError("provider down")

    token = make_verified_account("alice@example.com").token
    before = rows(MessageSend)
    set_phone_provider(Down())
    for number in NUMBERS:  # four destinations, none of them reached
        with pytest.raises(DeliveryError):
            send_code(token, "second_channel", "sms", number)
        clock.advance(MINUTE)
    assert rows(MessageSend) == before
    set_phone_provider(None)
    send_code(token, "second_channel", "sms", NUMBERS[3])
    assert sent_to(e164(NUMBERS[3])) == 1


def test_records_hold_no_destination_in_clear_and_are_pruned(db, clock):
    token = make_verified_account("alice@example.com").token
    send_code(token, "second_channel", "sms", NUMBERS[0])
    stored = [r.destination_hash for r in MessageSend.select()]
    # whole destinations: a hex digest holds a short run like "8123" about once in 700 tries
    assert stored and not any("alice@example.com" in h or e164(NUMBERS[0])[1:] in h for h in stored)
    clock.advance(timedelta(days=2, seconds=1))
    other = make_account("bob@example.com")
    send_code(other.token, "signup", "email")
    assert rows(MessageSend) == 1  # only bob's: the older ones went
