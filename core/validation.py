"""Pure checks of what people type. Each returns the clean value or raises ValidationError
with a message for the field, so every front end gets the same rules."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from core.errors import ValidationError
from core.i18n import N_, phrase
from core.wording import verbatim

PASSWORD_MIN = 12
PASSWORD_MAX = 256
MIN_STRENGTH = 3
# The estimator is quadratic, and zxcvbn >= 4.5 refuses more than 72 characters: judge the
# first 72 (beyond them only length adds).
_STRENGTH_PREFIX = 72

_CONTROL_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def has_control_characters(text: str) -> bool:
    """Control, format (zero-width, bidi overrides) and unassigned characters."""
    return any(unicodedata.category(ch) in _CONTROL_CATEGORIES for ch in text)


def is_valid_text(text: str) -> bool:
    """Can `text` be stored and hashed (UTF-8)? Not when it holds a lone surrogate, which a
    terminal never types but a decoder with `surrogateescape` or a script can hand over."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class FieldLabel(str):
    """A field's name as a sentence uses it: reads as its form inside a sentence ("your full
    name"); `opening` is its form at the start of one ("Your full name"). Both are message ids
    (marked with N_ where the label is made), so each language translates the label as a value
    of a whole sentence template: "Enter {label}." and "{label} is too long: ..."."""

    opening: str

    def __new__(cls, inside: str, opening: str) -> FieldLabel:
        made = super().__new__(cls, inside)
        made.opening = opening
        return made

    def __reduce__(self):  # a refusal naming a label crosses processes whole
        return (FieldLabel, (str(self), self.opening))


def field_label(inside: str, opening: str) -> FieldLabel:
    """`field_label(N_("your full name"), N_("Your full name"))`."""
    return FieldLabel(inside, opening)


FULL_NAME = field_label(N_("your full name"), N_("Your full name"))
COMPANY_NAME = field_label(N_("the company name"), N_("The company name"))
CONTACT_NAME = field_label(N_("the contact person's name"), N_("The contact person's name"))
CITY = field_label(N_("the city"), N_("The city"))
STREET = field_label(N_("the street address"), N_("The street address"))
STREET_2 = field_label(N_("the second street line"), N_("The second street line"))
STATE_OR_PROVINCE = field_label(N_("the state or province"), N_("The state or province"))
POSTAL_CODE = field_label(N_("the postal code"), N_("The postal code"))
CARD_HOLDER = field_label(N_("the card holder name"), N_("The card holder name"))
LEGAL_NAME = field_label(N_("your legal name"), N_("Your legal name"))
LEGAL_REPRESENTATIVE = field_label(N_("the legal representative's name"),
                                   N_("The legal representative's name"))
LICENCE_PATH = field_label(N_("the path of the business licence file"),
                           N_("The path of the business licence file"))
REJECTION_REASON = field_label(N_("the reason for the rejection"),
                               N_("The reason for the rejection"))
KEY_LABEL = field_label(N_("a label"), N_("A label"))


def _opening(label: str) -> str:
    """The label as a sentence begins with it (a plain str label: capitalised, English)."""
    if isinstance(label, FieldLabel):
        return label.opening
    return f"{label[:1].upper()}{label[1:]}"


def clean_line(text: str | None, field: str, label: str, *, max_length: int = 200,
               required: bool = True) -> str:
    """A one-line text field: trimmed, no control characters, within length. `label` is a
    FieldLabel (above) so that its refusals translate whole."""
    value = (text or "").strip()
    if not value:
        if required:
            # Translators: {label} is a field, as in "Enter your full name."
            message = phrase("Enter {label}.", label=label)
            raise ValidationError(message, field)
        return ""
    if has_control_characters(value):
        # Translators: {label} is a field, as in "Your full name contains ..."
        message = phrase("{label} contains characters that cannot be used "
                         "(line breaks, control or invisible characters).",
                         label=_opening(label))
        raise ValidationError(message, field)
    if len(value) > max_length:
        # Translators: {label} is a field, as in "Your full name is too long: ..."
        message = phrase("{label} is too long: at most {max} characters.",
                         label=_opening(label), max=max_length)
        raise ValidationError(message, field)
    return value


