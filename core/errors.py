"""Refusals. Every one carries a message written for the person at the keyboard.

`field` names the form field the message belongs beside (CONTRACT.md `#<field>-error`), or is
None for a message about the whole form.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the person can act on."""

    field: str | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """A value that does not pass its check."""


class AuthenticationError(DomainError):
    """Log-on refused (one message whether or not the email exists)."""


class LockedError(DomainError):
    """Too many failures: wait until the lock clears."""


class RateLimitError(DomainError):
    """Too soon or too often (resend cooldown, sends per hour)."""


class CodeError(DomainError):
    """A one-time code that is wrong, expired or used."""

    field = "code"


class SessionExpired(DomainError):
    """The session ended (idle, absolute limit, logged off or ended elsewhere)."""


class DeliveryError(DomainError):
    """A message could not be delivered; nothing was recorded, and it can be retried."""


class NotFound(DomainError):
    """The thing asked for does not exist for this account."""


class Refused(DomainError):
    """The operation is not allowed in the account's present state."""


class StorageError(DomainError):
    """The database could not be written (busy, full or read-only)."""


class FormErrors(ValidationError):
    """Every refusal of one form at once, by field (CONTRACT `#<field>-error`).

    A flow checks every field before it refuses, so a person learns all the problems with one
    press. `message` and `field` are the first error's, for callers that show only one.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        if not errors:
            raise ValueError("FormErrors needs at least one error")
        field, message = next(iter(errors.items()))
        super().__init__(message, field)
        self.errors = dict(errors)
