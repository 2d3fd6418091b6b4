"""F1 sign up and F3 log on / log off, and the account as the console shows it.

Both are enumeration-safe: signing up with an email that has a live account looks exactly like
a new sign-up (the owner gets a notice instead of a code), and log-on gives one message for an
unknown email and a wrong password, with the same throttle for both.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from peewee import IntegrityError

from core import clock
from core.catalogue import add_months
from core.db import transaction
from core.errors import AuthenticationError, ValidationError
from core.forms import FormCheck
from core.hashing import hash_password, spend_equal_time, verify_password
from core.i18n import LANGUAGES, N_, money, phrase
from core.logon_throttle import (
    FREE_FAILURES,
    clear_logon_failures,
    refuse_throttled_logon,
    throttle_logon_failure,
)
from core.models import Account, BillingAddress, EmailClaim, PaymentMethod, RealNameRegistration
from core.money import format_usd
from core.sessions import end_session, require_account, start_session
from core.validation import (
    Email,
    check_country,
    check_email,
    check_password,
    check_password_confirmation,
    country_name,
    mask_email,
    mask_phone,
)
from core.wording import count, verbatim

if TYPE_CHECKING:
    from core.billing import Owed

WRONG_CREDENTIALS = N_("The email or password is not correct.")
LOGON_FAILURES_BEFORE_LOCK = FREE_FAILURES  # failures in a row before the first delay

LIVE = ("unverified", "active", "deletion_pending")


@dataclass(frozen=True)
class AccountView:
    id: int
    email: str
    country: str
    country_name: str
    status: str  # unverified | active | deletion_pending
    verified_channel: str | None
    email_verified: bool
    phone: str | None  # E.164, only once verified
    phone_masked: str | None
    created_at: datetime
    language: str | None = None
    """The language the account chose (F18), None when it never chose one."""

    @property
    def other_channel(self) -> str:
        """The channel F4 must verify: the one not used in F2."""
        return "email" if self.verified_channel == "phone" else "phone"


def account_view(account: Account) -> AccountView:
    return AccountView(
        id=account.id, email=account.email, country=account.country,
        country_name=country_name(account.country), status=account.status,
        verified_channel=account.verified_channel,
        email_verified=account.email_verified_at is not None,
        phone=account.phone if account.phone_verified_at else None,
        phone_masked=mask_phone(account.phone) if account.phone and account.phone_verified_at
        else None,
        created_at=account.created_at,
        language=account.language if account.language in LANGUAGES else None,
    )


@dataclass(frozen=True)
class SignUpResult:
    """The same shape whether or not the email was new."""

    token: str
    email_masked: str
    country: str


@dataclass(frozen=True)
class LogOnResult:
    token: str
    account: AccountView


def _live_account_by_key(email_key: str) -> Account | None:
    return Account.get_or_none(Account.email_key == email_key, Account.status.in_(LIVE))


def email_is_claimable(account: Account) -> bool:
    """An account that took its email without verifying it (a phone sign-up that never
    reached F4, or a sign-up never verified at all) cannot keep the email's owner out: the
    owner's sign-up with it proceeds as new (an email claim), and the first of them to verify
    the email by code keeps it. Such an account holds nothing of value: F4 needs the email
    verified, so there is no billing address, no payment method and nothing bought."""
    return (account.email_verified_at is None
            and not BillingAddress.select().where(BillingAddress.account == account.id).exists())


def _sign_up_as(address, country_code: str, password_hash: str, origin: str,
                at: datetime, language: str | None = None) -> str:
    """Inside a transaction: a new account, an email claim, or a decoy; returns the token."""
    existing = _live_account_by_key(address.key)
    if existing is None:
        account = Account.create(email=address.address, email_key=address.key,
                                 country=country_code, password_hash=password_hash,
                                 status="unverified", created_at=at,
                                 language=language if language in LANGUAGES else None)
        return start_session(account.id, origin=origin, stepped_up=True)
    if email_is_claimable(existing):
        # The live account keeps the email key until this one verifies the email; meanwhile
        # this one waits under a placeholder key (one live account per email key).
        account = Account.create(email=address.address,
                                 email_key=f"claim:{secrets.token_hex(12)}",
                                 country=country_code, password_hash=password_hash,
                                 status="unverified", created_at=at,
                                 language=language if language in LANGUAGES else None)
        EmailClaim.create(account=account.id, email_key=address.key, created_at=at)
        return start_session(account.id, origin=origin, stepped_up=True)
    return start_session(None, origin=origin, notify_account_id=existing.id,
                         signup_country=country_code)


AGREEMENT_REFUSAL = N_("Check the box to agree to the Membership Agreement, Privacy Policy, "
                        "Product Terms and Terms of Use.")


@dataclass(frozen=True)
class SignUpForm:
    """The sign-up form, checked: the country, the email and the NFKC password."""

    country: str
    email: Email
    password: str


def check_sign_up(country: str | None, email: str | None, password: str | None,
                  password_confirm: str | None, agreed: bool) -> SignUpForm:
    """Every field of the sign-up form checked at once (F1): FormErrors by field (`country`,
    `email`, `password`, `password-confirm`, `agree`), in the form's order. The password is
    judged with the email when the email is valid (it must not contain the email's name)."""
    form = FormCheck()
    country_code = form.check(check_country, country)
    address = form.check(check_email, email)
    clean_password = form.check(check_password, password, address)
    form.check(check_password_confirmation, password, password_confirm)
    if agreed is not True:
        form.refuse("agree", AGREEMENT_REFUSAL)
    form.raise_errors()
    assert country_code is not None and address is not None and clean_password is not None
    return SignUpForm(country_code, address, clean_password)


def sign_up(country: str | None, email: str | None, password: str | None,
            password_confirm: str | None, agreed: bool, *, origin: str = "local",
            language: str | None = None) -> SignUpResult:
    """Create an unverified account and a session for it (F1). FormErrors names every field
    in error at once (`check_sign_up`).

    The same result whatever the email: new (an account), held by an account that never
    verified it (an account with an email claim, see `email_is_claimable`), or held by a
    verified account (a decoy session: the owner is told instead, core.verify_account).
    `language` (the console's, F18) becomes the new account's, so its first code goes in it."""
    form = check_sign_up(country, email, password, password_confirm, agreed)
    country_code, address, clean_password = form.country, form.email, form.password
    password_hash = hash_password(clean_password)  # slow: before the transaction
    at = clock.now()
    try:
        with transaction():
            token = _sign_up_as(address, country_code, password_hash, origin, at, language)
    except IntegrityError:
        # Another sign-up with this email won the race: decide again, now that it is there.
        with transaction():
            token = _sign_up_as(address, country_code, password_hash, origin, at, language)
    return SignUpResult(token=token, email_masked=mask_email(address.address),
                        country=country_code)


def log_on(email: str | None, password: str | None, *, origin: str = "local",
           key_fingerprint: str | None = None,
           key_algorithm: str | None = None) -> LogOnResult | MfaRequired:
    """Log on (F3). An unverified account logs on too: the console resumes F2. An account with
    virtual MFA on gets no session yet: `MfaRequired`, whose pending token
    `complete_mfa_log_on` takes with the code (F13).

    Throttled by core.logon_throttle (this email from this address, this email from every
    address, this address for every email), with one message whether or not the email has an
    account. A log-on from an address the account has not used for 90 days is notified."""
    address = check_email(email)
    if not password:
        raise ValidationError("Enter your password.", "password")
    at = clock.now()
    account = _live_account_by_key(address.key)
    account_id = account.id if account is not None else None
    refuse_throttled_logon(address.key, origin, account_id, at)
    if account is None:
        spend_equal_time(password)
        ok = False
    else:
        ok = verify_password(account.password_hash, password)
    if not ok:
        throttle_logon_failure(address.key, origin, account_id, at)
        raise AuthenticationError(WRONG_CREDENTIALS, "log-on")
    with transaction():
        clear_logon_failures(address.key, origin, account.id, at)
        if _mfa_on(account.id):
            return _pending_log_on(account, origin, key_fingerprint, key_algorithm, at)
        token, new_address = _open_session(account.id, origin, key_fingerprint, key_algorithm,
                                           at, stepped_up=True)
    _tell_new_address(account.id, origin, at, new_address)
    return LogOnResult(token=token, account=account_view(account))


def log_off(token: str | None) -> None:
    end_session(token, "logged_off")


def current_account(token: str | None) -> AccountView:
    """The logged-on account (raises SessionExpired when the session has ended)."""
    return account_view(require_account(token))


@dataclass(frozen=True)
class NextStep:
    key: str  # verify | billing-address | payment-method | real-name | billing
    title: str
    detail: str


STATUS_LABELS = {"unverified": N_("Unverified"), "active": N_("Active"),
                 "deletion_pending": N_("Deletion pending")}
REAL_NAME_LABELS = {None: N_("Not registered"), "pending": N_("Pending review"),
                    "approved": N_("Approved"), "rejected": N_("Rejected")}
REAL_NAME_STEP_DETAILS = {
    None: N_("Needed only to buy in the regions of mainland China."),
    "pending": N_("Waiting for review (about 3 business days)."),
    "rejected": N_("Rejected: correct it and submit again."),
}
NOTHING_LEFT = N_("Nothing left to do: you can buy products and services.")
EXPIRY_WARNING_DAYS = 30  # F17: the Overview shows the default card's expiry this close


@dataclass(frozen=True)
class OverviewPage:
    """The account at a glance and each step still to do, read at one moment (F3, F17): the
    account id, what is owed (`owed_cents`: outstanding bills and usage not billed yet) and
    the default card's expiry when it is within 30 days (`expiry_notice`)."""

    account: AccountView
    status_label: str  # "Active", "Deletion pending"
    next_steps: tuple[NextStep, ...]  # in the seed's order
    note: str | None  # shown with the steps: the pending deletion, or that nothing is left
    has_billing_address: bool
    payment_methods: int
    default_method: str | None  # "Visa •••• 4242"
    default_method_expiry: str | None  # "10/26" (cards)
    default_method_expired: bool
    default_method_expires_soon: bool  # within EXPIRY_WARNING_DAYS (and not yet expired)
    real_name_status: str | None  # None | pending | approved | rejected
    real_name_label: str  # "Not registered", "Pending review", ...
    outstanding_cents: int  # bills issued and not paid
    unbilled_cents: int  # Pay-As-You-Go usage not billed yet
    deletion_pending: bool

    @property
    def owed_cents(self) -> int:
        """Everything still to pay: outstanding bills and usage not billed yet."""
        return self.outstanding_cents + self.unbilled_cents

    @property
    def owed_text(self) -> str:
        return format_usd(self.owed_cents)

    @property
    def account_id(self) -> int:
        """The account id the Overview shows (F17), as statements and invoices name it."""
        return self.account.id

    @property
    def expiry_notice(self) -> str | None:
        """"Your default card Visa •••• 4242 expires 12/26." while it expires within
        EXPIRY_WARNING_DAYS (F17); None otherwise (an expired one is a next step instead)."""
        if not self.default_method_expires_soon or self.default_method is None:
            return None
        return phrase("Your default card {card} expires {expiry}.",
                      card=verbatim(self.default_method),
                      expiry=verbatim(self.default_method_expiry))


def _card_expiry(method: PaymentMethod, at: datetime) -> tuple[str | None, bool, bool]:
    """(MM/YY, expired, expires within EXPIRY_WARNING_DAYS) of a card; a card is valid
    through the last day of its expiry month."""
    if method.exp_month is None or method.exp_year is None:
        return None, False, False
    text = f"{method.exp_month:02d}/{method.exp_year % 100:02d}"
    expired = (method.exp_year, method.exp_month) < (at.year, at.month)
    last_day = add_months(datetime(method.exp_year, method.exp_month, 1), 1)
    soon = not expired and last_day - at <= timedelta(days=EXPIRY_WARNING_DAYS)
    return text, expired, soon


def _deletion_note(owed: Owed) -> str:
    """What a pending deletion still waits for, in words (the Overview's note)."""
    left: list[str] = []
    if owed.outstanding_bills:
        left.append(phrase("{amount} in {bills} (pay it in Billing)",
                           amount=money(owed.outstanding_cents),
                           bills=count(owed.outstanding_bills, "outstanding bill")))
    if owed.unbilled_cents or owed.bills_due_by is not None:
        amount = money(owed.unbilled_cents)
        if owed.bills_due_by is not None:
            left.append(phrase("{amount} of Pay-As-You-Go usage not billed yet, billed by "
                               "{moment}", amount=amount,
                               moment=verbatim(f"{owed.bills_due_by:%Y-%m-%d %H:%M} UTC")))
        else:
            left.append(phrase("{amount} of Pay-As-You-Go usage not billed yet", amount=amount))
    if not left:
        return N_("Your account is being deleted: nothing new can be bought. It is deleted "
                  "automatically once everything is billed and paid; until then you can log "
                  "on, see and pay your bills.")
    # Translators: two things left to pay, as in "12.00 USD in 1 bill ...; 3.00 USD of ...".
    items = left[0] if len(left) == 1 else phrase("{first}; {second}", first=left[0],
                                                  second=left[1])
    return phrase("Your account is being deleted: nothing new can be bought. Left to pay: "
                  "{items}. It is deleted automatically once everything is billed and paid; "
                  "until then you can log on, see and pay your bills.", items=items)


def overview_page(token: str | None) -> OverviewPage:
    """The Overview section: the account, its status, what is owed and each step still to
    do, in one transaction."""
    from core.billing import owed as owed_by

    account = require_account(token)
    at = clock.now()
    with transaction():
        account = Account.get_by_id(account.id)
        has_address = BillingAddress.select().where(
            BillingAddress.account == account.id).exists()
        methods = list(PaymentMethod.select().where(PaymentMethod.account == account.id,
                                                    PaymentMethod.removed_at.is_null()))
        registration = (RealNameRegistration.select(RealNameRegistration.status)
                        .where(RealNameRegistration.account == account.id)
                        .order_by(RealNameRegistration.submitted_at.desc(),
                                  RealNameRegistration.id.desc()).first())
        owed = owed_by(account.id, at)
    default = next((m for m in methods if m.is_default), methods[0] if methods else None)
    expiry, expired, soon = _card_expiry(default, at) if default is not None else (None,) * 3
    real_name = registration.status if registration else None
    deleting = account.status == "deletion_pending"
    steps: list[NextStep] = []
    if account.status == "unverified":
        steps.append(NextStep("verify", N_("Verify your account"),
                              N_("Enter the code sent to your email or phone.")))
    if deleting:
        if owed.outstanding_bills:
            steps.append(NextStep("billing", N_("Pay outstanding bills"),
                                  phrase("{amount} is outstanding.",
                                         amount=money(owed.outstanding_cents))))
    else:
        if not has_address:
            steps.append(NextStep("billing-address", N_("Add billing address"),
                                  N_("Needed before you can buy products and services.")))
        if not methods:
            steps.append(NextStep("payment-method", N_("Add payment method"),
                                  N_("A bank card, PayPal or Paytm, needed before you can buy.")))
    if default is not None and expired:
        steps.append(NextStep(
            "payment-method", N_("Update payment method"),
            phrase("Your default card {card} expired {expiry}: add a new card or choose "
                   "another default.", card=verbatim(default.display), expiry=verbatim(expiry))))
    if real_name != "approved" and not deleting:
        steps.append(NextStep("real-name", N_("Real-name registration"),
                              REAL_NAME_STEP_DETAILS[real_name]))
    if deleting:
        note: str | None = _deletion_note(owed)
    else:
        note = None if steps else NOTHING_LEFT
    return OverviewPage(
        account=account_view(account),
        status_label=STATUS_LABELS.get(account.status, account.status.capitalize()),
        next_steps=tuple(steps), note=note, has_billing_address=has_address,
        payment_methods=len(methods), default_method=default.display if default else None,
        default_method_expiry=expiry, default_method_expired=bool(expired),
        default_method_expires_soon=bool(soon), real_name_status=real_name,
        real_name_label=REAL_NAME_LABELS.get(real_name, (real_name or "").capitalize()),
        outstanding_cents=owed.outstanding_cents, unbilled_cents=owed.unbilled_cents,
        deletion_pending=deleting)


def log_on_with_trusted_key(fingerprint: str | None, origin: str = "local", *,
                            key_algorithm: str | None = None,
                            user_presence: bool = False) -> LogOnResult | MfaRequired | None:
    """F11: a connection whose SSH key (its SHA256 fingerprint) an account trusts opens logged
    on: a new session for an `active` or `deletion_pending` account that trusts the key, or
    None (no such account, a deleted or unverified one, or — which trusting prevents — more
    than one account). The session records the origin and the key like a password log-on.

    With MFA on (F13) the key is the second factor only if it is a hardware security key whose
    signature carried the user-presence (touch) flag (`decide_key_log_on`); otherwise the
    connection gets `MfaRequired` and the console asks for the code. A session opened by a key
    alone is not stepped up (core.step_up)."""
    decision = decide_key_log_on(fingerprint, key_algorithm, user_presence)
    if decision.outcome == NO_LOG_ON:
        return None
    at = clock.now()
    with transaction():
        account = Account.get_or_none(Account.id == decision.account_id,
                                      Account.status.in_(("active", "deletion_pending")))
        if account is None:
            return None
        if decision.outcome == ASK_CODE:
            return _pending_log_on(account, origin, fingerprint, key_algorithm, at)
        token, new_address = _open_session(account.id, origin, fingerprint, key_algorithm, at,
                                           stepped_up=False)
    _tell_new_address(account.id, origin, at, new_address)
    return LogOnResult(token=token, account=account_view(account))


# --- the second step of a log-on with MFA (F13) and security keys over SSH ----------------------

PENDING_LIFETIME = timedelta(minutes=5)
SECURITY_KEY_ALGORITHMS = frozenset({"sk-ssh-ed25519@openssh.com",
                                     "sk-ecdsa-sha2-nistp256@openssh.com"})
OPEN_LOGGED_ON = "open"  # the key opens the console logged on
ASK_CODE = "code"  # the key is trusted, the authenticator code is still needed
NO_LOG_ON = "none"  # not a trusted key: the console asks to log on as for any connection
STEP_EXPIRED = N_("This log-on step has expired (you have 5 minutes to enter the code). "
                  "Log on again.")


@dataclass(frozen=True)
class MfaRequired:
    """The password (or a trusted key) was right; the account has virtual MFA on. The console
    shows `#mfa-code` / `#mfa-verify` and calls `complete_mfa_log_on(pending_token, code)`."""

    pending_token: str
    expires_at: datetime
    email_masked: str


@dataclass(frozen=True)
class KeyDecision:
    outcome: str  # open | code | none
    account_id: int | None


def _mfa_on(account_id: int) -> bool:
    from core.mfa import mfa_enabled

    return mfa_enabled(account_id)


def key_is_second_factor(algorithm: str | None, user_presence: bool) -> bool:
    """A hardware security key (FIDO/U2F, OpenSSH's `sk-` types) that was touched for this
    signature: something the person holds and is present at, a second factor on its own."""
    return bool(user_presence) and (algorithm or "") in SECURITY_KEY_ALGORITHMS


def key_log_on_outcome(trusted: bool, mfa_on: bool, algorithm: str | None,
                       user_presence: bool) -> str:
    """The decision table of F11/F13 for a connection's SSH key: not trusted → none; trusted
    and MFA off → open; MFA on → open for a touched security key, else ask for the code."""
    if not trusted:
        return NO_LOG_ON
    if not mfa_on or key_is_second_factor(algorithm, user_presence):
        return OPEN_LOGGED_ON
    return ASK_CODE


def decide_key_log_on(fingerprint: str | None, algorithm: str | None = None,
                      user_presence: bool = False) -> KeyDecision:
    """What a connection with this key gets (the SSH server asks before opening the console).
    `algorithm` is the key's type as the client presented it, `user_presence` whether the
    signature's flags said the key was touched (only `sk-` keys carry them)."""
    from core.models import TrustedKey

    if not fingerprint or len(fingerprint) > 100:
        return KeyDecision(NO_LOG_ON, None)
    rows = list(TrustedKey.select(TrustedKey.account, TrustedKey.algorithm)
                .join(Account)
                .where(TrustedKey.fingerprint == fingerprint,
                       Account.status.in_(("active", "deletion_pending"))))
    owners = {row.account_id for row in rows}
    if len(owners) != 1:
        return KeyDecision(NO_LOG_ON, None)
    account_id = owners.pop()
    stored = {row.algorithm for row in rows if row.algorithm}
    if stored and (algorithm or "") not in stored:
        algorithm = None  # not the type it was trusted as: never a second factor
    outcome = key_log_on_outcome(True, _mfa_on(account_id), algorithm, user_presence)
    return KeyDecision(outcome, account_id)


def _pending_log_on(account: Account, origin: str, key_fingerprint: str | None,
                    key_algorithm: str | None, at: datetime) -> MfaRequired:
    """The pending second step (inside the log-on's transaction); steps a day past their end
    are pruned."""
    from core.hashing import new_token, token_hash
    from core.models import PendingLogOn

    token = new_token()
    PendingLogOn.delete().where(PendingLogOn.expires_at < at - timedelta(days=1)).execute()
    PendingLogOn.create(token_hash=token_hash(token), account=account.id, origin=origin[:100],
                        key_fingerprint=key_fingerprint,
                        key_algorithm=key_algorithm[:60] if key_algorithm else None,
                        created_at=at, expires_at=at + PENDING_LIFETIME)
    return MfaRequired(token, at + PENDING_LIFETIME, mask_email(account.email))


def _open_session(account_id: int, origin: str, key_fingerprint: str | None,
                  key_algorithm: str | None, at: datetime, *,
                  stepped_up: bool) -> tuple[str, bool]:
    """A new session (inside the transaction), and whether its address is new: not among
    those the account logged on from in the last 90 days."""
    from core.logon_throttle import known_addresses
    from core.sessions import address_key

    new_address = address_key(origin) not in known_addresses(account_id, at)
    token = start_session(account_id, origin=origin, key_fingerprint=key_fingerprint,
                          key_algorithm=key_algorithm, stepped_up=stepped_up)
    return token, new_address


def _tell_new_address(account_id: int, origin: str, at: datetime, new_address: bool) -> None:
    if new_address:
        from core.notices import notify_new_address_log_on

        notify_new_address_log_on(account_id, origin=origin, at=at)


def complete_mfa_log_on(pending_token: str | None, code: str | None) -> LogOnResult:
    """The second step (`#mfa-code`, `#mfa-verify`): the authenticator code or a recovery
    code starts the session. Wrong codes are throttled per account (core.mfa); the step
    expires after 5 minutes and is used once (SessionExpired, field `mfa-code`: log on again)."""
    from core.errors import SessionExpired
    from core.hashing import token_hash
    from core.mfa import CODE_FIELD, read_code, use_second_factor
    from core.models import PendingLogOn

    read_code(code, CODE_FIELD)  # a typo is not a try
    at = clock.now()
    row = PendingLogOn.get_or_none(PendingLogOn.token_hash == token_hash(pending_token or ""))
    if row is None or row.ended_at is not None or row.expires_at < at:
        raise SessionExpired(STEP_EXPIRED, CODE_FIELD)
    account = Account.get_or_none(Account.id == row.account_id, Account.status.in_(LIVE))
    if account is None or not _mfa_on(account.id):
        raise SessionExpired(STEP_EXPIRED, CODE_FIELD)
    opened: list[tuple[str, bool]] = []

    def start() -> None:
        ended = PendingLogOn.update(ended_at=at).where(
            PendingLogOn.id == row.id, PendingLogOn.ended_at.is_null()).execute()
        if ended != 1:
            raise SessionExpired(STEP_EXPIRED, CODE_FIELD)
        opened.append(_open_session(account.id, row.origin, row.key_fingerprint,
                                    row.key_algorithm, at, stepped_up=True))

    use_second_factor(account, code, origin=row.origin, field=CODE_FIELD, on_success=start)
    token, new_address = opened[0]
    _tell_new_address(account.id, row.origin, at, new_address)
    return LogOnResult(token=token, account=account_view(Account.get_by_id(account.id)))
