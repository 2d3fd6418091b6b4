"""F5 Payment methods: bank card (with the 1.00 USD pre-authorization hold), PayPal, Paytm; the
list, the default, removal; and charging the default method (for billing, F7/F8).

Secrets: the card number and security code live only in a `CardDetails` (whose repr shows
neither) on their way to `gateway.tokenize_card`. Stored: the gateway token, brand, last 4,
expiry and the gateway's fingerprint of the card (duplicate detection). The fingerprint is made
by the gateway under a key only it holds (as Stripe's `card.fingerprint`): a keyed hash under
cloudacct's own secret.key, beside last 4 and brand in the same data directory, could be brute-
forced from a known BIN in ~88,000 tries. Cards saved before (migration 4 dropped their keyed
hashes) get the gateway's fingerprint for their token the first time a card is saved after.

Money moves through the gateway with an idempotency key that is written to the ledger (status
`started`) BEFORE the call, so a crash between the two leaves a record that reconciliation can
look up at the gateway (`gateway.lookup(key)`); the entry becomes `done` or `failed` after.

Adding a method (a card, PayPal, Paytm) and removing one are sensitive actions (F13): each
asks for a recent step-up first (core.step_up.require_step_up); removing carries the password,
which is the step-up when MFA is off.

Declines: a card whose hold is declined is not saved, its gateway token is revoked and no hold
is left (a hold that was placed is voided whatever fails after it). The ledger keeps the
attempted hold as a `hold` entry with status `failed` and the gateway's reason, so the billing
screen can show what was tried; it never moved money.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from peewee import IntegrityError, fn

from core import clock
from core.billing_address import address_of
from core.config import settings
from core.db import lightly_durable, transaction
from core.errors import (
    AuthenticationError,
    DomainError,
    NotFound,
    Refused,
    ValidationError,
)
from core.forms import FormCheck
from core.gateway import payment_gateway
from core.gateway.base import GatewayDecline
from core.hashing import keyed_hash
from core.i18n import N_, phrase, translate
from core.models import Account, Bill, LedgerEntry, PaymentMethod, Resource
from core.money import format_usd
from core.sessions import require_account
from core.step_up import require_step_up
from core.validation import (
    check_card_cvv,
    check_card_expiry,
    check_card_holder,
    check_card_number,
    check_code_format,
    check_indian_mobile,
    has_control_characters,
    mask_email,
    mask_phone,
    parse_object_id,
)
from core.wording import count, joined, stored_text, verbatim

HOLD_CENTS = 100
CURRENCY = "USD"
PAYTM_PURPOSE = "paytm"
KINDS = ("card", "paypal", "paytm")


# --- errors ----------------------------------------------------------------------------------

class PaymentDeclined(DomainError):
    """The gateway (or PayPal/Paytm) said no; the message is its reason."""

    field = "payment"

    def __init__(self, message: str, field: str | None = None, *, code: str = "declined",
                 retryable: bool = False) -> None:
        super().__init__(message, field)
        self.code = code
        self.retryable = retryable


class NoPaymentMethod(PaymentDeclined):
    """There is no payment method to charge."""


class PayPalRefused(PaymentDeclined):
    """PayPal refused the log-on or the agreement."""

    field = "paypal"


def _declined(exc: GatewayDecline, cls: type[PaymentDeclined] = PaymentDeclined,
              field: str | None = None) -> PaymentDeclined:
    return cls(exc.reason, field, code=exc.code, retryable=exc.retryable)


def money(cents: int, currency: str = CURRENCY) -> str:
    """100 → '1.00 USD' (integer cents only; core.money formats)."""
    return format_usd(cents)


# --- views -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class PaymentMethodView:
    id: int
    kind: str  # card | paypal | paytm
    display: str  # "Visa •••• 4242", "PayPal b•••r@example.com", "Paytm +91•••••••10"
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    holder_name: str | None
    is_default: bool
    created_at: datetime

    @property
    def expiry(self) -> str | None:
        """'04/29' for cards."""
        if self.exp_month is None or self.exp_year is None:
            return None
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    @property
    def expired(self) -> bool:
        if self.exp_month is None or self.exp_year is None:
            return False
        today = clock.now()
        return (self.exp_year, self.exp_month) < (today.year, today.month)


@dataclass(frozen=True)
class LedgerEntryView:
    id: int
    account_id: int
    payment_method_id: int | None
    bill_id: int | None
    kind: str  # hold | hold_release | charge | charge_failed | refund
    amount_cents: int
    currency: str
    description: str
    gateway_ref: str | None
    idempotency_key: str
    status: str  # started | done | failed
    failure_reason: str | None
    created_at: datetime

    @property
    def amount(self) -> str:
        return money(self.amount_cents, self.currency)


@dataclass(frozen=True, repr=False)
class CardDetails:
    """A checked card on its way to the gateway. Its repr/str never show the number or CVV."""

    number: str = field(repr=False)  # digits only
    exp_month: int
    exp_year: int
    cvv: str = field(repr=False)
    holder: str  # may be empty: an enterprise card without a holder name
    brand: str

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def display(self) -> str:
        return f"{self.brand} •••• {self.last4}"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    def __repr__(self) -> str:
        return f"CardDetails({self.display}, expires {self.expiry})"

    __str__ = __repr__

    def __reduce__(self):  # never pickled (into a cache, a log, a worker queue) with secrets
        raise TypeError("CardDetails cannot be pickled")


@dataclass(frozen=True)
class HoldStory:
    """The pre-authorization hold of a saved card, as recorded and shown."""

    hold: LedgerEntryView
    release: LedgerEntryView | None
    text: str  # "Held 1.00 USD on Visa •••• 4242 — released"


@dataclass(frozen=True)
class CardSaved:
    method: PaymentMethodView
    hold: HoldStory

    @property
    def story(self) -> str:
        return self.hold.text


def method_view(row: PaymentMethod) -> PaymentMethodView:
    return PaymentMethodView(
        id=row.id, kind=row.kind, display=row.display, brand=row.brand, last4=row.last4,
        exp_month=row.exp_month, exp_year=row.exp_year, holder_name=row.holder_name,
        is_default=bool(row.is_default), created_at=row.created_at)


def ledger_view(row: LedgerEntry) -> LedgerEntryView:
    return LedgerEntryView(
        id=row.id, account_id=row.account_id, payment_method_id=row.payment_method_id,
        bill_id=row.bill_id, kind=row.kind, amount_cents=row.amount_cents,
        currency=row.currency, description=row.description, gateway_ref=row.gateway_ref,
        idempotency_key=row.idempotency_key, status=row.status,
        failure_reason=row.failure_reason, created_at=row.created_at)


# --- helpers ---------------------------------------------------------------------------------

def _live_methods(account_id: int):
    return PaymentMethod.select().where(PaymentMethod.account == account_id,
                                        PaymentMethod.removed_at.is_null())


def _payer(token: str | None) -> Account:
    """The logged-on account, if it may add payment methods (active, billing address)."""
    account = require_account(token)
    if account.status not in ("active", "deletion_pending"):
        raise Refused("Verify your account first.", "payment")
    if address_of(account.id) is None:
        raise Refused("Add your billing address first: payment methods need it.", "payment")
    return account


def _new_key(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def _store_method(account_id: int, **values) -> PaymentMethod:
    """Insert a method; the first live one becomes the default. Call inside a transaction."""
    has_default = _live_methods(account_id).where(PaymentMethod.is_default == True).exists()  # noqa: E712
    return PaymentMethod.create(account=account_id, is_default=not has_default,
                                created_at=clock.now(), **values)


def _revoke_quietly(gateway_token: str) -> None:
    # Best effort: a token we no longer use is harmless, and gateways expire unused ones.
    with contextlib.suppress(GatewayDecline):
        payment_gateway().revoke(gateway_token)


def list_payment_methods(token: str | None) -> list[PaymentMethodView]:
    """The account's live methods: the default first, then newest first."""
    account = require_account(token)
    rows = _live_methods(account.id).order_by(PaymentMethod.is_default.desc(),
                                              PaymentMethod.created_at.desc(),
                                              PaymentMethod.id.desc())
    return [method_view(row) for row in rows]


