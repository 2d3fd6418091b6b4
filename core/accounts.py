"""F1 sign up and F3 log on / log off, and the account as the console shows it.

Both are enumeration-safe: signing up with an email that has a live account looks exactly like
a new sign-up (the owner gets a notice instead of a code), and log-on gives one message for an
unknown email and a wrong password, with the same throttle for both.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from peewee import IntegrityError

from core import clock
from core.db import transaction
from core.errors import AuthenticationError, ValidationError
from core.hashing import hash_password, spend_equal_time, verify_password
from core.logon_throttle import (
    FREE_FAILURES,
    clear_logon_failures,
    refuse_throttled_logon,
    throttle_logon_failure,
)
from core.models import Account, BillingAddress, EmailClaim, PaymentMethod, RealNameRegistration
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

WRONG_CREDENTIALS = "The email or password is not correct."
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


def email_is_claimable(account: Account) -> bool:
    """An account that took its email without verifying it (a phone sign-up that never
    reached F4, or a sign-up never verified at all) cannot keep the email's owner out: the
    owner's sign-up with it proceeds as new (an email claim), and the first of them to verify
    the email by code keeps it. Such an account holds nothing of value: F4 needs the email
    verified, so there is no billing address, no payment method and nothing bought."""
    return (account.email_verified_at is None
            and not BillingAddress.select().where(BillingAddress.account == account.id).exists())


def _sign_up_as(address, country_code: str, password_hash: str, origin: str,
                at: datetime) -> str:
    """Inside a transaction: a new account, an email claim, or a decoy; returns the token."""
    existing = _live_account_by_key(address.key)
    if existing is None:
        account = Account.create(email=address.address, email_key=address.key,
                                 country=country_code, password_hash=password_hash,
                                 status="unverified", created_at=at)
        return start_session(account.id, origin=origin)
    if email_is_claimable(existing):
        # The live account keeps the email key until this one verifies the email; meanwhile
        # this one waits under a placeholder key (one live account per email key).
        account = Account.create(email=address.address,
                                 email_key=f"claim:{secrets.token_hex(12)}",
                                 country=country_code, password_hash=password_hash,
                                 status="unverified", created_at=at)
        EmailClaim.create(account=account.id, email_key=address.key, created_at=at)
        return start_session(account.id, origin=origin)
    return start_session(None, origin=origin, notify_account_id=existing.id,
                         signup_country=country_code)


def sign_up(country: str | None, email: str | None, password: str | None,
            password_confirm: str | None, agreed: bool, *, origin: str = "local") -> SignUpResult:
    """Create an unverified account and a session for it (F1).

    The same result whatever the email: new (an account), held by an account that never
    verified it (an account with an email claim, see `email_is_claimable`), or held by a
    verified account (a decoy session: the owner is told instead, core.verify_account)."""
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
            token = _sign_up_as(address, country_code, password_hash, origin, at)
    except IntegrityError:
        # Another sign-up with this email won the race: decide again, now that it is there.
        with transaction():
            token = _sign_up_as(address, country_code, password_hash, origin, at)
    return SignUpResult(token=token, email_masked=mask_email(address.address),
                        country=country_code)


def log_on(email: str | None, password: str | None, *, origin: str = "local",
           key_fingerprint: str | None = None) -> LogOnResult:
    """Log on (F3). An unverified account logs on too: the console resumes F2.

    Throttled by core.logon_throttle (this email from this address, this email from every
    address, this address for every email), with one message whether or not the email has an
    account."""
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