# --- object ids ----------------------------------------------------------------------------

_MAX_ID = 2**63 - 1  # the largest id either database can hold


def parse_object_id(value: object) -> int:
    """A row id as given by a screen or a command (int, or digits with spaces around), or 0
    when it cannot be one: 0 matches no row, so the caller's lookup says "not found"."""
    if isinstance(value, bool):
        return 0
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= _MAX_ID else 0


# --- country -------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def countries() -> list[tuple[str, str]]:
    """(alpha-2, name) of every ISO 3166 country, sorted by the English name; each name a
    `core.i18n.Name` (English here, the console's language through `translate()`)."""
    import pycountry

    from core.i18n import Name

    return sorted(((c.alpha_2, Name("country", c.alpha_2, c.name)) for c in pycountry.countries),
                  key=lambda x: x[1])


def country_name(alpha_2: str) -> str:
    """The country's name as a `core.i18n.Name` (`translate()` shows it in the console's
    language); the code itself when it names no country."""
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
        from core.library_texts import library_text

        # Translators: {problem} is the email checker's own explanation (translated too).
        message = phrase("That is not a valid email address: {problem}",
                         problem=library_text(str(exc)))
        raise ValidationError(message, field) from exc
    address = info.normalized
    if len(info.local_part) > 64:
        # RFC 5321: email-validator 2.x no longer enforces this limit itself.
        raise ValidationError(
            "The part before the @ is too long (at most 64 characters).", field)
    return Email(address=address, key=address.casefold())


# --- password ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Strength:
    score: int  # 0..4
    label: str
    warning: str
    suggestions: tuple[str, ...]
    # Whether the password would be accepted: a score of MIN_STRENGTH or more for the
    # estimator alone (`password_strength`); every rule of `check_password` for
    # `password_verdict`.
    acceptable: bool = False


_LABELS = (N_("Very weak"), N_("Weak"), N_("Fair"), N_("Strong"), N_("Very strong"))


def password_strength(password: str, user_inputs: tuple[str, ...] = ()) -> Strength:
    """The estimator's score and its feedback, shown live as the person types."""
    from zxcvbn import zxcvbn

    from core.hashing import normalise_password
    from core.library_texts import library_text

    normalised = normalise_password(password)
    if not normalised:
        return Strength(0, _LABELS[0], "", ())
    result = zxcvbn(normalised[:_STRENGTH_PREFIX], user_inputs=list(user_inputs))
    feedback = result.get("feedback") or {}
    return Strength(
        score=int(result["score"]),
        label=_LABELS[int(result["score"])],
        warning=library_text(feedback.get("warning") or ""),
        suggestions=tuple(library_text(text) for text in feedback.get("suggestions") or ()),
        acceptable=int(result["score"]) >= MIN_STRENGTH,
    )


def _password_inputs(email: Email | None) -> tuple[str, ...]:
    return (email.local_part, email.address) if email is not None else ()


def _rule_refusal(value: str, email: Email | None) -> str | None:
    """The refusal of a normalised password by the rules other than its strength."""
    if len(value) < PASSWORD_MIN:
        return phrase("Use at least {n} characters.", n=PASSWORD_MIN)
    if len(value) > PASSWORD_MAX:
        return phrase("Use at most {n} characters.", n=PASSWORD_MAX)
    if has_control_characters(value.replace("\t", "")):
        return N_("A password cannot contain line breaks or control characters.")
    if email is not None:
        local = email.local_part.casefold()
        if len(local) >= 3 and local in value.casefold():
            return N_("Your password must not contain your email name.")
    return None


