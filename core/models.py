"""Peewee models: the whole schema. Times are naive UTC; money is integer cents (USD).

Secrets are never columns: passwords are argon2id hashes, codes keyed hashes, cards a gateway
token plus brand, last 4, expiry and the gateway's own card fingerprint.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from core import clock
from core.db import database


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Account(BaseModel):
    """A person's account. `email_key` is the normalised log-on ID (unique among live accounts)."""

    id = AutoField()
    email = CharField(max_length=320)
    email_key = CharField(max_length=320, index=True)
    country = CharField(max_length=2)
    password_hash = CharField(max_length=255)
    # unverified | active | deletion_pending | deleted
    status = CharField(max_length=20, default="unverified", index=True)
    verified_channel = CharField(max_length=10, null=True)  # email | phone (F2)
    email_verified_at = DateTimeField(null=True)
    phone = CharField(max_length=20, null=True)  # E.164
    phone_verified_at = DateTimeField(null=True)
    password_changed_at = DateTimeField(null=True)
    created_at = DateTimeField()
    deletion_requested_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)
    email_audit_hash = CharField(max_length=64, null=True)  # kept after deletion
    # F18: `en` | `zh-Hans`, the language of its console once logged on and of its emails and
    # SMS; chosen at sign-up (the console's language then), changed in Security settings.
    language = CharField(max_length=10, null=True)


class LogonThrottle(BaseModel):
    """Failed password checks in a row, per email key (known or not, so a delay reveals
    nothing) and per scope: `log_on` from one client address (`origin` is its address key,
    core.sessions.address_key), or `re_entry` (a logged-on person re-entering the password,
    origin ''). core.logon_throttle reads and writes it; the counts change in SQL."""

    id = AutoField()
    email_key = CharField(max_length=320)
    kind = CharField(max_length=10)  # log_on | re_entry
    origin = CharField(max_length=100)
    failures = IntegerField(default=0)
    last_failure_at = DateTimeField(index=True)

    class Meta:
        indexes = ((("email_key", "kind", "origin"), True),)


class LogonAttempt(BaseModel):
    """One password check: when, from where, for which email key, and how it ended (never the
    password). Kept 30 days (1 day for emails without an account) for recent log-ons, and read
    by the throttle's account-wide and address-wide counts."""

    id = AutoField()
    at = DateTimeField(index=True)
    email_key = CharField(max_length=320)
    account_id = IntegerField(null=True)  # the live account of the email then, if any
    origin = CharField(max_length=100)  # the address key, or '' for a re-entry
    kind = CharField(max_length=10)  # log_on | re_entry
    result = CharField(max_length=10)  # ok | failed

    class Meta:
        indexes = ((("email_key", "at"), False), (("origin", "at"), False),
                   (("account_id", "at"), False))


class MessageSend(BaseModel):
    """A message that costs money or reaches someone (a code, a notice), counted against the
    caps of core.message_caps. The destination is kept only as a keyed hash. Rows older than
    two days are pruned as new ones are recorded."""

    id = AutoField()
    at = DateTimeField(index=True)
    account_id = IntegerField(null=True)  # the account that asked; None: no account (decoy)
    session_id = IntegerField(null=True)
    origin = CharField(max_length=100)  # the asking session's address key
    channel = CharField(max_length=10)  # email | sms | voice
    destination_hash = CharField(max_length=64)
    capped = BooleanField(default=True)  # False: a security notice to the owner's own address

    class Meta:
        indexes = ((("session_id", "destination_hash"), False), (("account_id", "at"), False),
                   (("origin", "at"), False))


class SendPause(BaseModel):
    """Set while the global hourly ceiling of messages holds sends back, so that the operator's
    log says so once when it trips and once when sending resumes, in whichever process."""

    name = CharField(max_length=30, primary_key=True)
    since = DateTimeField()


class EmailClaim(BaseModel):
    """A sign-up with an email that another account took without verifying it (a phone
    sign-up that never verified the email, F4): the new account waits here, under a
    placeholder email key, until it verifies the email by code; then the address is its alone
    and the other account is closed (core.verify_account)."""

    account = ForeignKeyField(Account, unique=True, on_delete="CASCADE")
    email_key = CharField(max_length=320, index=True)  # the key it claims
    created_at = DateTimeField()


