"""F9 Security settings: change password (ends the other sessions, here and in other
connections), the overview, trusted SSH keys and log-on with them, and the data export
(everything stored, no secrets)."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta

import pytest

from core.errors import (
    AuthenticationError,
    LockedError,
    NotFound,
    Refused,
    SessionExpired,
    ValidationError,
)
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.conftest import query_elsewhere

EMAIL = "alice@example.com"
NEW_PASSWORD = "a brand new pass phrase 42"
PHONE = "+65 8123 4567"
KEY = "SHA256:uJ0DLmV1ytPmgw1ooIhdq0qvGEw9nC5V8rYuY0xpmtQ"


def change(token, current=STRONG_PASSWORD, new=NEW_PASSWORD, confirmation=None):
    from core.security import change_password

    return change_password(token, current, new, new if confirmation is None else confirmation)


def ssh_log_on(key: str = KEY, address: str = "203.0.113.5", email: str = EMAIL) -> str:
    from core.accounts import log_on

    return log_on(email, STRONG_PASSWORD, origin=address, key_fingerprint=key).token


# --- change password ---------------------------------------------------------------------------

def test_change_password_ends_every_other_session_but_this_one(active, cloudacct_home):
    from core.accounts import current_account, log_on
    from core.delivery import read_outbox
    from core.sessions import session_alive

    token, _ = active
    account_id = current_account(token).id
    others = [log_on(EMAIL, STRONG_PASSWORD).token, ssh_log_on()]
    assert change(token).sessions_ended == 2
    for other in others:
        assert session_alive(other) == ("Your password was changed in another session. "
                                        "Please log on again.")
        with pytest.raises(SessionExpired):
            current_account(other)
    assert session_alive(token) is None and current_account(token).email == EMAIL
    reasons = [r[0] for r in query_elsewhere(  # another connection sees it
        "SELECT ended_reason FROM session WHERE account_id = ? ORDER BY id", (account_id,))]
    assert reasons == [None, "password_changed", "password_changed"]
    with pytest.raises(AuthenticationError):
        log_on(EMAIL, STRONG_PASSWORD)
    assert log_on(EMAIL, NEW_PASSWORD).account.id == account_id
    notice = read_outbox(EMAIL)[0]
    assert "password was changed" in notice.subject


def test_change_password_is_recorded(active, clock):
    from core.security import security_overview

    token, _ = active
    assert security_overview(token).password_changed_at is None
    change(token)
    assert security_overview(token).password_changed_at == clock.now()


@pytest.mark.parametrize("current", ["wrong password here 1", STRONG_PASSWORD.upper(),
                                     STRONG_PASSWORD + " ", "x" * 10_000])
def test_wrong_current_password(active, current):
    from core.accounts import log_on

    token, _ = active
    with pytest.raises(AuthenticationError) as info:
        change(token, current=current)
    assert info.value.field == "current-password"
    assert info.value.message == "Your current password is not correct."
    assert log_on(EMAIL, STRONG_PASSWORD).token  # unchanged


@pytest.mark.parametrize("current", ["", None])
def test_current_password_missing(active, current):
    token, _ = active
    with pytest.raises(ValidationError) as info:
        change(token, current=current)
    assert info.value.field == "current-password"


def test_wrong_current_passwords_lock_for_a_while(active, clock):
    token, _ = active
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            change(token, current="wrong password here 1")
    with pytest.raises(LockedError):
        change(token)
    clock.advance(timedelta(minutes=15, seconds=1))
    assert change(token).sessions_ended == 0


@pytest.mark.parametrize("new,confirmation,field", [
    ("short pw 1", None, "new-password"),
    ("x" * 257, None, "new-password"),
    ("alice loves long walks 9", None, "new-password"),  # contains the email's local part
    ("password1234", None, "new-password"),  # too easy to guess
    ("", None, "new-password"),
    ("line\nbreak in the middle 7", None, "new-password"),
    (NEW_PASSWORD, "a brand new pass phrase 43", "new-password-confirm"),
    (NEW_PASSWORD, "", "new-password-confirm"),
    (STRONG_PASSWORD, None, "new-password"),  # the same as the current one
])
def test_new_password_policy(active, new, confirmation, field):
    from core.accounts import log_on

    token, _ = active
    with pytest.raises(ValidationError) as info:
        change(token, new=new, confirmation=confirmation)
    assert info.value.field == field
    assert log_on(EMAIL, STRONG_PASSWORD).token  # unchanged


def test_nfd_and_nfc_spellings_are_one_password(active):
    import unicodedata

    from core.accounts import log_on

    token, _ = active
    nfc = unicodedata.normalize("NFC", "Zoë's café rooftop garden 3")
    nfd = unicodedata.normalize("NFD", nfc)
    change(token, new=nfc, confirmation=nfd)
    assert log_on(EMAIL, nfd).token


def test_an_ended_session_cannot_change_the_password(active):
    from core.accounts import log_off

    token, _ = active
    log_off(token)
    with pytest.raises(SessionExpired):
        change(token)


def test_change_password_removes_the_trusted_keys_by_default(active):
    """SPEC F9: a key trusted by whoever knew the old password stops opening the console; the
    keys of another account stay."""
    from core.accounts import log_on_with_trusted_key
    from core.models import TrustedKey
    from core.security import change_password, trust_current_key, trusted_keys
    from core.sessions import require_account
    from tests.core.conftest import make_account

    token, _ = active
    trust_current_key(ssh_log_on())
    trust_current_key(ssh_log_on(key=KEY[:-1] + "A"))
    other = make_account("bob@example.com")
    TrustedKey.create(account=require_account(other.token).id, fingerprint="SHA256:bob",
                      created_at=require_account(other.token).created_at)
    result = change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert (result.sessions_ended, result.keys_removed) == (2, 2)
    assert trusted_keys(token) == ()
    assert log_on_with_trusted_key(KEY, "203.0.113.5") is None
    assert TrustedKey.select().where(TrustedKey.fingerprint == "SHA256:bob").count() == 1


def test_change_password_may_keep_the_trusted_keys(active):
    from core.accounts import log_on_with_trusted_key
    from core.security import change_password, trust_current_key, trusted_keys

    token, _ = active
    key = trust_current_key(ssh_log_on())
    result = change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD,
                             remove_trusted_keys=False)
    assert (result.sessions_ended, result.keys_removed) == (1, 0)
    assert trusted_keys(token) == (key,)
    assert log_on_with_trusted_key(KEY, "203.0.113.5").account.email == EMAIL


def test_a_refused_change_removes_no_key(active, monkeypatch):
    """The keys go in the password's transaction: a change that does not happen keeps them."""
    import core.security as security
    from core.hashing import hash_password
    from core.models import Account

    token, _ = active
    key = trust_current_key_over_ssh()
    with pytest.raises(ValidationError):
        security.change_password(token, STRONG_PASSWORD, "short", "short")

    def changed_meanwhile(password: str) -> str:
        """Another session changes the password between the check and the write."""
        Account.update(password_hash=hash_password("changed elsewhere 42 x")).execute()
        return hash_password(password)

    monkeypatch.setattr(security, "hash_password", changed_meanwhile)
    with pytest.raises(Refused):
        security.change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    assert security.trusted_keys(token) == (key,)


