"""The libraries' explanations shown to people are all in the catalogue, and read in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import ValidationError
from core.i18n import translate
from core.library_texts import EMAIL_REASON_STARTS, EMAIL_REASONS, ESTIMATOR_FEEDBACK
from core.validation import check_email, password_strength


def _source(module_name: str) -> str:
    import importlib

    module = importlib.import_module(module_name)
    folder = Path(module.__file__).parent
    return "\n".join(path.read_text(encoding="utf-8") for path in folder.glob("*.py"))


def test_every_feedback_sentence_of_the_installed_zxcvbn_is_listed():
    said = set(re.findall(r"""_\(\s*["']([^"']+)["']\s*\)""", _source("zxcvbn")))
    assert said and said <= set(ESTIMATOR_FEEDBACK)


def test_every_whole_sentence_of_the_installed_email_validator_is_listed():
    found = re.findall(r"""Email(?:Syntax|Undeliverable)Error\(\s*(["'])(.*?)\1""",
                       _source("email_validator"))
    sentences = {text.replace('\\"', '"') for _, text in found}
    whole = {s for s in sentences if s.endswith(".") and "{" not in s}
    starts = {s.removesuffix(": ") for s in sentences if s.endswith(": ")}
    assert whole <= set(EMAIL_REASONS)
    not_ours = {"After Unicode normalization",  # followed by another reason, listed itself
                # deliverability is never checked (check_deliverability=False)
                "There was an error while checking if the domain name in the email address "
                "is deliverable"}
    assert starts - not_ours <= set(EMAIL_REASON_STARTS)


@pytest.mark.parametrize("typed", ["alice.example.com", "alice@", "a<b@example.com"])
def test_an_email_refusal_reads_the_same_in_english_and_wholly_in_chinese(typed):
    with pytest.raises(ValidationError) as refused:
        check_email(typed)
    english, chinese = translate(refused.value.message, "en"), translate(
        refused.value.message, "zh-Hans")
    assert english == str(refused.value.message)
    assert english.startswith("That is not a valid email address: ")
    assert not re.search(r"[A-Za-z]{2,}", chinese.replace("@", "")), chinese


def test_the_strength_hint_is_translated():
    strength = password_strength("password")
    hint = strength.warning or strength.suggestions[0]
    assert translate(hint, "zh-Hans") != hint