def default_method(account_id: int) -> PaymentMethodView | None:
    row = _live_methods(account_id).where(PaymentMethod.is_default == True).first()  # noqa: E712
    return method_view(row) if row is not None else None


def paytm_offered(token: str | None) -> bool:
    """Paytm is offered only to accounts whose country is India."""
    return require_account(token).country == "IN"


@dataclass(frozen=True)
class PaymentMethodsPage:
    """What the Payment methods section shows, read at one moment (F5)."""

    address_lines: tuple[str, ...] | None  # the billing address; None: add it first
    holder: str  # the address's person, for the card holder field
    methods: tuple[PaymentMethodView, ...]  # the default first, then newest first
    paytm: bool  # Paytm is offered (accounts in India)
    phone_example: str | None  # a mobile number of the account's country, for placeholders

    @property
    def has_address(self) -> bool:
        return self.address_lines is not None


def payment_methods_page(token: str | None) -> PaymentMethodsPage:
    """The Payment methods section's page: the address, the live methods and what may be
    added, in one transaction."""
    from core.validation import phone_example

    account = require_account(token)
    with transaction():
        account = Account.get_by_id(account.id)
        address = address_of(account.id)
        rows = _live_methods(account.id).order_by(PaymentMethod.is_default.desc(),
                                                  PaymentMethod.created_at.desc(),
                                                  PaymentMethod.id.desc())
        methods = tuple(method_view(row) for row in rows)
    return PaymentMethodsPage(
        address_lines=tuple(address.lines) if address is not None else None,
        holder=(address.person_name or "") if address is not None else "",
        methods=methods, paytm=account.country == "IN",
        phone_example=phone_example(account.country))