def trust_current_key_over_ssh():
    from core.security import trust_current_key

    return trust_current_key(ssh_log_on())


# --- the overview ------------------------------------------------------------------------------

def test_security_overview(active, clock):
    from core.accounts import log_off, log_on
    from core.security import security_overview
    from core.verify_account import confirm_code, send_code

    token, _ = active
    send_code(token, "second_channel", "sms", PHONE)
    confirm_code(token, "second_channel", "sms", latest_code(PHONE), PHONE)
    clock.advance(timedelta(minutes=1))
    log_off(log_on(EMAIL, STRONG_PASSWORD).token)
    clock.advance(timedelta(minutes=1))
    ssh_log_on()
    view = security_overview(token)
    assert (view.email, view.email_verified, view.phone_verified) == (EMAIL, True, True)
    assert view.phone_masked == "+65••••••67"
    assert view.status == "active" and view.deletion_requested_at is None
    wheres = [(r.where, r.current, r.ended, r.with_key) for r in view.recent_logons]
    assert wheres == [("SSH from 203.0.113.5", False, False, True),
                      ("local terminal", False, True, False),
                      ("local terminal", True, False, False)]
    assert view.current_key_fingerprint is None and not view.can_trust_current_key


def test_overview_needs_a_live_session(db):
    from core.security import security_overview

    with pytest.raises(SessionExpired):
        security_overview("not a token")


