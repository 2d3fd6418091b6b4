"""The catalogue check of CI (issue 15): every marked text has its Chinese translation, none is
fuzzy, placeholders are kept, and the shipped .mo is compiled from the .po as committed.
After adding or changing a text: `python -m core.translations update`, translate, `compile`."""

from __future__ import annotations


def test_every_marked_text_is_translated_and_compiled():
    from core.translations import problems

    assert problems() == []


def test_the_chinese_catalogue_is_used_for_a_text_and_its_plural_values():
    from core.i18n import translate
    from core.verification import wrong_code_refusal

    refused = wrong_code_refusal(3)
    assert refused.message == "Wrong code. 3 tries left."
    chinese = translate(refused.message, "zh-Hans")
    assert "3" in chinese and "Wrong" not in chinese and "tries" not in chinese