# --- bank cards ------------------------------------------------------------------------------

def check_card(number: str | None, expiry: str | None, cvv: str | None,
               holder: str | None) -> CardDetails:
    """Every card check of F5 at once: FormErrors naming each field in error (card-number,
    card-expiry, card-cvv, card-holder), so the form shows all its problems after one Next.
    The security code's length follows the brand (3 or 4 digits while the number is wrong)."""
    form = FormCheck()
    checked = form.check(check_card_number, number)
    expiry_value = form.check(check_card_expiry, expiry)
    # The code's length follows the brand; while the number is wrong, 3 or 4 digits pass.
    code = form.check(check_card_cvv, cvv, checked[1] if checked is not None else None)
    name = form.check(check_card_holder, holder)
    form.raise_errors()
    assert checked is not None and expiry_value is not None and code is not None
    assert name is not None
    digits, brand = checked
    month, year = expiry_value
    return CardDetails(number=digits, exp_month=month, exp_year=year, cvv=code, holder=name,
                       brand=brand)


def _adopt_gateway_fingerprints(account_id: int) -> None:
    """Ask the gateway for the fingerprint of each live card saved without one (before
    fingerprints came from the gateway), and keep it. Outside a transaction: it calls out."""
    rows = list(_live_methods(account_id).where(PaymentMethod.kind == "card",
                                                PaymentMethod.fingerprint.is_null()))
    gateway = payment_gateway()
    for row in rows:
        try:
            fingerprint = gateway.card_fingerprint(row.gateway_token)
        except GatewayDecline:
            continue  # asked again next time
        if fingerprint:
            with transaction():
                PaymentMethod.update(fingerprint=fingerprint).where(
                    PaymentMethod.id == row.id, PaymentMethod.fingerprint.is_null()).execute()


def _refuse_duplicate_card(account_id: int, fingerprint: str) -> None:
    if _live_methods(account_id).where(PaymentMethod.kind == "card",
                                       PaymentMethod.fingerprint == fingerprint).exists():
        raise ValidationError("This card is already saved on your account.", "card-number")


def _ledger_start(account_id: int, kind: str, description: str, key: str, *,
                  method_id: int | None = None, bill_id: int | None = None,
                  amount_cents: int = HOLD_CENTS, gateway_ref: str | None = None) -> int:
    """Record a movement as `started` before the gateway is called (its own transaction).
    `gateway_ref` names what the call acts on when it is known before (the authorization a
    release voids, the charge a refund returns), so reconciliation can finish the call."""
    with transaction():
        row = LedgerEntry.create(account=account_id, payment_method=method_id, bill=bill_id,
                                 kind=kind, amount_cents=amount_cents, currency=CURRENCY,
                                 description=str(description)[:200],
                                 description_text=stored_text(description), idempotency_key=key,
                                 gateway_ref=gateway_ref, status="started",
                                 created_at=clock.now())
    return row.id