# --- trusted SSH keys --------------------------------------------------------------------------

def test_trust_the_key_of_this_connection_then_log_on_with_it(active, clock):
    from core.accounts import log_on_with_trusted_key
    from core.models import Session
    from core.security import security_overview, trust_current_key, trusted_keys

    over_ssh = ssh_log_on()
    view = security_overview(over_ssh)
    assert view.current_key_fingerprint == KEY and view.can_trust_current_key
    key = trust_current_key(over_ssh, "laptop")
    assert (key.fingerprint, key.label, key.added_at) == (KEY, "laptop", clock.now())
    assert trust_current_key(over_ssh) == key  # twice: the same key
    assert trusted_keys(over_ssh) == (key,)
    view = security_overview(over_ssh)
    assert view.current_key_trusted and not view.can_trust_current_key
    result = log_on_with_trusted_key(KEY, "198.51.100.7")
    assert result is not None and result.account.email == EMAIL
    row = Session.get(Session.origin == "198.51.100.7")
    assert row.key_fingerprint == KEY and row.account_id == result.account.id
    assert security_overview(result.token).recent_logons[0].where == "SSH from 198.51.100.7"


@pytest.mark.parametrize("fingerprint", [None, "", "SHA256:unknown", "x" * 500,
                                         "'; DROP TABLE trusted_key; --"])
def test_an_unknown_key_logs_nothing_on(active, fingerprint):
    from core.accounts import log_on_with_trusted_key

    assert log_on_with_trusted_key(fingerprint, "198.51.100.7") is None


def test_removed_keys_no_longer_log_on(active):
    from core.accounts import log_on_with_trusted_key
    from core.security import remove_trusted_key, trust_current_key

    token, _ = active
    key = trust_current_key(ssh_log_on())
    assert remove_trusted_key(token, key.id) == ()
    assert log_on_with_trusted_key(KEY, "198.51.100.7") is None
    with pytest.raises(NotFound):
        remove_trusted_key(token, key.id)
    for wrong in ("abc", None, -1, "1; DROP TABLE trusted_key"):
        with pytest.raises(NotFound):
            remove_trusted_key(token, wrong)


def test_a_local_session_has_no_key_to_trust(active):
    from core.security import trust_current_key

    token, _ = active
    with pytest.raises(Refused) as info:
        trust_current_key(token)
    assert "no key to trust" in info.value.message


def test_labels_are_checked(active):
    from core.security import trust_current_key

    over_ssh = ssh_log_on()
    with pytest.raises(ValidationError):
        trust_current_key(over_ssh, "\x1b[2J evil")
    assert trust_current_key(over_ssh, "[bold]x[/]").label == "[bold]x[/]"


