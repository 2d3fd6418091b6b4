"""F1 sign up: the password policy, email normalisation, required fields, and enumeration-safe
handling of an email that already has a live account."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest

from core.accounts import SignUpResult, log_on, sign_up
from core.errors import AuthenticationError, CodeError, ValidationError
from core.models import Account, Code, Session
from core.validation import check_email, check_password
from core.verify_account import confirm_code, send_code, verify_state
from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.conftest import CODE_RUN, rows

EMAIL = "alice@example.com"


def verify_by_email(token: str, email: str = EMAIL) -> None:
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))


def signup(password: str, email: str = EMAIL, confirm: str | None = None, country: str = "SG",
           agreed: bool = True) -> SignUpResult:
    return sign_up(country, email, password, password if confirm is None else confirm, agreed)


# --- password policy ------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["kT9#vQ2!mZ4", "kT9#vQ2!mZ4x"[:11]])
def test_password_of_11_characters_is_refused(db, password):
    assert len(password) == 11
    with pytest.raises(ValidationError) as err:
        signup(password)
    assert err.value.field == "password"
    assert "12" in err.value.message
    assert rows(Account) == 0 and rows(Session) == 0


def test_password_of_12_characters_is_accepted_and_logs_on(db):
    password = "kT9#vQ2!mZ4x"
    assert len(password) == 12
    signup(password)
    assert rows(Account) == 1
    assert log_on(EMAIL, password).account.email == EMAIL


STRONG_BASE = "kT9#vQ2!mZ4x-Lp7@wR3$"


def test_password_of_256_characters_is_accepted(db):
    password = STRONG_BASE + "y" * (256 - len(STRONG_BASE))
    assert len(password) == 256
    signup(password)
    assert log_on(EMAIL, password).account.status == "unverified"


def test_password_of_257_characters_is_refused(db):
    password = STRONG_BASE + "y" * (257 - len(STRONG_BASE))
    with pytest.raises(ValidationError) as err:
        signup(password)
    assert err.value.field == "password"
    assert "256" in err.value.message
    assert rows(Account) == 0


def test_length_is_counted_after_nfkc():
    # U+FB01 (the "fi" ligature) is one character that NFKC makes two.
    password = "Zq8!wR\ufb01pL3#"
    assert len(password) == 11 and len(unicodedata.normalize("NFKC", password)) == 12
    assert check_password(password) == unicodedata.normalize("NFKC", password)


def test_nfc_and_nfd_spellings_log_on_alike(db):
    nfc = unicodedata.normalize("NFC", "Zoë naïve café croûte 7")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    signup(nfc)
    assert log_on(EMAIL, nfd).account.email == EMAIL
    assert log_on(EMAIL, nfc).account.email == EMAIL


def test_nfd_password_with_nfc_confirmation_is_the_same_password(db):
    nfc = unicodedata.normalize("NFC", "Zoë naïve café croûte 7")
    signup(unicodedata.normalize("NFD", nfc), confirm=nfc)
    assert rows(Account) == 1


@pytest.mark.parametrize("password", [
    "alice-correct-horse-battery",
    "xyzALICEqwerty!9871",
])
def test_password_containing_the_email_local_part_is_refused(db, password):
    with pytest.raises(ValidationError) as err:
        signup(password)
    assert err.value.field == "password"
    assert "email" in err.value.message.lower()
    assert rows(Account) == 0


def test_password_equal_to_the_email_local_part_is_refused(db):
    with pytest.raises(ValidationError) as err:
        signup("Quartz-Mongoose-77", email="quartz-mongoose-77@example.com")
    assert err.value.field == "password"
    assert rows(Account) == 0


@pytest.mark.parametrize("password", ["password1234", "qwertyuiopas", "123456789012"])
def test_common_password_is_refused_with_the_estimators_feedback(db, password):
    with pytest.raises(ValidationError) as err:
        signup(password)
    assert err.value.field == "password"
    message = err.value.message
    assert message.startswith("This password is too easy to guess.")
    # The estimator's feedback follows (e.g. "This is a very common password.").
    assert len(message) > len("This password is too easy to guess. ")
    assert rows(Account) == 0


def test_leading_and_trailing_spaces_are_kept(db):
    password = "  kT9#vQ2!mZ4x "
    signup(password)
    stored = Account.get().password_hash
    assert stored.startswith("$argon2id$")
    assert log_on(EMAIL, password).account.email == EMAIL
    for variant in (password.strip(), password.lstrip(), password.rstrip()):
        with pytest.raises(AuthenticationError):
            log_on(EMAIL, variant)


def test_mismatched_confirmation_names_the_confirmation_field(db):
    with pytest.raises(ValidationError) as err:
        signup(STRONG_PASSWORD, confirm=STRONG_PASSWORD + "x")
    assert err.value.field == "password-confirm"
    assert rows(Account) == 0


def test_password_is_stored_only_as_an_argon2id_hash(db, cloudacct_home):
    signup(STRONG_PASSWORD)
    stored = Account.get().password_hash
    assert stored.startswith("$argon2id$")
    assert STRONG_PASSWORD not in stored
    data = b"".join(p.read_bytes() for p in cloudacct_home.glob("cloudacct.db*"))
    assert STRONG_PASSWORD.encode() not in data


# --- email ----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ["ALICE@EXAMPLE.COM", "Alice@Example.com",
                                     "  alice@example.COM  "])
def test_case_variants_are_the_same_account(db, variant):
    first = signup(STRONG_PASSWORD)
    assert log_on(variant, STRONG_PASSWORD).account.email == EMAIL
    verify_by_email(first.token)
    signup("another Strong passw0rd!", email=variant)  # a decoy: the email is verified
    assert rows(Account) == 1


def test_internationalised_domain_is_accepted_and_its_forms_are_one_account(db):
    signup(STRONG_PASSWORD, email="zoë@bücher.de")
    assert rows(Account) == 1
    assert log_on("ZOË@BÜCHER.DE", STRONG_PASSWORD).account.email == "zoë@bücher.de"
    signup(STRONG_PASSWORD, email="zoe@xn--bcher-kva.de")  # another local part: a new account
    assert rows(Account) == 2
    # The A-label spelling of the same domain is the same log-on ID.
    assert check_email("zoe@xn--bcher-kva.de").key == check_email("ZOE@Bücher.de").key


def test_local_part_of_64_characters_is_accepted_and_65_refused(db):
    assert check_email("a" * 64 + "@example.com")
    with pytest.raises(ValidationError) as err:
        signup(STRONG_PASSWORD, email="a" * 65 + "@example.com")
    assert err.value.field == "email"
    assert rows(Account) == 0


def test_address_over_254_characters_is_refused(db):
    domain = ".".join(["d" * 60] * 4) + ".com"  # 247 characters
    address = "abcdefgh@" + domain
    assert len(address) == 256
    with pytest.raises(ValidationError) as err:
        signup(STRONG_PASSWORD, email=address)
    assert err.value.field == "email"
    assert rows(Account) == 0


@pytest.mark.parametrize("address", [
    "alice.example.com",
    "alice@@example.com",
    "alice@bob@example.com",
    "ali ce@example.com",
    "alice@exa mple.com",
    "a@b.com\r\nBcc: x@y.com",
    "a@b.com\nBcc: x@y.com",
    "alice@",
    "@example.com",
])
def test_malformed_emails_are_refused(db, address):
    with pytest.raises(ValidationError) as err:
        signup(STRONG_PASSWORD, email=address)
    assert err.value.field == "email"
    assert rows(Account) == 0 and rows(Session) == 0


# --- country and agreement ------------------------------------------------------------------

@pytest.mark.parametrize("country", [None, "", "  ", "XX", "Singapore", "SGP"])
def test_country_is_required(db, country):
    with pytest.raises(ValidationError) as err:
        signup(STRONG_PASSWORD, country=country)
    assert err.value.field == "country"
    assert rows(Account) == 0


def test_country_code_in_lower_case_is_accepted(db):
    assert signup(STRONG_PASSWORD, country="sg").country == "SG"
    assert Account.get().country == "SG"


def test_agreement_is_required(db):
    with pytest.raises(ValidationError) as err:
        signup(STRONG_PASSWORD, agreed=False)
    assert err.value.field == "agree"
    assert rows(Account) == 0 and rows(Session) == 0


def test_new_account_is_unverified(db):
    result = signup(STRONG_PASSWORD)
    assert Account.get().status == "unverified"
    assert result.country == "SG"
    assert result.email_masked == "a•••e@example.com"


# --- an email that already has a live account -----------------------------------------------

def test_duplicate_email_reveals_nothing(db, cloudacct_home):
    first = signup(STRONG_PASSWORD)
    verify_by_email(first.token)
    owner = Account.get()
    hash_before = owner.password_hash
    second = signup("Another strong passphrase 42", email="ALICE@example.com", country="GB")
    assert type(second) is type(first)
    assert second.email_masked == first.email_masked == "a•••e@example.com"
    # The Verify screen of the decoy masks the address like a real one would.
    assert verify_state(second.token, "signup", "email").destination_masked \
        == first.email_masked
    assert second.country == "GB"
    assert isinstance(second.token, str) and len(second.token) == len(first.token)
    assert second.token != first.token
    # No second account, and the owner's password did not change.
    assert rows(Account) == 1
    assert Account.get().password_hash == hash_before
    assert log_on(EMAIL, STRONG_PASSWORD).account.id == owner.id
    with pytest.raises(AuthenticationError):
        log_on(EMAIL, "Another strong passphrase 42")


def test_duplicate_signup_sends_the_owner_a_notice_without_a_code(db):
    from core.delivery import read_outbox

    verify_by_email(signup(STRONG_PASSWORD).token)
    decoy = signup("Another strong passphrase 42")
    state = send_code(decoy.token, "signup", "email")
    assert state.status.sent  # the decoy's screen looks like a real one
    assert state.destination_masked == "a•••e@example.com"
    messages = read_outbox(EMAIL)
    assert len(messages) == 2  # the owner's own code, then the notice
    assert not CODE_RUN.search(messages[0].body)
    assert not CODE_RUN.search(messages[0].subject or "")
    assert "sign up" in messages[0].subject.lower()


def test_decoy_can_never_verify_even_with_the_right_digits(db, monkeypatch):
    import core.verification

    verify_by_email(signup(STRONG_PASSWORD).token)
    verified_at = Account.get().email_verified_at
    decoy = signup("Another strong passphrase 42")
    monkeypatch.setattr(core.verification.secrets, "randbelow", lambda _n: 123456)
    send_code(decoy.token, "signup", "email")
    with pytest.raises(CodeError):
        confirm_code(decoy.token, "signup", "email", "123456")
    owner = Account.get()
    assert owner.email_verified_at == verified_at
    assert rows(Account) == 1
    assert Code.select().where(Code.used_at.is_null(False)).count() == 1  # the owner's own


def test_decoy_does_not_disturb_the_owners_own_verification(db):
    owner = signup(STRONG_PASSWORD)
    send_code(owner.token, "signup", "email")
    code = latest_code(EMAIL)
    decoy = signup("Another strong passphrase 42")
    with pytest.raises(CodeError):
        confirm_code(decoy.token, "signup", "email", code)
    assert confirm_code(owner.token, "signup", "email", code).status == "active"


def test_deleted_accounts_email_can_sign_up_again(db):
    signup(STRONG_PASSWORD)
    Account.update(status="deleted").execute()
    signup("Another strong passphrase 42")
    assert rows(Account) == 2
    assert Account.select().where(Account.status == "unverified").count() == 1
    assert log_on(EMAIL, "Another strong passphrase 42").account.status == "unverified"


def test_strangers_sign_up_attempts_cannot_block_the_owners_codes(db, clock):
    """An email nobody verified yet: each stranger's sign-up with it is an email claim with
    codes of its own, and none of them blocks the owner's code."""
    owner = signup(STRONG_PASSWORD)  # not verified yet
    for _ in range(6):
        stranger = signup("Another strong passphrase 42")
        send_code(stranger.token, "signup", "email")
        clock.advance(timedelta(minutes=1))
    send_code(owner.token, "signup", "email")
    assert confirm_code(owner.token, "signup", "email", latest_code(EMAIL)).status == "active"
    assert rows(Account) == 1  # the strangers' claims went once the owner verified the email


def test_notices_of_strangers_sign_ups_are_limited_to_5_an_hour(db, clock):
    from core.errors import RateLimitError

    verify_by_email(signup(STRONG_PASSWORD).token)
    for _ in range(5):
        decoy = signup("Another strong passphrase 42")
        send_code(decoy.token, "signup", "email")
        clock.advance(timedelta(minutes=1))
    decoy = signup("Another strong passphrase 42")
    with pytest.raises(RateLimitError):
        send_code(decoy.token, "signup", "email")