def _ledger_fail(entry_id: int, reason: str, *, kind: str | None = None) -> None:
    changes = {LedgerEntry.status: "failed", LedgerEntry.failure_reason: reason[:200]}
    if kind is not None:
        changes[LedgerEntry.kind] = kind
    with transaction():
        LedgerEntry.update(changes).where(LedgerEntry.id == entry_id).execute()


def place_preauthorization_hold(account_id: int, gateway_token: str, display: str,
                                *, amount_cents: int = HOLD_CENTS) -> tuple[int, str]:
    """Hold `amount_cents` on a tokenized card: a `hold` ledger entry (started → done, or
    failed with the reason). Returns (ledger entry id, authorization id); raises
    PaymentDeclined with the gateway's reason."""
    key = _new_key("hold")
    entry_id = _ledger_start(account_id, "hold",
                             phrase("Pre-authorization hold on {card}", card=verbatim(display)),
                             key,
                             amount_cents=amount_cents)
    try:
        auth = payment_gateway().authorize(gateway_token, amount_cents, idempotency_key=key)
    except GatewayDecline as exc:
        _ledger_fail(entry_id, exc.reason)
        raise _declined(exc) from None
    # Not synced by itself: the release's `started` entry, synced, follows at once and makes it
    # durable; a power cut in between leaves the hold `started`, and reconciliation (step 1)
    # marks it from the gateway's record of the key.
    with lightly_durable():
        LedgerEntry.update(status="done", gateway_ref=auth.id).where(
            LedgerEntry.id == entry_id).execute()
    return entry_id, auth.id


def release_preauthorization_hold(account_id: int, authorization_id: str, display: str,
                                  *, amount_cents: int = HOLD_CENTS) -> int:
    """Void a hold: a `hold_release` ledger entry (started → done). Returns its id."""
    key = _new_key("release")
    entry_id = _ledger_start(account_id, "hold_release",
                             phrase("Hold released on {card}", card=verbatim(display)), key,
                             amount_cents=amount_cents, gateway_ref=authorization_id)
    try:
        payment_gateway().void(authorization_id, idempotency_key=key)
    except GatewayDecline as exc:
        _ledger_fail(entry_id, exc.reason)
        raise _declined(exc) from None
    # Not synced by itself: the card's own transaction, synced, follows (and when it is not
    # reached, reconciliation's step 2 marks a `started` release from the gateway's record).
    with lightly_durable():
        LedgerEntry.update(status="done", gateway_ref=authorization_id).where(
            LedgerEntry.id == entry_id).execute()
    return entry_id


def save_card(token: str | None, number: str | None, expiry: str | None, cvv: str | None,
              holder: str | None) -> CardSaved:
    """Check, tokenize, hold 1.00 USD and release it, then store the card (F5 "Save the card").

    Raises ValidationError (card-number, card-expiry, card-cvv, card-holder; a duplicate is
    'card-number'), Refused (no billing address), PaymentDeclined (field 'payment', the
    gateway's reason). On any refusal nothing is stored but a failed `hold` ledger entry when
    the gateway declined the hold, and no hold is left at the gateway.
    """
    card = check_card(number, expiry, cvv, holder)
    account = _payer(token)
    require_step_up(token, "add_payment_method")
    address = address_of(account.id)
    holder_name = card.holder or (address.person_name if address else "") or None
    _adopt_gateway_fingerprints(account.id)

    gateway = payment_gateway()
    try:
        card_token = gateway.tokenize_card(card.number, card.exp_month, card.exp_year, card.cvv,
                                           holder_name or "")
    except GatewayDecline as exc:
        raise _declined(exc) from None
    del card  # from here on only the token
    display = f"{card_token.brand} •••• {card_token.last4}"
    fingerprint = card_token.fingerprint

    authorization_id: str | None = None
    released = False
    try:
        # The gateway knows the card only once it is tokenized: a duplicate's new token is
        # revoked below, and no hold is placed on it.
        _refuse_duplicate_card(account.id, fingerprint)
        hold_id, authorization_id = place_preauthorization_hold(account.id, card_token.token,
                                                                display)
        release_id = release_preauthorization_hold(account.id, authorization_id, display)
        released = True
        with transaction():
            _refuse_duplicate_card(account.id, fingerprint)  # a double submission that raced
            row = _store_method(
                account.id, kind="card", gateway_token=card_token.token,
                brand=card_token.brand, last4=card_token.last4, exp_month=card_token.exp_month,
                exp_year=card_token.exp_year, holder_name=holder_name,
                fingerprint=fingerprint, display=display)
            LedgerEntry.update(payment_method=row.id).where(
                LedgerEntry.id.in_([hold_id, release_id])).execute()
            method = method_view(row)
            hold = ledger_view(LedgerEntry.get_by_id(hold_id))
            release = ledger_view(LedgerEntry.get_by_id(release_id))
    except BaseException:
        if authorization_id is not None and not released:
            # The original error is what the person sees; the ledger shows a failed release.
            with contextlib.suppress(DomainError):
                release_preauthorization_hold(account.id, authorization_id, display)
        _revoke_quietly(card_token.token)
        raise
    text = phrase("Held {amount} on {method} — released", amount=verbatim(money(HOLD_CENTS)),
                  method=verbatim(display))
    return CardSaved(method=method, hold=HoldStory(hold=hold, release=release, text=text))


