"""One-line fields that take at most what their rule allows, and only text people can read.

Textual's `Input` refuses a whole insertion that would pass `max_length` (a 100 KB paste
leaves the field empty and rings the bell once per key of a flood) and takes control and
escape characters as they come. A `BoundedInput` cuts what is typed or pasted at the field's
limit instead, keeps only its first line, and drops escape sequences, control, format and
replacement characters: the work is linear in what arrives and never more than the limit
lands in the field. The limits live in one table, by widget id (CONTRACT.md's ids), so every
screen gets the same rule for the same kind of field.
"""

from __future__ import annotations

import re
import unicodedata

from textual.message import Message
from textual.widgets import Input

DEFAULT_LIMIT = 256
"""A field that is not in FIELD_LIMITS: as long as the longest rule (a password)."""

EMAIL_LIMIT = 254  # core.validation.check_email (RFC 5321)
PASSWORD_LIMIT = 256  # core.validation.PASSWORD_MAX
NAME_LIMIT = 200  # core.billing_address.NAME_MAX
CITY_LIMIT = 100  # core.billing_address.CITY_MAX
STREET_LIMIT = 200  # core.billing_address.STREET_MAX
POSTAL_CODE_LIMIT = 20  # core.validation.POSTAL_CODE_MAX
PHONE_LIMIT = 40  # core.validation.check_phone reads at most 40 characters
CODE_LIMIT = 64  # a 6-digit code or a recovery code, with room for spaces
PATH_LIMIT = 4096  # a local file path (the licence file of F6)

_EMAILS = ("email", "reset-email", "new-email", "contact-email", "paypal-email")
_PASSWORDS = ("password", "password-confirm", "current-password", "new-password",
              "new-password-confirm", "delete-password", "remove-password", "reset-password",
              "reset-password-confirm", "paypal-password", "step-up-code")
_NAMES = ("full-name", "company-name", "contact-name", "card-holder", "rn-name", "rn-company",
          "rn-legal-rep", "region")
_PHONES = ("phone", "new-phone", "contact-phone", "paytm-phone")
_CODES = ("code", "mfa-code", "reset-code", "change-code", "paytm-code")

FIELD_LIMITS: dict[str, int] = {
    **dict.fromkeys(_EMAILS, EMAIL_LIMIT),
    **dict.fromkeys(_PASSWORDS, PASSWORD_LIMIT),
    **dict.fromkeys(_NAMES, NAME_LIMIT),
    **dict.fromkeys(_PHONES, PHONE_LIMIT),
    **dict.fromkeys(_CODES, CODE_LIMIT),
    "city": CITY_LIMIT,
    "street": STREET_LIMIT,
    "street-2": STREET_LIMIT,
    "postal-code": POSTAL_CODE_LIMIT,
    "card-number": 40,  # 19 digits with spaces or dashes between them
    "card-expiry": 10,
    "card-cvv": 10,
    "rn-id-number": 40,
    "rn-credit-code": 40,
    "rn-licence": PATH_LIMIT,
}
"""The most characters each field takes, by widget id."""

_DROP = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_LINE_BREAK = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?"  # CSI, e.g. \x1b[2J
    r"|[\]P^_X][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, DCS, PM, APC, SOS up to BEL or ST
    r"|[ -/]*[0-~]?)"  # two-character and nF sequences
)


def field_limit(field_id: str | None) -> int:
    """The most characters the field with this id takes."""
    return FIELD_LIMITS.get(field_id or "", DEFAULT_LIMIT)


def clean_field_text(text: str, room: int) -> tuple[str, bool]:
    """What of `text` may land in a one-line field with `room` characters left, and whether
    any readable character had to be cut for want of room.

    Keeps the first line, removes escape sequences whole (a pasted `\\x1b]52;c;...\\x07` leaves
    nothing behind) and then every control, format, surrogate, unassigned or replacement
    character. It stops reading once the room is full, so a flood costs no more than the
    field can hold plus one look for what was cut.
    """
    line_break = _LINE_BREAK.search(text)
    if line_break is not None:
        text = text[: line_break.start()]
    if "\x1b" in text:
        text = _ESCAPE_SEQUENCE.sub("", text)
    kept: list[str] = []
    category = unicodedata.category
    for ch in text:
        if ch == "\ufffd" or (not ch.isprintable() and category(ch) in _DROP):
            continue
        if len(kept) >= room:
            return "".join(kept), True
        kept.append(ch)
    return "".join(kept), False


class BoundedInput(Input):
    """An `Input` whose `max_length` comes from FIELD_LIMITS and that cuts, never refuses."""

    class Cut(Message):
        """Text typed or pasted into `field` was cut at its limit (the app tells the person,
        once while the field stays full)."""

        def __init__(self, field: BoundedInput) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> BoundedInput:
            return self.field

    def __init__(self, value: str | None = None, placeholder: str = "", *,
                 max_length: int = 0, **kwargs) -> None:
        super().__init__(value, placeholder, max_length=max_length or field_limit(
            kwargs.get("id")), **kwargs)

    def replace(self, text: str, start: int, end: int) -> None:
        """Put what fits of `text` between `start` and `end` (Input refuses all of it)."""
        value = self.value
        start, end = sorted((max(0, start), min(len(value), end)))
        room = self.max_length - (len(value) - (end - start)) if self.max_length else len(text)
        kept, cut = clean_field_text(text, max(0, room))
        if kept or not text:
            super().replace(kept, start, end)
        if cut:
            self.post_message(self.Cut(self))