def _strength_refusal(strength: Strength) -> str | None:
    if strength.score >= MIN_STRENGTH:
        return None
    hint = strength.warning or (strength.suggestions[0] if strength.suggestions else "")
    # Translators: {hint} is the strength estimator's advice (English), or "Add more words or
    # characters."
    return phrase("This password is too easy to guess. {hint}",
                  hint=hint or N_("Add more words or characters."))


def check_password(password: str | None, email: Email | None = None,
                   field: str = "password") -> str:
    """The NFKC password if it meets the policy (SPEC F1). Spaces are kept as typed."""
    from core.hashing import normalise_password

    if not is_valid_text(password or ""):
        raise ValidationError("The password holds a character that is not valid text. Type "
                              "it again.", field)
    value = normalise_password(password or "")
    refusal = _rule_refusal(value, email) or _strength_refusal(
        password_strength(value, _password_inputs(email)))
    if refusal is not None:
        raise ValidationError(refusal, field)
    return value


def password_verdict(password: str, email: str | None = None) -> Strength:
    """What a live strength meter shows: the estimator's score, judged by every rule core
    applies on submit (`check_password`: length, control characters, the email's name, the
    score). A password core would refuse is never shown as strong enough: its score is held
    below MIN_STRENGTH and the refusal is the warning. `email` is the email typed so far (its
    name counts once it is a valid address, as on submit)."""
    from core.hashing import normalise_password

    address: Email | None = None
    if email and "@" in email:
        try:
            address = check_email(email)
        except ValidationError:
            address = None
    value = normalise_password(password or "")
    strength = password_strength(value, _password_inputs(address))
    if not value:
        return strength
    refusal = _rule_refusal(value, address)
    if refusal is None:
        return strength
    score = min(strength.score, MIN_STRENGTH - 1)
    return Strength(score, _LABELS[score], refusal, strength.suggestions, False)


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


def _typed_phone(text: str | None, missing: str, field: str) -> str:
    """The trimmed text if it looks like a phone number as people type one (digits, +, spaces,
    dashes, dots, parentheses); the number itself is judged by phonenumbers after."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationError(missing, field)
    if len(raw) > 40 or has_control_characters(raw) or not re.fullmatch(r"[0-9+()\-. ]+", raw,
                                                                       re.ASCII):
        raise ValidationError(
            "That is not a phone number: use digits, optionally with +, spaces, dashes or "
            "parentheses.", field)
    return raw


E164_MAX_DIGITS = 15


def _valid_number(number, field: str, message: str) -> str:
    """The number in E.164, if phonenumbers finds it valid and it fits E.164's 15 digits
    (phonenumbers' metadata admits some longer German numbers that no E.164 field can hold)."""
    import phonenumbers

    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number) or len(e164) - 1 > E164_MAX_DIGITS:
        raise ValidationError(message, field)
    return e164


def check_phone(text: str | None, country: str, *, for_sms: bool = False,
                field: str = "phone") -> Phone:
    """A number of `country` (parsed with it as the default region), in E.164."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    raw = _typed_phone(text, N_("Enter your phone number."), field)
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("That is not a phone number we can read.", field) from exc
    e164 = _valid_number(number, field,
                         phrase("That is not a valid phone number for {country}.",
                                country=country_name(country)))
    region = phonenumbers.region_code_for_number(number)
    if region != country:
        raise ValidationError(
            phrase("Use a phone number of {country}, the country of your account.",
                   country=country_name(country)), field)
    kind = phonenumbers.number_type(number)
    mobile = kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if for_sms and not mobile:
        raise ValidationError(
            "That number cannot receive text messages. Use a mobile number, or choose "
            "Call immediately.", field)
    return Phone(e164=e164, country=country, can_receive_sms=mobile)


@lru_cache(maxsize=64)
def phone_example(country: str) -> str | None:
    """A mobile number of `country` as people write it with its country code, for a
    placeholder ("+91 81234 56789"); None when the country has no example."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    code = (country or "").strip().upper()
    number = (phonenumbers.example_number_for_type(code, PhoneNumberType.MOBILE)
              if code else None)
    if number is None:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def mask_email(address: str) -> str:
    """`a•••e@example.com`. Lower case, so the mask does not depend on how the address was
    typed (a decoy sign-up shows the same as a real one)."""
    local, _, domain = address.lower().rpartition("@")
    if len(local) <= 2:
        shown = local[:1] + "•" * max(1, len(local) - 1)
    else:
        shown = local[0] + "•" * (len(local) - 2) + local[-1]
    return f"{shown}@{domain}"


