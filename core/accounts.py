"""F1 sign up and F3 log on / log off, and the account as the console shows it.

Both are enumeration-safe: signing up with an email that has a live account looks exactly like
a new sign-up (the owner gets a notice instead of a code), and log-on gives one message for an
unknown email and a wrong password, with the same lock for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from peewee import IntegrityError

from core import clock
from core.db import transaction
from core.errors import AuthenticationError, LockedError, ValidationError
from core.hashing import hash_password, spend_equal_time, verify_password
from core.models import Account, BillingAddress, LogonThrottle, PaymentMethod, RealNameRegistration
from core.sessions import end_session, require_account, start_session
from core.validation import (
    check_country,
    check_email,
    check_password,
    check_password_confirmation,
    country_name,
    mask_email,
    mask_phone,
)

LOGON_FAILURES_BEFORE_LOCK = 5
LOGON_WINDOW = timedelta(minutes=15)
LOGON_LOCK = timedelta(minutes=15)
WRONG_CREDENTIALS = "The email or password is not correct."

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


def sign_up(country: str | None, email: str | None, password: str | None,
            password_confirm: str | None, agreed: bool, *, origin: str = "local") -> SignUpResult:
    """Create an unverified account and a session for it (F1)."""
    country_code = check_country(country)
    address = check_email(email)
    clean_password = check_password(password, address)
    check_password_confirmation(password, password_confirm)
    if not agreed:
        raise ValidationError(
            "Check the box to agree to the Membership Agreement, Privacy Policy, Product Terms "
            "and Terms of Use.", "agree")
    password_hash = hash_password(clean_password)  # slow: before the transaction
    at = clock.now()
    try:
        with transaction():
            existing = _live_account_by_key(address.key)
            if existing is not None:
                token = start_session(None, origin=origin, notify_account_id=existing.id,
                                      signup_country=country_code)
            else:
                account = Account.create(email=address.address, email_key=address.key,
                                         country=country_code, password_hash=password_hash,
                                         status="unverified", created_at=at)
                token = start_session(account.id, origin=origin)
    except IntegrityError:
        # Another sign-up with this email won the race: behave as for an existing account.
        with transaction():
            existing = _live_account_by_key(address.key)
            token = start_session(None, origin=origin,
                                  notify_account_id=existing.id if existing else None,
                                  signup_country=country_code)
    return SignUpResult(token=token, email_masked=mask_email(address.address),
                        country=country_code)


def _throttle_locked_until(email_key: str, at: datetime) -> datetime | None:
    row = LogonThrottle.get_or_none(LogonThrottle.email_key == email_key)
    if row is not None and row.locked_until is not None and row.locked_until > at:
        return row.locked_until
    return None


def _record_logon_failure(email_key: str, at: datetime) -> None:
    with transaction():
        LogonThrottle.insert(email_key=email_key, failures=0, window_start=at).on_conflict_ignore(
        ).execute()
        # A failure outside the 15-minute window starts a new window.
        LogonThrottle.update(failures=0, window_start=at).where(
            LogonThrottle.email_key == email_key,
            LogonThrottle.window_start <= at - LOGON_WINDOW).execute()
        LogonThrottle.update(failures=LogonThrottle.failures + 1).where(
            LogonThrottle.email_key == email_key).execute()
        LogonThrottle.update(locked_until=at + LOGON_LOCK, failures=0, window_start=at).where(
            LogonThrottle.email_key == email_key,
            LogonThrottle.failures >= LOGON_FAILURES_BEFORE_LOCK).execute()


def log_on(email: str | None, password: str | None, *, origin: str = "local",
           key_fingerprint: str | None = None) -> LogOnResult:
    """Log on (F3). An unverified account logs on too: the console resumes F2."""
    address = check_email(email)
    if not password:
        raise ValidationError("Enter your password.", "password")
    at = clock.now()
    locked_until = _throttle_locked_until(address.key, at)
    if locked_until is not None:
        spend_equal_time(password)
        minutes = max(1, int((locked_until - at).total_seconds() + 59) // 60)
        raise LockedError(
            f"Too many failed log-ons. Try again in {minutes} minute(s).", "log-on")
    account = _live_account_by_key(address.key)
    if account is None:
        spend_equal_time(password)
        ok = False
    else:
        ok = verify_password(account.password_hash, password)
    if not ok:
        _record_logon_failure(address.key, at)
        raise AuthenticationError(WRONG_CREDENTIALS, "log-on")
    with transaction():
        LogonThrottle.delete().where(LogonThrottle.email_key == address.key).execute()
        token = start_session(account.id, origin=origin, key_fingerprint=key_fingerprint)
    return LogOnResult(token=token, account=account_view(account))


def log_off(token: str | None) -> None:
    end_session(token, "logged_off")


def current_account(token: str | None) -> AccountView:
    """The logged-on account (raises SessionExpired when the session has ended)."""
    return account_view(require_account(token))


@dataclass(frozen=True)
class NextStep:
    key: str  # billing-address | payment-method | real-name | verify
    title: str
    detail: str


@dataclass(frozen=True)
class Overview:
    account: AccountView
    next_steps: tuple[NextStep, ...]
    has_billing_address: bool
    payment_methods: int
    real_name_status: str | None  # None | pending | approved | rejected


def overview(token: str | None) -> Overview:
    """The account's status and each step still to do, in the seed's order."""
    account = require_account(token)
    has_address = BillingAddress.select().where(BillingAddress.account == account.id).exists()
    methods = PaymentMethod.select().where(PaymentMethod.account == account.id,
                                           PaymentMethod.removed_at.is_null()).count()
    registration = (RealNameRegistration.select()
                    .where(RealNameRegistration.account == account.id)
                    .order_by(RealNameRegistration.submitted_at.desc(),
                              RealNameRegistration.id.desc()).first())
    real_name = registration.status if registration else None
    steps: list[NextStep] = []
    if account.status == "unverified":
        steps.append(NextStep("verify", "Verify your account",
                              "Enter the code sent to your email or phone."))
    if not has_address:
        steps.append(NextStep("billing-address", "Add billing address",
                              "Needed before you can buy products and services."))
    if methods == 0:
        steps.append(NextStep("payment-method", "Add payment method",
                              "A bank card, PayPal or Paytm, needed before you can buy."))
    if real_name != "approved":
        detail = {
            None: "Needed only to buy in the regions of mainland China.",
            "pending": "Submitted: waiting for review (about 3 business days).",
            "rejected": "Rejected: correct it and submit again.",
        }[real_name]
        steps.append(NextStep("real-name", "Real-name registration", detail))
    return Overview(account=account_view(account), next_steps=tuple(steps),
                    has_billing_address=has_address, payment_methods=methods,
                    real_name_status=real_name)


def log_on_with_trusted_key(fingerprint: str | None, origin: str = "local") -> LogOnResult | None:
    """F11: a connection whose SSH key (its SHA256 fingerprint) an account trusts opens logged
    on: a new session for an `active` or `deletion_pending` account that trusts the key, or
    None (no such account, a deleted or unverified one, or — which trusting prevents — more
    than one account). The session records the origin and the key like a password log-on."""
    from core.models import TrustedKey

    if not fingerprint or len(fingerprint) > 100:
        return None
    with transaction():
        rows = list(TrustedKey.select(TrustedKey.account)
                    .join(Account)
                    .where(TrustedKey.fingerprint == fingerprint,
                           Account.status.in_(("active", "deletion_pending"))))
        owners = {row.account_id for row in rows}
        if len(owners) != 1:
            return None
        account = Account.get_by_id(owners.pop())
        token = start_session(account.id, origin=origin, key_fingerprint=fingerprint)
    return LogOnResult(token=token, account=account_view(account))