def test_a_key_opens_one_account_only(active, clock):
    from core.accounts import log_on_with_trusted_key, sign_up
    from core.security import remove_trusted_key, trust_current_key, trusted_keys
    from core.verify_account import confirm_code, send_code

    key = trust_current_key(ssh_log_on())
    bob = sign_up("SG", "bob@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True).token
    send_code(bob, "signup", "email")
    confirm_code(bob, "signup", "email", latest_code("bob@example.com"))
    bob_over_ssh = ssh_log_on(email="bob@example.com")
    with pytest.raises(Refused) as info:
        trust_current_key(bob_over_ssh)
    assert "another account" in info.value.message and EMAIL not in info.value.message
    assert log_on_with_trusted_key(KEY, "x").account.email == EMAIL
    token, _ = active
    remove_trusted_key(token, key.id)
    trust_current_key(bob_over_ssh)
    assert trusted_keys(bob_over_ssh)[0].fingerprint == KEY
    assert log_on_with_trusted_key(KEY, "x").account.email == "bob@example.com"


def test_an_unverified_account_cannot_trust_a_key_nor_log_on_with_one(signed_up):
    from core.accounts import log_on_with_trusted_key
    from core.models import Account, TrustedKey
    from core.security import trust_current_key

    over_ssh = ssh_log_on()
    with pytest.raises(Refused):
        trust_current_key(over_ssh)
    account = Account.get(Account.email == EMAIL)
    TrustedKey.create(account=account.id, fingerprint=KEY, created_at=account.created_at)
    assert log_on_with_trusted_key(KEY, "x") is None


def test_others_keys_cannot_be_removed(active):
    from core.accounts import sign_up
    from core.security import remove_trusted_key, trust_current_key, trusted_keys

    token, _ = active
    key = trust_current_key(ssh_log_on())
    other = sign_up("SG", "eve@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True).token
    with pytest.raises(NotFound):
        remove_trusted_key(other, key.id)
    assert trusted_keys(token) == (key,)


# --- export my data ---------------------------------------------------------------------------

@pytest.fixture
def rich_account(active, clock, monkeypatch):
    """An account with a bit of everything: phone, address, card, resource, bill, key."""
    from core.config import reset_settings
    from core.payments import save_card
    from core.security import trust_current_key
    from core.verify_account import confirm_code, send_code
    from tests.core.test_products import account_of, add_address

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(366 * 24))
    reset_settings()
    token, _ = active
    send_code(token, "second_channel", "sms", PHONE)
    confirm_code(token, "second_channel", "sms", latest_code(PHONE), PHONE)
    add_address(account_of(token).id)
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Alice Tan")
    trust_current_key(ssh_log_on())
    from core.billing_run import run_billing
    from core.products import place_order, release_resource

    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=2))
    release_resource(token, view.id)
    clock.advance(timedelta(hours=48))
    run_billing()
    return token


def test_export_holds_everything_stored_and_no_secret(rich_account, cloudacct_home):
    from core.files import account_files
    from core.models import Account, Code, LedgerEntry, PaymentMethod, Session
    from core.security import export_data


    path = export_data(rich_account)
    exports = account_files(Account.get(Account.email == EMAIL).id).exports
    assert path.parent == exports and path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    assert document["account"]["email"] == EMAIL
    assert document["account"]["phone"] == "+6581234567"
    assert document["billing_address"][0]["full_name"] == "Alice Tan"
    assert document["billing_address"][0]["street"] == "1 Raffles Place"
    assert document["payment_methods"][0]["display"] == "Visa •••• 4242"
    assert document["payment_methods"][0]["holder_name"] == "Alice Tan"
    assert len(document["resources"]) == 1 and len(document["bills"]) == 1
    assert {e["kind"] for e in document["ledger"]} >= {"hold", "hold_release", "charge"}
    assert len(document["log_ons"]) == 2
    assert {s["origin"] for s in document["log_ons"]} == {"local", "203.0.113.5"}
    assert document["trusted_ssh_keys"][0]["fingerprint"] == KEY
    assert {c["purpose"] for c in document["verification_codes"]} == {"signup",
                                                                      "second_channel"}
    # no secrets
    account = Account.get(Account.email == EMAIL)
    assert "$argon2" not in text and account.password_hash not in text
    secrets = [s.token_hash for s in Session.select()]
    secrets += [c.code_hash for c in Code.select()]
    secrets += [m.gateway_token for m in PaymentMethod.select()]
    secrets += [m.fingerprint for m in PaymentMethod.select()]
    secrets += [e.idempotency_key for e in LedgerEntry.select()]
    assert len(secrets) >= 8
    for secret in secrets:
        assert secret and secret not in text
    for name in ("password_hash", "token_hash", "code_hash", "gateway_token",
                 "idempotency_key", "email_audit_hash"):
        assert f'"{name}"' not in text
    assert '"fingerprint"' not in json.dumps(document["payment_methods"])
    assert not [p for p in exports.iterdir() if p.name.endswith(".tmp")]


def test_export_only_of_ones_own_account(rich_account):
    from core.accounts import sign_up
    from core.security import export_data

    other = sign_up("SG", "bob@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True).token
    document = json.loads(export_data(other).read_text(encoding="utf-8"))
    assert document["account"]["email"] == "bob@example.com"
    assert document["billing_address"] == [] and document["payment_methods"] == []
    assert document["bills"] == [] and document["trusted_ssh_keys"] == []
    assert "Alice" not in json.dumps(document) and EMAIL not in json.dumps(document)


def test_export_needs_a_live_session(db):
    from core.security import export_data

    with pytest.raises(SessionExpired):
        export_data(None)