# --- PayPal ----------------------------------------------------------------------------------

def paypal_log_on(token: str | None, email: str | None, password: str | None) -> str:
    """Log on at PayPal (the PayPal window): a short-lived PayPal session id.

    Raises ValidationError (field 'paypal-email' / 'paypal-password' when empty or unusable)
    and PayPalRefused (field 'paypal', PayPal's message) when PayPal says no.
    """
    _payer(token)
    require_step_up(token, "add_payment_method")
    address = (email or "").strip()
    if not address:
        raise ValidationError("Enter your PayPal email address.", "paypal-email")
    if len(address) > 254 or has_control_characters(address) or " " in address:
        raise ValidationError("That is not an email address.", "paypal-email")
    if not password:
        raise ValidationError("Enter your PayPal password.", "paypal-password")
    if len(password) > 256:
        raise PayPalRefused(N_("Check your email address and password."))
    try:
        return payment_gateway().paypal_log_on(address, password)
    except GatewayDecline as exc:
        raise _declined(exc, PayPalRefused) from None


def paypal_cancel(paypal_session: str | None) -> None:
    """Cancel and return: the PayPal session ends, nothing is added."""
    cancel = getattr(payment_gateway(), "paypal_cancel", None)
    if cancel is not None and paypal_session:
        with contextlib.suppress(GatewayDecline):
            cancel(paypal_session)


def add_paypal(token: str | None, paypal_session: str | None) -> PaymentMethodView:
    """The person confirmed the billing agreement: add PayPal (masked email) as a method."""
    account = _payer(token)
    require_step_up(token, "add_payment_method")
    gateway = payment_gateway()
    try:
        agreement = gateway.paypal_agree(paypal_session or "")
    except GatewayDecline as exc:
        raise _declined(exc, PayPalRefused) from None
    fingerprint = keyed_hash("paypal", agreement.email.casefold())
    try:
        with transaction():
            if _live_methods(account.id).where(PaymentMethod.kind == "paypal",
                                               PaymentMethod.fingerprint == fingerprint).exists():
                raise Refused("This PayPal account is already saved on your account.", "paypal")
            row = _store_method(account.id, kind="paypal", gateway_token=agreement.token,
                                fingerprint=fingerprint,
                                display=f"PayPal {mask_email(agreement.email)}")
            result = method_view(row)
    except BaseException:
        _revoke_quietly(agreement.token)
        raise
    return result


# --- Paytm -----------------------------------------------------------------------------------

def _paytm_payer(token: str | None) -> Account:
    if require_account(token).country != "IN":
        raise Refused("Paytm is available only for accounts in India.", "payment")
    return _payer(token)


def _paytm_fingerprint(e164: str) -> str:
    return keyed_hash("paytm", e164)


