"""F14 change email / change phone: a code to the new address, the id kept, both addresses
told; an email of another account looks the same to the person and only its owner is told; an
email another account never verified is taken back."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import CodeError, ValidationError
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.protect import E164, EMAIL, PHONE, active_account, outbox_count

NEW = "alice.new@example.com"
OWNER = "bob@example.com"


@pytest.fixture
def token(db):
    return active_account(phone=PHONE)


def start(token, email):
    from core.contact_change import start_email_change

    return start_email_change(token, email)


def confirm(token, email, code):
    from core.contact_change import confirm_email_change

    return confirm_email_change(token, email, code)


def test_change_email_keeps_the_id_and_tells_both_addresses(token):
    from core.accounts import LogOnResult, current_account, log_on
    from core.delivery import read_outbox
    from core.errors import AuthenticationError

    account_id = current_account(token).id
    state = start(token, NEW)
    assert state.destination_masked == "a•••••••w@example.com" and state.status.sent
    view = confirm(token, NEW, latest_code(NEW))
    assert view.id == account_id and view.email == NEW and view.email_verified
    result = log_on(NEW, STRONG_PASSWORD)
    assert isinstance(result, LogOnResult) and result.account.id == account_id
    with pytest.raises(AuthenticationError):
        log_on(EMAIL, STRONG_PASSWORD)
    old = read_outbox(EMAIL)[0]
    assert "was changed" in old.subject and "a•••••••w@example.com" in old.body
    assert "2026-12-01 10:00 UTC" in old.body and "this computer" in old.body
    assert "support@" in old.body
    new = read_outbox(NEW)[0]
    assert "now the email" in new.subject and "a•••e@example.com" in new.body
    assert "email of your account was changed" in read_outbox(E164)[0].body  # SMS too


def test_the_old_address_is_told_even_with_every_cap_reached(token, monkeypatch):
    from core.config import reset_settings
    from core.models import MessageSend

    state = start(token, NEW)
    assert state.status.sent
    monkeypatch.setenv("CLOUDACCT_MESSAGES_PER_HOUR", "1")  # the global ceiling is reached
    reset_settings()
    confirm(token, NEW, latest_code(NEW))
    assert outbox_count(EMAIL) >= 2  # its sign-up code, and the notice
    assert MessageSend.select().where(MessageSend.capped == False).count() >= 1  # noqa: E712


def test_wrong_codes_and_bad_addresses(token):
    with pytest.raises(ValidationError) as same:
        start(token, EMAIL.upper())
    assert same.value.field == "change"
    with pytest.raises(ValidationError):
        start(token, "not an email")
    start(token, NEW)
    with pytest.raises(CodeError) as wrong:
        confirm(token, NEW, "000000" if latest_code(NEW) != "000000" else "111111")
    assert wrong.value.field == "change"
    with pytest.raises(CodeError):
        confirm(token, "other@example.com", latest_code(NEW))  # bound to its destination


def test_an_email_of_another_account_looks_the_same_and_only_its_owner_is_told(token):
    from core.accounts import current_account, log_on
    from core.delivery import read_outbox
    from tests.core.conftest import make_verified_account

    make_verified_account(OWNER)
    owner_mail = outbox_count(OWNER)
    taken = start(token, OWNER)
    other_session = log_on(EMAIL, STRONG_PASSWORD).token  # a session has 3 destinations
    free = start(other_session, "free@example.com")
    def shape(state):  # everything but the address typed
        data = dataclasses.asdict(state)
        del data["destination_masked"], data["status"]["destination"]
        return data

    assert shape(taken) == shape(free)
    assert taken.status.sent and taken.status.tries_left == free.status.tries_left
    notice = read_outbox(OWNER)[0]
    assert outbox_count(OWNER) == owner_mail + 1
    assert "another" in notice.subject and "nothing was changed" in notice.body.lower()
    assert not any(ch.isdigit() for ch in notice.body.split("UTC")[1][:40])  # no code
    # whatever the person types, it is a wrong code, and nothing changes
    for guess in ("123456", "000000"):
        with pytest.raises(CodeError):
            confirm(token, OWNER, guess)
    assert current_account(token).email == EMAIL


def test_an_email_another_account_never_verified_is_taken_back(token):
    """A phone sign-up that never verified its email holds it without value: the person who
    proves the address by code takes it, and that account is closed and told by SMS."""
    from core.accounts import current_account, sign_up
    from core.delivery import read_outbox
    from core.models import Account
    from core.verify_account import confirm_code, send_code

    squatter = sign_up("SG", NEW, "a squatters pass phrase 7", "a squatters pass phrase 7", True)
    send_code(squatter.token, "signup", "sms", "+65 9123 4567")
    confirm_code(squatter.token, "signup", "sms", latest_code("+6591234567"), "+65 9123 4567")
    start(token, NEW)
    view = confirm(token, NEW, latest_code(NEW))
    assert view.email == NEW
    assert Account.get(Account.email_key.startswith("deleted-")).status == "deleted"
    assert "closed" in read_outbox("+6591234567")[0].body
    assert current_account(token).email == NEW


def test_change_phone_tells_the_old_and_new_number_and_the_email(token):
    from core.contact_change import confirm_phone_change, start_phone_change
    from core.delivery import read_outbox

    state = start_phone_change(token, "+65 9876 5432")
    assert state.destination_masked == "+65••••••32"
    view = confirm_phone_change(token, "+65 9876 5432", latest_code("+6598765432"))
    assert view.phone == "+6598765432"
    for to in (E164, "+6598765432"):
        assert "phone number of your account was changed" in read_outbox(to)[0].body
    mail = read_outbox(EMAIL)[0]
    assert "phone number" in mail.subject and "+65••••••67" in mail.body


def test_a_phone_of_another_country_is_refused(token):
    from core.contact_change import start_phone_change

    with pytest.raises(ValidationError) as refused:
        start_phone_change(token, "+1 415 555 0100")
    assert refused.value.field == "change"
    with pytest.raises(ValidationError):
        start_phone_change(token, PHONE)  # already the account's