def mask_phone(e164: str) -> str:
    if len(e164) <= 6:
        return e164
    return e164[:3] + "•" * (len(e164) - 5) + e164[-2:]


# ===========================================================================================
# Billing address (F4) and payment methods (F5): appended by the billing/payments issue.
# Postal codes, regions, contact phone, bank cards, Paytm numbers.
# ===========================================================================================

# --- billing address ------------------------------------------------------------------------

@lru_cache(maxsize=256)
def regions_of(country: str) -> list[tuple[str, str]]:
    """(ISO 3166-2 code, name) of the country's subdivisions, sorted by the English name; []
    when none. Each name a `core.i18n.Name` (translated where shown)."""
    import pycountry

    from core.i18n import Name

    code = (country or "").strip().upper()
    if not code:
        return []
    subdivisions = pycountry.subdivisions.get(country_code=code) or []
    return sorted(((s.code, Name("subdivision", s.code, s.name)) for s in subdivisions),
                  key=lambda item: (unicodedata.normalize("NFKD", item[1]).casefold(), item[0]))


def region_name(code: str | None) -> str | None:
    if not code:
        return None
    country = code.split("-", 1)[0]
    return dict(regions_of(country)).get(code, code)


# Countries whose postal addresses need the state or province; elsewhere (Singapore's districts,
# the UK's counties) it may be given but is not required.
REGION_REQUIRED = frozenset({"US", "CA", "AU", "CN", "IN", "BR", "MX", "AR", "MY", "ID", "JP",
                             "IT", "ES", "NG", "TH", "PH"})


def check_region(text: str | None, country: str, field: str = "region") -> str | None:
    """The ISO 3166-2 code of a subdivision of `country` (given as `US-CA`, `CA` or its name).

    None when the country has no subdivisions (then the field must be left empty) or when the
    country's addresses do not need one and none was given."""
    value = clean_line(text, field, STATE_OR_PROVINCE, max_length=100, required=False)
    options = regions_of(country)
    if not options:
        if value:
            raise ValidationError(
                phrase("{country} has no states or provinces: leave this empty.",
                       country=country_name(country)), field)
        return None
    if not value:
        if country in REGION_REQUIRED:
            raise ValidationError("Choose the state or province.", field)
        return None
    wanted = value.casefold()
    for code, name in options:
        if wanted in (code.casefold(), code.split("-", 1)[1].casefold(), name.casefold()):
            return code
    raise ValidationError(
        phrase("Choose a state or province of {country} from the list.",
               country=country_name(country)), field)


# Postal code formats: (pattern on the normalised text, example, normaliser or None).
# The text is upper-cased and runs of spaces collapse to one before matching.
def _spaced(at_end: int):
    def normalise(value: str) -> str:
        compact = value.replace(" ", "")
        return f"{compact[:-at_end]} {compact[-at_end:]}"
    return normalise


def _dashed(at: int):
    def normalise(value: str) -> str:
        compact = value.replace("-", "").replace(" ", "")
        return f"{compact[:at]}-{compact[at:]}"
    return normalise


def _compact(value: str) -> str:
    return value.replace(" ", "")