def _refuse_duplicate_paytm(account_id: int, e164: str) -> None:
    if _live_methods(account_id).where(PaymentMethod.kind == "paytm",
                                       PaymentMethod.fingerprint == _paytm_fingerprint(e164)
                                       ).exists():
        raise ValidationError("This Paytm number is already saved on your account.",
                              "paytm-phone")


def _as_paytm_code_error(exc: DomainError) -> DomainError:
    if exc.field == "code":
        exc.field = "paytm-code"
    return exc


def send_paytm_code(token: str | None, phone: str | None):
    """Send the Paytm verification code by SMS (Paytm's **Send**). Returns a VerifyState
    (masked destination, resend countdown, tries left)."""
    from core.delivery import send_sms
    from core.message_caps import asker_of
    from core.verification import issue_code
    from core.verify_account import VerifyState

    account = _paytm_payer(token)
    e164 = check_indian_mobile(phone, "paytm-phone")
    _refuse_duplicate_paytm(account.id, e164)
    require_step_up(token, "add_payment_method")
    brand = settings().brand

    def deliver(code: str) -> None:
        # The SMS speaks the account's language (F18), not the console's.
        send_sms(e164, translate(phrase("Paytm: {code} is your code to link your Paytm wallet "
                                        "to {brand}. Valid for 10 minutes. Do not share it.",
                                        code=verbatim(code), brand=verbatim(brand)),
                                 getattr(account, "language", None) or "en"))

    try:
        status = issue_code(account.id, PAYTM_PURPOSE, e164, "sms", deliver,
                            asker=asker_of(token))
    except DomainError as exc:
        raise _as_paytm_code_error(exc) from None
    return VerifyState("sms", mask_phone(e164), status)


def paytm_code_state(token: str | None, phone: str | None):
    """The Paytm code's state for `phone` without sending anything (after a wrong code the
    form shows the tries left as they are now)."""
    from core.verification import code_status
    from core.verify_account import VerifyState

    account = _paytm_payer(token)
    e164 = check_indian_mobile(phone, "paytm-phone")
    return VerifyState("sms", mask_phone(e164), code_status(account.id, PAYTM_PURPOSE, e164))


def add_paytm(token: str | None, phone: str | None, code: str | None) -> PaymentMethodView:
    """Check the code (Paytm's **Add now**), link the wallet at the gateway and store it."""
    from core.verification import consume_code

    account = _paytm_payer(token)
    e164 = check_indian_mobile(phone, "paytm-phone")
    clean = check_code_format(code, "paytm-code")
    _refuse_duplicate_paytm(account.id, e164)
    require_step_up(token, "add_payment_method")
    try:
        consume_code(account.id, PAYTM_PURPOSE, e164, clean)
    except DomainError as exc:
        raise _as_paytm_code_error(exc) from None
    try:
        link = payment_gateway().paytm_link(e164)
    except GatewayDecline as exc:
        raise _declined(exc) from None
    try:
        with transaction():
            _refuse_duplicate_paytm(account.id, e164)
            row = _store_method(account.id, kind="paytm", gateway_token=link.token,
                                fingerprint=_paytm_fingerprint(e164),
                                display=f"Paytm {mask_phone(e164)}")
            result = method_view(row)
    except BaseException:
        _revoke_quietly(link.token)
        raise
    return result


# --- default and removal ---------------------------------------------------------------------

def _own_method(account_id: int, method_id: int) -> PaymentMethod:
    wanted = parse_object_id(method_id)
    row = _live_methods(account_id).where(PaymentMethod.id == wanted).first() if wanted else None
    if row is None:
        raise NotFound("That payment method does not exist.", "payment")
    return row


def own_method_view(account_id: int, method_id: int | str) -> PaymentMethodView:
    """A live method of the account, e.g. the one a person chose to pay with (NotFound)."""
    return method_view(_own_method(account_id, method_id))


def set_default_method(token: str | None, method_id: int) -> list[PaymentMethodView]:
    """Make a method the default; returns the list as `list_payment_methods`."""
    account = require_account(token)
    with transaction():
        row = _own_method(account.id, method_id)
        if not row.is_default:
            PaymentMethod.update(is_default=False).where(
                PaymentMethod.account == account.id, PaymentMethod.is_default == True  # noqa: E712
            ).execute()
            PaymentMethod.update(is_default=True).where(PaymentMethod.id == row.id).execute()
    return list_payment_methods(token)