class Session(BaseModel):
    """A log-on. Only a hash of its token is stored; ending it here ends it in every process.

    A *decoy* session (account NULL) stands in for a sign-up with an email that already has a
    live account: the flow looks the same, and `notify_account` receives a notice instead of a code.
    """

    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    account = ForeignKeyField(Account, null=True, backref="sessions", on_delete="CASCADE")
    notify_account = ForeignKeyField(Account, null=True, on_delete="CASCADE")
    signup_country = CharField(max_length=2, null=True)  # decoys: the country the form named
    origin = CharField(max_length=100, default="local")  # local, or the SSH peer address
    key_fingerprint = CharField(max_length=100, null=True)
    key_algorithm = CharField(max_length=60, null=True)  # the SSH key's type, with the key
    created_at = DateTimeField()
    last_seen_at = DateTimeField()
    ended_at = DateTimeField(null=True, index=True)
    ended_reason = CharField(max_length=40, null=True)
    # The last proof that the person at this session is the account's owner (the password at
    # log-on or sign-up, the authenticator code, a step-up): core.step_up's grant.
    stepped_up_at = DateTimeField(null=True)


class Code(BaseModel):
    """A one-time code, stored as a keyed hash bound to account + purpose + destination."""

    id = AutoField()
    account = ForeignKeyField(Account, backref="codes", on_delete="CASCADE")
    purpose = CharField(max_length=30)
    destination = CharField(max_length=320)
    channel = CharField(max_length=10)  # email | sms | voice
    code_hash = CharField(max_length=64)
    created_at = DateTimeField()
    expires_at = DateTimeField()
    delivered_at = DateTimeField(null=True)
    tries = IntegerField(default=0)
    used_at = DateTimeField(null=True)
    voided_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("account", "purpose", "destination"), False), (("destination",), False))