_POSTAL_FORMATS: dict[str, tuple[str, str, object]] = {
    "US": (r"[0-9]{5}(?:-[0-9]{4})?", "94105 or 94105-1234", None),
    "SG": (r"[0-9]{6}", "018956", None),
    "GB": (r"(?:GIR ?0AA|[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2})", "SW1A 1AA", _spaced(3)),
    "CA": (r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z] ?[0-9][ABCEGHJ-NPRSTV-Z][0-9]",
           "K1A 0B1", _spaced(3)),
    "DE": (r"[0-9]{5}", "10117", None),
    "FR": (r"[0-9]{5}", "75008", None),
    "IT": (r"[0-9]{5}", "00184", None),
    "ES": (r"[0-9]{5}", "28013", None),
    "IN": (r"[1-9][0-9]{2} ?[0-9]{3}", "110001", _compact),
    "CN": (r"[0-9]{6}", "100000", None),
    "JP": (r"[0-9]{3}-?[0-9]{4}", "100-0001", _dashed(3)),
    "KR": (r"[0-9]{5}", "03154", None),
    "AU": (r"[0-9]{4}", "2000", None),
    "NZ": (r"[0-9]{4}", "6011", None),
    "NL": (r"[1-9][0-9]{3} ?[A-Z]{2}", "1012 JS", _spaced(2)),
    "BE": (r"[1-9][0-9]{3}", "1000", None),
    "CH": (r"[1-9][0-9]{3}", "8001", None),
    "AT": (r"[1-9][0-9]{3}", "1010", None),
    "DK": (r"[0-9]{4}", "1050", None),
    "NO": (r"[0-9]{4}", "0150", None),
    "SE": (r"[0-9]{3} ?[0-9]{2}", "114 55", _spaced(2)),
    "FI": (r"[0-9]{5}", "00100", None),
    "PL": (r"[0-9]{2}-?[0-9]{3}", "00-950", _dashed(2)),
    "PT": (r"[0-9]{4}-?[0-9]{3}", "1000-001", _dashed(4)),
    "CZ": (r"[0-9]{3} ?[0-9]{2}", "110 00", _spaced(2)),
    "IE": (r"(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W) ?[0-9AC-FHKNPRTV-Y]{4}", "D02 X285", _spaced(4)),
    "BR": (r"[0-9]{5}-?[0-9]{3}", "01310-100", _dashed(5)),
    "MX": (r"[0-9]{5}", "06000", None),
    "RU": (r"[0-9]{6}", "101000", None),
    "TR": (r"[0-9]{5}", "06100", None),
    "IL": (r"[0-9]{7}", "9614303", None),
    "SA": (r"[0-9]{5}(?:-[0-9]{4})?", "11564", None),
    "MY": (r"[0-9]{5}", "50088", None),
    "ID": (r"[0-9]{5}", "10110", None),
    "TH": (r"[0-9]{5}", "10200", None),
    "VN": (r"[0-9]{6}", "100000", None),
    "PH": (r"[0-9]{4}", "1000", None),
    "TW": (r"[0-9]{3}(?:[0-9]{2,3})?", "100 or 10048", None),
    "ZA": (r"[0-9]{4}", "0001", None),
}
POSTAL_CODE_MAX = 20


def postal_code_example(country: str) -> str | None:
    known = _POSTAL_FORMATS.get((country or "").upper())
    return known[1] if known else None


def check_postal_code(text: str | None, country: str, field: str = "postal-code") -> str | None:
    """The postal code in the country's format where one is known (then required); elsewhere
    free text of at most 20 characters (optional). Returns the normalised code or None."""
    known = _POSTAL_FORMATS.get((country or "").upper())
    value = clean_line(text, field, POSTAL_CODE, max_length=POSTAL_CODE_MAX,
                       required=known is not None)
    if not value:
        return None
    if known is None:
        return value
    pattern, example, normalise = known
    value = re.sub(r" +", " ", value.upper())
    if not re.fullmatch(pattern, value, re.ASCII):
        raise ValidationError(
            phrase("That is not a postal code of {country} (for example {example}).",
                   country=country_name(country), example=verbatim(example)),
            field)
    return normalise(value) if callable(normalise) else value