def removal_blockers(account_id: int) -> list[str]:
    """Why the last method cannot be removed now (empty: it can)."""
    blockers: list[str] = []
    # Expired subscriptions and released resources cost nothing more.
    live_resources = Resource.select().where(
        Resource.account == account_id,
        Resource.state.in_(("running", "suspended"))).count()
    if live_resources:
        blockers.append(phrase("{resources} not released: release them first.",
                             resources=count(live_resources, "resource")))
    outstanding = Bill.select().where(Bill.account == account_id,
                                      Bill.status == "outstanding").count()
    if outstanding:
        blockers.append(phrase("{bills} unpaid: pay them first.",
                             bills=count(outstanding, "bill")))
    return blockers


def remove_method(token: str | None, method_id: int,
                  password: str | None) -> list[PaymentMethodView]:
    """Remove a method after the password is re-entered (field 'password' when wrong).

    The last method cannot be removed while resources run or bills are unpaid (Refused). When
    the default goes, the newest other method becomes the default. The token is revoked at the
    gateway. Returns the remaining methods.
    """
    account = require_account(token)
    _own_method(account.id, method_id)  # NotFound before asking anything else
    # MFA off: the password below is the step-up; MFA on: the code is needed as well.
    require_step_up(token, "remove_payment_method", password_carried=True)
    if not password:
        raise AuthenticationError("The password is not correct.", "password")
    from core.security import check_password_again

    check_password_again(account, password, "password")  # wrong re-entries are throttled
    at = clock.now()
    with transaction():
        row = _own_method(account.id, method_id)
        others = _live_methods(account.id).where(PaymentMethod.id != row.id)
        if not others.exists():
            blockers = removal_blockers(account.id)
            if blockers:
                raise Refused(phrase("This is your only payment method. {blockers}",
                                     blockers=joined(blockers)), "payment")
        PaymentMethod.update(removed_at=at, is_default=False).where(
            PaymentMethod.id == row.id).execute()
        if row.is_default:
            successor = others.order_by(PaymentMethod.created_at.desc(),
                                        PaymentMethod.id.desc()).first()
            if successor is not None:
                PaymentMethod.update(is_default=True).where(
                    PaymentMethod.id == successor.id).execute()
        gateway_token = row.gateway_token
    _revoke_quietly(gateway_token)
    return list_payment_methods(token)


def queue_revocations(account_id: int) -> int:
    """F10, inside the erasure's transaction, after its last check: every gateway token the
    account ever had is written down to be revoked (`TokenRevocation`), so the tokens are
    revoked only once the erasure is certain, and a crash after the commit leaves a list that
    `revoke_queued` (reconciliation) finishes. Returns how many methods were live."""
    from core.models import TokenRevocation

    at = clock.now()
    tokens = {row.gateway_token for row in
              PaymentMethod.select(PaymentMethod.gateway_token)
              .where(PaymentMethod.account == account_id)
              if row.gateway_token and row.gateway_token != "revoked"}
    for gateway_token in sorted(tokens):
        TokenRevocation.insert(account_id=account_id, gateway_token=gateway_token,
                               created_at=at).on_conflict_ignore().execute()
    return _live_methods(account_id).count()


@dataclass(frozen=True)
class Revocations:
    revoked: int
    left: int  # the gateway could not be reached for these: tried again later

    @property
    def done(self) -> bool:
        return self.left == 0


def revoke_queued(account_id: int | None = None, *,
                  queued_before: datetime | None = None) -> Revocations:
    """Revoke the tokens `queue_revocations` wrote down (of one account, or all of them queued
    before `queued_before`), outside any transaction. Revoking is idempotent at the gateway;
    each revoked token's row is removed, and one the gateway refused stays for the next try."""
    from core.models import TokenRevocation

    query = TokenRevocation.select().order_by(TokenRevocation.id)
    if account_id is not None:
        query = query.where(TokenRevocation.account_id == account_id)
    if queued_before is not None:
        query = query.where(TokenRevocation.created_at <= queued_before)
    gateway = payment_gateway()
    revoked = left = 0
    for row in list(query):
        try:
            gateway.revoke(row.gateway_token)
        except GatewayDecline as exc:
            left += 1
            with transaction():
                TokenRevocation.update(tries=TokenRevocation.tries + 1,
                                       last_error=exc.reason[:200]).where(
                    TokenRevocation.id == row.id).execute()
            continue
        with transaction():
            TokenRevocation.delete().where(TokenRevocation.id == row.id).execute()
        revoked += 1
    return Revocations(revoked, left)


