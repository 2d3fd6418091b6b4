"""The explanations of the libraries we check with, in the catalogue: zxcvbn's password
feedback and email-validator's reasons are English sentences from a fixed set, shown beside
a field. They are listed here once (`N_`), so the catalogue translates them like our own;
`library_text` turns what a library said into a text `translate()` knows. A sentence not
listed (a newer library version) is shown as the library wrote it.
"""

from __future__ import annotations

from core.i18n import N_, Text, phrase
from core.wording import verbatim

ESTIMATOR_FEEDBACK: tuple[str, ...] = (
    N_("Use a few words, avoid common phrases."),
    N_("No need for symbols, digits, or uppercase letters."),
    N_("Add another word or two. Uncommon words are better."),
    N_("Straight rows of keys are easy to guess."),
    N_("Short keyboard patterns are easy to guess."),
    N_("Use a longer keyboard pattern with more turns."),
    N_('Repeats like "aaa" are easy to guess.'),
    N_('Repeats like "abcabcabc" are only slightly harder to guess than "abc".'),
    N_("Avoid repeated words and characters."),
    N_('Sequences like "abc" or "6543" are easy to guess.'),
    N_("Avoid sequences."),
    N_("Recent years are easy to guess."),
    N_("Avoid recent years."),
    N_("Avoid years that are associated with you."),
    N_("Dates are often easy to guess."),
    N_("Avoid dates and years that are associated with you."),
    N_("This is a top-10 common password."),
    N_("This is a top-100 common password."),
    N_("This is a very common password."),
    N_("This is similar to a commonly used password."),
    N_("A word by itself is easy to guess."),
    N_("Names and surnames by themselves are easy to guess."),
    N_("Common names and surnames are easy to guess."),
    N_("Capitalization doesn't help very much."),
    N_("All-uppercase is almost as easy to guess as all-lowercase."),
    N_("Reversed words aren't much harder to guess."),
    N_("Predictable substitutions like '@' instead of 'a' don't help very much."),
)
"""zxcvbn's feedback (warnings and suggestions), as zxcvbn/feedback.py writes them."""

EMAIL_REASONS: tuple[str, ...] = (
    N_("A bracketed IP address after the @-sign is not allowed here."),
    N_("A display name and angle brackets around the email address are not permitted here."),
    N_("An email address cannot have a period and a hyphen next to each other."),
    N_("An email address cannot have two letters followed by two dashes immediately after "
       "the @-sign or after a period, except Punycode."),
    N_("An email address cannot have two periods in a row."),
    N_("An email address must have an @-sign."),
    N_("An open angle bracket at the start of the email address has to be followed by a "
       "close angle bracket at the end."),
    N_("Internationalized characters before the @-sign are not supported."),
    N_("Quoting the part before the @-sign is not allowed here."),
    N_("The IPv6 address in brackets after the @-sign is not valid (It has a zone index)."),
    N_("The email address contains an invalid character."),
    N_("The email address contains invalid characters after the @-sign after IDNA encoding."),
    N_("The email address contains invalid characters before the @-sign."),
    N_("The email address is not valid ASCII."),
    N_("The part after the @-sign contains an invalid address literal tag in brackets."),
    N_("The part after the @-sign in brackets is not an IPv4 address and has no address "
       "literal tag."),
    N_("The part after the @-sign is a special-use or reserved name that cannot be used with "
       "email."),
    N_("The part after the @-sign is not valid. It is not within a valid top-level domain."),
    N_("The part after the @-sign is not valid. It should have a period."),
    N_("There can't be anything after the email address."),
    N_("There must be something after the @-sign."),
    N_("There must be something before the @-sign."),
    N_('The email address has the "small commercial at" character instead of a regular '
       "at-sign."),
)
"""email-validator's reasons that are whole sentences."""

EMAIL_REASON_STARTS: tuple[str, ...] = (
    N_("Extra character(s) found after close quote"),
    N_("Internationalized characters before the @-sign are not supported"),
    N_("The display name contains invalid characters when not quoted"),
    N_("The email address contains invalid characters before the @-sign"),
    N_("The email address contains invalid characters in quotes before the @-sign"),
    N_("The email address contains unsafe characters"),
    N_("The part after the @-sign contains invalid characters after Unicode normalization"),
    N_("The part after the @-sign contains invalid characters in brackets"),
    N_("The part after the @-sign contains invalid characters"),
)
"""email-validator's reasons that go on with the characters at fault (`…: '<'`)."""

_KNOWN = frozenset(ESTIMATOR_FEEDBACK + EMAIL_REASONS)


def library_text(message: str) -> str | Text:
    """What a library said, as a text the catalogue translates: a listed sentence as it is,
    a listed start with its detail kept as data, anything else as written (English)."""
    if message in _KNOWN:
        return message
    start, colon, detail = message.partition(": ")
    if colon and start in EMAIL_REASON_STARTS:
        # Translators: {reason} is a sentence of the email checker's, {detail} the
        # characters it found (shown as typed).
        return phrase("{reason}: {detail}", reason=start, detail=verbatim(detail))
    return message