def check_contact_phone(text: str | None, country: str,
                        field: str = "contact-phone") -> str:
    """A valid phone number of `country`, or of any country when written with +: E.164."""
    import phonenumbers

    raw = _typed_phone(text, N_("Enter the contact phone number."), field)
    try:
        number = phonenumbers.parse(raw, country or None)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("That is not a phone number we can read. Start it with + and "
                              "the country code.", field) from exc
    return _valid_number(number, field,
                         phrase("That is not a valid phone number of {country}. For "
                                "another country, start it with + and the country code.",
                                country=country_name(country)))


# --- bank cards -----------------------------------------------------------------------------

CARD_MIN_DIGITS = 12
CARD_MAX_DIGITS = 19
CARD_MAX_YEARS_AHEAD = 20

# (brand, prefix ranges (inclusive, as digit strings of equal length), allowed lengths).
# Checked longest prefix first, so e.g. Discover's 622126-622925 wins over UnionPay's 62.
_CARD_BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("American Express", (("34", "34"), ("37", "37")), (15,)),
    ("Visa", (("4", "4"),), (13, 16, 19)),
    ("Mastercard", (("51", "55"), ("2221", "2720")), (16,)),
    ("Discover", (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")),
     (16, 17, 18, 19)),
    ("JCB", (("3528", "3589"),), (16, 17, 18, 19)),
    ("UnionPay", (("62", "62"), ("81", "81")), (16, 17, 18, 19)),
    ("Diners Club", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")),
     (14, 15, 16, 17, 18, 19)),
    ("Maestro", (("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("5893", "5893"),
                 ("6304", "6304"), ("6759", "6759"), ("6761", "6763")),
     (12, 13, 14, 15, 16, 17, 18, 19)),
)
CARD_BRANDS = tuple(brand for brand, _, _ in _CARD_BRANDS)


def _brand_rules():
    rules = []
    for brand, ranges, lengths in _CARD_BRANDS:
        for low, high in ranges:
            rules.append((len(low), int(low), int(high), brand, lengths))
    rules.sort(key=lambda rule: -rule[0])
    return rules


_BRAND_RULES = _brand_rules()


def card_brand(digits: str) -> str | None:
    """The brand of a card number (ASCII digits), from its prefix; None when unknown."""
    for width, low, high, brand, _lengths in _BRAND_RULES:
        if len(digits) >= width and low <= int(digits[:width]) <= high:
            return brand
    return None


def _brand_lengths(brand: str) -> tuple[int, ...]:
    return next(lengths for name, _, lengths in _CARD_BRANDS if name == brand)


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def check_card_number(text: str | None, field: str = "card-number") -> tuple[str, str]:
    """(digits, brand). Messages never repeat the number."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationError("Enter the card number.", field)
    if len(raw) > 40:
        raise ValidationError("A card number has 12 to 19 digits.", field)
    digits = re.sub(r"[ \-]", "", raw)
    if not re.fullmatch(r"[0-9]+", digits, re.ASCII):
        raise ValidationError(
            "A card number can contain only the digits 0–9 (spaces and dashes are fine).", field)
    if not CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS:
        raise ValidationError(
            phrase("A card number has {least} to {most} digits; this one has {n}.",
                   least=CARD_MIN_DIGITS, most=CARD_MAX_DIGITS, n=len(digits)), field)
    if not digits.strip("0"):
        raise ValidationError("That is not a card number.", field)
    if not luhn_ok(digits):
        raise ValidationError("That card number is not valid: check it for a typing mistake.",
                              field)
    brand = card_brand(digits)
    if brand is None:
        raise ValidationError(
            phrase("We cannot tell the card's brand from its number. We accept {brands}.",
                   brands=", ".join(CARD_BRANDS)), field)
    lengths = _brand_lengths(brand)
    if len(digits) not in lengths:
        if len(lengths) == 1:
            allowed: str = str(lengths[0])
        else:
            # Translators: digit counts of a card number, as in "13, 16 or 19".
            allowed = phrase("{some} or {last}", some=", ".join(str(n) for n in lengths[:-1]),
                             last=lengths[-1])
        if brand[:1].casefold() in "aeiou":
            message = phrase("An {brand} card number has {allowed} digits.",
                             brand=verbatim(brand), allowed=allowed)
        else:
            message = phrase("A {brand} card number has {allowed} digits.",
                             brand=verbatim(brand), allowed=allowed)
        raise ValidationError(message, field)
    return digits, brand


def check_card_expiry(text: str | None, field: str = "card-expiry") -> tuple[int, int]:
    """(month, four-digit year) of an MM/YY expiry, valid through the last day of its month
    and at most 20 years ahead (by core.clock)."""
    from core import clock

    raw = (text or "").strip()
    if not raw:
        raise ValidationError("Enter the expiry date as MM/YY.", field)
    match = re.fullmatch(r"([0-9]{2})/([0-9]{2})", raw, re.ASCII)
    if not match:
        raise ValidationError("Enter the expiry date as MM/YY, for example 04/29.", field)
    month, year = int(match.group(1)), 2000 + int(match.group(2))
    if not 1 <= month <= 12:
        raise ValidationError("The expiry month must be 01 to 12.", field)
    today = clock.now()
    here = today.year * 12 + today.month
    there = year * 12 + month
    if there < here:
        raise ValidationError("This card has expired.", field)
    if there > here + CARD_MAX_YEARS_AHEAD * 12:
        raise ValidationError(
            phrase("The expiry date is more than {years} years ahead: check it.",
                   years=CARD_MAX_YEARS_AHEAD), field)
    return month, year


def check_card_cvv(text: str | None, brand: str | None, field: str = "card-cvv") -> str:
    """3 digits, 4 for American Express; 3 or 4 while the brand is not known yet (the number
    is still wrong), so the form and its live check say the same. Messages never repeat the
    code."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationError("Enter the security code.", field)
    digits_only = re.fullmatch(r"[0-9]+", raw, re.ASCII) is not None
    if brand is None:
        if not digits_only or len(raw) not in (3, 4):
            raise ValidationError("The security code is 3 or 4 digits (0–9), on the back of "
                                  "the card or the front of an American Express card.", field)
        return raw
    if brand == "American Express":
        if not digits_only or len(raw) != 4:
            raise ValidationError("The security code is 4 digits (0–9), on the front of an "
                                  "American Express card.", field)
    elif not digits_only or len(raw) != 3:
        raise ValidationError("The security code is 3 digits (0–9), on the back of the card.",
                              field)
    return raw


def check_card_holder(text: str | None, field: str = "card-holder") -> str:
    """The name on the card; may be empty (an enterprise card without one)."""
    value = clean_line(text, field, CARD_HOLDER, max_length=100, required=False)
    if any(ch.isdigit() for ch in value):
        raise ValidationError("A card holder name cannot contain digits.", field)
    return value


# --- Paytm ----------------------------------------------------------------------------------

def check_indian_mobile(text: str | None, field: str = "paytm-phone") -> str:
    """An Indian mobile number (+91 and 10 digits starting 6–9) as E.164 (`+919876543210`)."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationError("Enter your Paytm mobile number.", field)
    compact = re.sub(r"[ \-().]", "", raw) if len(raw) <= 40 else raw
    if not re.fullmatch(r"\+?[0-9]+", compact, re.ASCII):
        raise ValidationError("Use digits only, optionally after +91.", field)
    if compact.startswith("+"):
        if not compact.startswith("+91"):
            raise ValidationError("Use an Indian mobile number (+91).", field)
        national = compact[3:]
    else:
        national = compact
    if len(national) != 10:
        raise ValidationError("An Indian mobile number has 10 digits after +91.", field)
    if national[0] not in "6789":
        raise ValidationError("An Indian mobile number starts with 6, 7, 8 or 9.", field)
    return "+91" + national
