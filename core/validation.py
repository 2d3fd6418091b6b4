"""Pure checks of what people type. Each returns the clean value or raises ValidationError
with a message for the field, so every front end gets the same rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from core.errors import ValidationError

PASSWORD_MIN = 12
PASSWORD_MAX = 256
MIN_STRENGTH = 3
_STRENGTH_PREFIX = 100  # the estimator is quadratic; beyond 100 characters only length adds

_CONTROL_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def has_control_characters(text: str) -> bool:
    """Control, format (zero-width, bidi overrides) and unassigned characters."""
    return any(unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in text)


def clean_line(text: str | None, field: str, label: str, *, max_length: int = 200,
               required: bool = True) -> str:
    """A one-line text field: trimmed, no control characters, within length."""
    value = (text or "").strip()
    if not value:
        if required:
            raise ValidationError(f"Enter {label}.", field)
        return ""
    if has_control_characters(value):
        raise ValidationError(
            f"{label[0].upper()}{label[1:]} contains characters that cannot be used "
            "(line breaks, control or invisible characters).",
            field,
        )
    if len(value) > max_length:
        raise ValidationError(
            f"{label[0].upper()}{label[1:]} is too long: at most {max_length} characters.", field
        )
    return value


# --- country -------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def countries() -> list[tuple[str, str]]:
    """(alpha-2, name) of every ISO 3166 country, sorted by name."""
    import pycountry

    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda x: x[1])


def country_name(alpha_2: str) -> str:
    return dict(countries()).get(alpha_2, alpha_2)


def check_country(code: str | None, field: str = "country") -> str:
    value = (code or "").strip().upper()
    if not value or value not in dict(countries()):
        raise ValidationError("Choose the country where your phone and bank card are registered.",
                              field)
    return value


# --- email ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Email:
    address: str  # as it will be shown and mailed to
    key: str  # the log-on ID used for uniqueness: case-folded

    @property
    def local_part(self) -> str:
        return self.address.rsplit("@", 1)[0]


def check_email(text: str | None, field: str = "email") -> Email:
    import email_validator

    raw = text or ""
    if not raw.strip():
        raise ValidationError("Enter your email address.", field)
    if len(raw) > 254:
        raise ValidationError("That email address is too long (at most 254 characters).", field)
    if has_control_characters(raw) or any(ch.isspace() for ch in raw.strip()):
        raise ValidationError("An email address cannot contain spaces or line breaks.", field)
    try:
        info = email_validator.validate_email(raw.strip(), check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError(f"That is not a valid email address: {exc}", field) from exc
    address = info.normalized
    return Email(address=address, key=address.casefold())


# --- password ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Strength:
    score: int  # 0..4
    label: str
    warning: str
    suggestions: tuple[str, ...]


_LABELS = ("Very weak", "Weak", "Fair", "Strong", "Very strong")


def password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> Strength:
    """The estimator's score and its feedback, shown live as the person types."""
    from zxcvbn import zxcvbn

    from core.hashing import normalise_password

    normalised = normalise_password(password)
    if not normalised:
        return Strength(0, _LABELS[0], "", ())
    result = zxcvbn(normalised[:_STRENGTH_PREFIX], user_inputs=list(user_inputs))
    feedback = result.get("feedback") or {}
    return Strength(
        score=int(result["score"]),
        label=_LABELS[int(result["score"])],
        warning=feedback.get("warning") or "",
        suggestions=tuple(feedback.get("suggestions") or ()),
    )


def check_password(password: str | None, email: Email | None = None,
                   field: str = "password") -> str:
    """The NFKC password if it meets the policy (SPEC F1). Spaces are kept as typed."""
    from core.hashing import normalise_password

    value = normalise_password(password or "")
    if len(value) < PASSWORD_MIN:
        raise ValidationError(f"Use at least {PASSWORD_MIN} characters.", field)
    if len(value) > PASSWORD_MAX:
        raise ValidationError(f"Use at most {PASSWORD_MAX} characters.", field)
    if has_control_characters(value.replace("\t", "")):
        raise ValidationError("A password cannot contain line breaks or control characters.",
                              field)
    inputs: tuple[str, ...] = ()
    if email is not None:
        local = email.local_part.casefold()
        if len(local) >= 3 and local in value.casefold():
            raise ValidationError("Your password must not contain your email name.", field)
        inputs = (email.local_part, email.address)
    strength = password_strength(value, inputs)
    if strength.score < MIN_STRENGTH:
        hint = strength.warning or (strength.suggestions[0] if strength.suggestions else "")
        message = "This password is too easy to guess."
        if hint:
            message += f" {hint}"
        else:
            message += " Add more words or characters."
        raise ValidationError(message, field)
    return value


def check_password_confirmation(password: str | None, confirmation: str | None,
                                field: str = "password-confirm") -> None:
    from core.hashing import normalise_password

    if not confirmation:
        raise ValidationError("Enter the password again.", field)
    if normalise_password(password or "") != normalise_password(confirmation):
        raise ValidationError("The two passwords are not the same.", field)


# --- one-time codes -------------------------------------------------------------------------

_CODE = re.compile(r"[0-9]{6}", re.ASCII)


def check_code_format(text: str | None, field: str = "code") -> str:
    value = (text or "").strip()
    if not _CODE.fullmatch(value):
        raise ValidationError("Enter the 6-digit code (digits 0–9 only).", field)
    return value


# --- phone numbers --------------------------------------------------------------------------

@dataclass(frozen=True)
class Phone:
    e164: str
    country: str
    can_receive_sms: bool


def check_phone(text: str | None, country: str, *, for_sms: bool = False,
                field: str = "phone") -> Phone:
    """A number of `country` (parsed with it as the default region), in E.164."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    raw = (text or "").strip()
    if not raw:
        raise ValidationError("Enter your phone number.", field)
    if len(raw) > 40 or has_control_characters(raw) or not re.fullmatch(r"[0-9+()\-. ]+", raw,
                                                                       re.ASCII):
        raise ValidationError(
            "That is not a phone number: use digits, optionally with +, spaces, dashes or "
            "parentheses.", field)
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("That is not a phone number we can read.", field) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            f"That is not a valid phone number for {country_name(country)}.", field)
    region = phonenumbers.region_code_for_number(number)
    if region != country:
        raise ValidationError(
            f"Use a phone number of {country_name(country)}, the country of your account.", field)
    kind = phonenumbers.number_type(number)
    mobile = kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if for_sms and not mobile:
        raise ValidationError(
            "That number cannot receive text messages. Use a mobile number, or choose "
            "Call immediately.", field)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return Phone(e164=e164, country=country, can_receive_sms=mobile)


def mask_email(address: str) -> str:
    local, _, domain = address.rpartition("@")
    if len(local) <= 2:
        shown = local[:1] + "•" * max(1, len(local) - 1)
    else:
        shown = local[0] + "•" * (len(local) - 2) + local[-1]
    return f"{shown}@{domain}"


def mask_phone(e164: str) -> str:
    if len(e164) <= 6:
        return e164
    return e164[:3] + "•" * (len(e164) - 5) + e164[-2:]