# --- charging (F7/F8) ------------------------------------------------------------------------

def charge_default_method(account_id: int, amount_cents: int, description: str, *,
                          bill_id: int | None = None, idempotency_key: str,
                          method_id: int | None = None) -> LedgerEntryView:
    """Charge the default method, or the live method `method_id` of the account when the
    person chose one (NotFound when it is not theirs): a 'charge' ledger entry (done) with its
    invoice (core.invoices, in the same transaction), or a 'charge_failed' one and
    PaymentDeclined with the gateway's reason. NoPaymentMethod (a PaymentDeclined) when there
    is no method; nothing is recorded then.

    Idempotent by `idempotency_key`: a key already `done` returns that entry without charging
    again; a key left `started` (a crash mid-call) is retried at the gateway with the same key
    and method (whichever was chosen now: that attempt may already have charged), which
    returns the first result; a key that `failed` raises the same decline again (use a new
    key to try again).
    """
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValueError("amount_cents must be a positive int")
    if not idempotency_key or len(idempotency_key) > 64:
        raise ValueError("idempotency_key must be 1-64 characters")
    for _ in range(2):
        existing = LedgerEntry.get_or_none(LedgerEntry.idempotency_key == idempotency_key)
        if existing is not None:
            if existing.account_id != account_id \
                    or existing.kind not in ("charge", "charge_failed"):
                raise ValueError("idempotency_key already used for another movement")
            if existing.status == "done":
                return ledger_view(existing)
            if existing.status == "failed":
                raise PaymentDeclined(existing.failure_reason or N_("The payment was declined."))
            method = PaymentMethod.get_or_none(PaymentMethod.id == existing.payment_method_id)
            if method is None:
                _ledger_fail(existing.id, N_("The payment method was removed."),
                             kind="charge_failed")
                raise PaymentDeclined(N_("The payment method was removed."))
            entry_id = existing.id
            break
        if method_id is not None:
            method = _own_method(account_id, method_id)
        else:
            method = _live_methods(account_id).where(
                PaymentMethod.is_default == True).first()  # noqa: E712
        if method is None:
            raise NoPaymentMethod(N_("There is no payment method on the account: add one, "
                                     "then pay from the billing screen."))
        try:
            entry_id = _ledger_start(account_id, "charge", description, idempotency_key,
                                     method_id=method.id, bill_id=bill_id,
                                     amount_cents=amount_cents)
        except IntegrityError:
            # Another session (two people paying the same bill, or a billing run) started
            # this very charge a moment ago: follow its entry. The gateway answers both calls
            # with the same key with the one charge, so the bill is charged once.
            continue
        break
    else:  # pragma: no cover - the key's entry cannot vanish between the two reads
        raise PaymentDeclined(N_("The payment could not be started; please try again."))
    try:
        charge = payment_gateway().charge(method.gateway_token, amount_cents,
                                          idempotency_key=idempotency_key,
                                          description=description)
    except GatewayDecline as exc:
        _ledger_fail(entry_id, exc.reason, kind="charge_failed")
        raise _declined(exc) from None
    from core.invoices import issue_for_entry

    with transaction():
        LedgerEntry.update(status="done", gateway_ref=charge.id).where(
            LedgerEntry.id == entry_id).execute()
        issue_for_entry(entry_id)  # its number in the same transaction: none is ever skipped
    return ledger_view(LedgerEntry.get_by_id(entry_id))


def ledger_of(account_id: int) -> list[LedgerEntryView]:
    """Every ledger entry of an account, newest first (holds, releases, charges, refunds)."""
    rows = (LedgerEntry.select().where(LedgerEntry.account == account_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()))
    return [ledger_view(row) for row in rows]


def method_count(account_id: int) -> int:
    return _live_methods(account_id).select(fn.COUNT(PaymentMethod.id)).scalar() or 0
