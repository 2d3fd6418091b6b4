"""The payment gateway interface. The sandbox implements it; a real gateway's adapter would too.

Card numbers and security codes go to `tokenize_card` and nowhere else: everything after works
on the token. Duplicate cards are told apart by the gateway's own card fingerprint (as Stripe's
`card.fingerprint`): the same number gives the same fingerprint at one merchant, and only the
gateway holds what makes it, so nothing the merchant keeps lets anyone test a card number.

Every call that moves money takes an idempotency key, so a retried call (after a crash or a
timeout) never moves money twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class GatewayDecline(Exception):
    """The gateway said no. `reason` is its words, shown to the person.

    `code` is the gateway's machine-readable reason (`card_declined`, `insufficient_funds`,
    `incorrect_cvc`, `expired_card`, `processing_error`, `incorrect_number`, `paypal_auth`, ...).
    `retryable` is True when trying again later may succeed (a processing error).
    """

    def __init__(self, reason: str, code: str = "declined", *, retryable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"GatewayDecline({self.code!r}, {self.reason!r})"


@dataclass(frozen=True)
class CardToken:
    token: str
    brand: str  # Visa, Mastercard, American Express, Discover, ...
    last4: str
    exp_month: int
    exp_year: int
    fingerprint: str  # the gateway's: equal for every token of one card number, at most 64


@dataclass(frozen=True)
class Authorization:
    """A pre-authorization hold."""

    id: str
    amount_cents: int
    currency: str = "USD"


@dataclass(frozen=True)
class Charge:
    id: str
    amount_cents: int
    currency: str = "USD"


@dataclass(frozen=True)
class Refund:
    id: str
    charge_id: str
    amount_cents: int


@dataclass(frozen=True)
class PayPalAgreement:
    token: str
    email: str


@dataclass(frozen=True)
class PaytmLink:
    token: str
    phone: str  # E.164


@dataclass(frozen=True)
class GatewayRecord:
    """What the gateway remembers of a call, for reconciliation (issue 7)."""

    kind: str
    idempotency_key: str
    token: str
    amount_cents: int
    state: str
    extra: dict = field(default_factory=dict)


class PaymentGateway(Protocol):
    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvv: str,
                      holder: str) -> CardToken: ...

    def card_fingerprint(self, token: str) -> str | None:
        """The fingerprint of the card behind a token (None: no such card token, or one the
        gateway has no fingerprint for). For cards saved before fingerprints came from the
        gateway."""
        ...

    def authorize(self, token: str, amount_cents: int, *,
                  idempotency_key: str) -> Authorization: ...

    def void(self, authorization_id: str, *, idempotency_key: str) -> None: ...

    def charge(self, token: str, amount_cents: int, *, idempotency_key: str,
               description: str = "") -> Charge: ...

    def refund(self, charge_id: str, amount_cents: int, *, idempotency_key: str) -> Refund: ...

    def revoke(self, token: str) -> None:
        """Make the token unusable (idempotent: revoking twice is fine)."""
        ...

    def paypal_log_on(self, email: str, password: str) -> str:
        """A PayPal session id after a successful log-on; GatewayDecline otherwise."""
        ...

    def paypal_agree(self, paypal_session: str) -> PayPalAgreement: ...

    def paytm_link(self, phone_e164: str) -> PaytmLink: ...

    def lookup(self, idempotency_key: str) -> GatewayRecord | None:
        """What the gateway did for a key (None: it never saw the call). For reconciliation."""
        ...

    def open_authorizations(self) -> list[GatewayRecord]:
        """Every authorization still held (not voided, not captured), oldest first: kind
        'authorize', `token` the card token, `state` 'held', `extra` with `object_id` (the
        authorization id) and `created_at` (naive UTC ISO text). For reconciliation: a hold
        nobody released is found here even if our ledger lost track of it."""
        ...