class VerificationLock(BaseModel):
    """Consecutive failures of one verification (account + purpose); a resend does not reset it."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    purpose = CharField(max_length=30)
    failures = IntegerField(default=0)
    locked_until = DateTimeField(null=True)

    class Meta:
        primary_key = False
        indexes = ((("account", "purpose"), True),)


class BillingAddress(BaseModel):
    account = ForeignKeyField(Account, unique=True, backref="billing_address", on_delete="CASCADE")
    account_type = CharField(max_length=12)  # individual | corporate
    full_name = CharField(max_length=200, null=True)
    company_name = CharField(max_length=200, null=True)
    contact_name = CharField(max_length=200, null=True)
    contact_phone = CharField(max_length=20, null=True)
    contact_email = CharField(max_length=320, null=True)
    country = CharField(max_length=2)
    region = CharField(max_length=10, null=True)  # ISO 3166-2 code where the country has them
    city = CharField(max_length=100)
    street = CharField(max_length=200)
    street_2 = CharField(max_length=200, null=True)
    postal_code = CharField(max_length=20, null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()


class PaymentMethod(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="payment_methods", on_delete="CASCADE")
    kind = CharField(max_length=10)  # card | paypal | paytm
    gateway_token = CharField(max_length=100)
    brand = CharField(max_length=30, null=True)
    last4 = CharField(max_length=4, null=True)
    exp_month = IntegerField(null=True)
    exp_year = IntegerField(null=True)
    holder_name = CharField(max_length=200, null=True)
    # Cards: the gateway's fingerprint; PayPal/Paytm: a keyed hash of the email/phone.
    fingerprint = CharField(max_length=64, null=True, index=True)
    display = CharField(max_length=120)  # "Visa •••• 4242", "PayPal b•••r@example.com"
    is_default = BooleanField(default=False)
    created_at = DateTimeField()
    removed_at = DateTimeField(null=True)


class RealNameRegistration(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="real_name", on_delete="CASCADE")
    kind = CharField(max_length=12)  # individual | enterprise
    status = CharField(max_length=16)  # pending | approved | rejected
    legal_name = CharField(max_length=200, null=True)
    id_type = CharField(max_length=20, null=True)
    id_number = CharField(max_length=40, null=True)
    company_name = CharField(max_length=200, null=True)
    credit_code = CharField(max_length=18, null=True)
    legal_rep = CharField(max_length=200, null=True)
    licence_path = CharField(max_length=500, null=True)
    reason = TextField(null=True)
    submitted_at = DateTimeField()
    reviewed_at = DateTimeField(null=True)


class Resource(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="resources", on_delete="CASCADE")
    product = CharField(max_length=10)
    region = CharField(max_length=20)
    billing_method = CharField(max_length=12)  # subscription | payg
    period_months = IntegerField(null=True)
    auto_renew = BooleanField(default=False)
    state = CharField(max_length=12, default="running", index=True)  # running|expired|released
    hourly_cents = IntegerField(default=0)
    monthly_cents = IntegerField(default=0)
    created_at = DateTimeField()
    period_end = DateTimeField(null=True)
    released_at = DateTimeField(null=True)
    billed_until = DateTimeField(null=True)  # Pay-As-You-Go usage billed up to here


class Bill(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="bills", on_delete="CASCADE")
    resource = ForeignKeyField(Resource, null=True, backref="bills", on_delete="SET NULL")
    kind = CharField(max_length=12)  # usage | subscription | renewal
    description = CharField(max_length=200)
    description_text = TextField(null=True)  # the same as a text in any language (wording)
    amount_cents = IntegerField()
    period_start = DateTimeField(null=True)
    period_end = DateTimeField(null=True)
    issued_at = DateTimeField(index=True)
    status = CharField(max_length=12, default="outstanding", index=True)  # outstanding | paid
    paid_at = DateTimeField(null=True)
    # When a billing run (re)tries its charge; NULL: no run will (paid, or declined or without
    # a payment method: the person pays it). A bill is due for a charge from its creation; the
    # run that charges it first moves this ahead by a lease (core.billing: its claim).
    next_attempt_at = DateTimeField(null=True, default=clock.now)
    # Charges claimed by billing runs; a DEFAULT in the schema too, so a row written by plain
    # SQL (another tool, a test) needs no value, as on a database migration 7 upgraded.
    attempts = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])


class LedgerEntry(BaseModel):
    """Every movement of money through the gateway: holds, releases, charges, refunds."""

    id = AutoField()
    account = ForeignKeyField(Account, backref="ledger", on_delete="CASCADE")
    payment_method = ForeignKeyField(PaymentMethod, null=True, on_delete="SET NULL")
    bill = ForeignKeyField(Bill, null=True, backref="ledger", on_delete="SET NULL")
    kind = CharField(max_length=16)  # hold | hold_release | charge | charge_failed | refund
    amount_cents = IntegerField()
    currency = CharField(max_length=3, default="USD")
    description = CharField(max_length=200)
    description_text = TextField(null=True)  # the same as a text in any language (wording)
    gateway_ref = CharField(max_length=100, null=True)
    idempotency_key = CharField(max_length=64, unique=True)
    status = CharField(max_length=12, default="done")  # started | done | failed
    failure_reason = CharField(max_length=200, null=True)  # the gateway's words when failed
    created_at = DateTimeField()


class Invoice(BaseModel):
    """An invoice (one per successful charge) or a credit note (one per refund, correcting the
    invoice of the charge it returns), numbered in one gap-free sequence per account
    (`DocumentCounter`). The billing address is a snapshot taken at issue: later changes to
    the address do not rewrite an issued document (core.invoices)."""

    id = AutoField()
    account = ForeignKeyField(Account, backref="invoices", on_delete="CASCADE")
    number = IntegerField()
    kind = CharField(max_length=12)  # invoice | credit_note
    ledger_entry = ForeignKeyField(LedgerEntry, unique=True, on_delete="CASCADE")
    bill = ForeignKeyField(Bill, null=True, on_delete="SET NULL")
    corrects = ForeignKeyField("self", null=True, on_delete="SET NULL")  # credit notes
    amount_cents = IntegerField()
    currency = CharField(max_length=3, default="USD")
    description = CharField(max_length=200)
    method = CharField(max_length=120, null=True)  # "Visa •••• 4242" at issue
    issued_at = DateTimeField()
    bill_to_type = CharField(max_length=12, null=True)  # individual | corporate
    bill_to_name = CharField(max_length=200, null=True)  # full name, or the company's name
    bill_to_address = TextField(null=True)  # the address lines, one per line
    bill_to_country = CharField(max_length=2, null=True)

    class Meta:
        indexes = ((("account", "number"), True),)


class DocumentCounter(BaseModel):
    """The last invoice or credit note number of an account, raised in SQL in the transaction
    that issues the next one, so numbers are never skipped or reused."""

    account = ForeignKeyField(Account, primary_key=True, on_delete="CASCADE")
    last_number = IntegerField(default=0)


class TokenRevocation(BaseModel):
    """A gateway token to revoke, written in the erasure's transaction (F10) and removed once
    the gateway has revoked it; reconciliation retries what is left (core.payments)."""

    id = AutoField()
    account_id = IntegerField(index=True)
    gateway_token = CharField(max_length=100, unique=True)
    created_at = DateTimeField()
    tries = IntegerField(default=0)
    last_error = CharField(max_length=200, null=True)


class TrustedKey(BaseModel):
    id = AutoField()
    account = ForeignKeyField(Account, backref="trusted_keys", on_delete="CASCADE")
    fingerprint = CharField(max_length=100, index=True)
    label = CharField(max_length=100, null=True)
    algorithm = CharField(max_length=60, null=True)  # e.g. sk-ssh-ed25519@openssh.com
    created_at = DateTimeField()


class MfaDevice(BaseModel):
    """An account's virtual MFA device (F13). The TOTP secret is sealed (AES-GCM under a key
    derived from the secret key, core.sealed): it must be read back, so it is encrypted, never
    kept in clear nor only hashed. `enabled_at` is None while the person has not yet bound it
    with a current code. `last_step` is the last accepted TOTP time step: that step and
    earlier ones are refused (replays)."""

    account = ForeignKeyField(Account, unique=True, on_delete="CASCADE")
    secret_sealed = CharField(max_length=200)
    created_at = DateTimeField()
    enabled_at = DateTimeField(null=True)
    last_step = IntegerField(null=True)


class RecoveryCode(BaseModel):
    """A single-use recovery code of an account with MFA, stored only as a keyed hash."""

    id = AutoField()
    account = ForeignKeyField(Account, on_delete="CASCADE")
    code_hash = CharField(max_length=64)
    created_at = DateTimeField()
    used_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("account", "code_hash"), False),)


class PendingLogOn(BaseModel):
    """The second step of a log-on to an account with MFA: the password (or a trusted key)
    was right, the code is still to come. Only a hash of its token is stored; it expires after
    a few minutes and is used once (core.accounts.complete_mfa_log_on)."""

    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    account = ForeignKeyField(Account, on_delete="CASCADE")
    origin = CharField(max_length=100)
    key_fingerprint = CharField(max_length=100, null=True)
    key_algorithm = CharField(max_length=60, null=True)
    created_at = DateTimeField()
    expires_at = DateTimeField()
    ended_at = DateTimeField(null=True)


class PasswordReset(BaseModel):
    """One forgotten-password flow (F12), from the email typed to the reset. `account_id` is
    None when the email has no verified live account: the flow looks and counts the same, and
    nothing is sent (core.password_reset). Only a hash of its token is stored; flows for emails
    without an account are erased after a day."""

    id = AutoField()
    token_hash = CharField(max_length=64, unique=True)
    email_key = CharField(max_length=320, index=True)
    account_id = IntegerField(null=True, index=True)
    origin = CharField(max_length=100)
    created_at = DateTimeField()
    expires_at = DateTimeField()
    channel = CharField(max_length=10, null=True)  # email | sms: where the last code went
    sent_at = DateTimeField(null=True)
    tries = IntegerField(default=0)  # wrong tries of the last code
    code_ok_at = DateTimeField(null=True)  # the right code was entered (MFA may still be due)
    completed_at = DateTimeField(null=True)


class NoticeSent(BaseModel):
    """A notice that goes at most once (a card about to expire: once per card and expiry)."""

    key = CharField(max_length=120, primary_key=True)
    account_id = IntegerField(index=True)
    sent_at = DateTimeField()


class DeletionAudit(BaseModel):
    """What remains of a deleted account: a keyed hash of its email and when."""

    id = AutoField()
    email_hash = CharField(max_length=64, index=True)
    account_id = IntegerField()
    deleted_at = DateTimeField()


ALL_MODELS: list[type[BaseModel]] = [
    Account,
    LogonThrottle,
    LogonAttempt,
    MessageSend,
    SendPause,
    EmailClaim,
    Session,
    Code,
    VerificationLock,
    BillingAddress,
    PaymentMethod,
    RealNameRegistration,
    Resource,
    Bill,
    LedgerEntry,
    Invoice,
    DocumentCounter,
    TokenRevocation,
    TrustedKey,
    DeletionAudit,
    MfaDevice,
    RecoveryCode,
    PendingLogOn,
    PasswordReset,
    NoticeSent,
]
