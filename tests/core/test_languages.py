"""SPEC F18: which language a console speaks, and money and moments in its conventions."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.i18n import (
    choose_language,
    console_language_setting,
    format_amount,
    format_moment,
    language_of_tag,
    locale_language,
    use_language,
)


@pytest.mark.parametrize(("tag", "language"), [
    ("zh_CN.UTF-8", "zh-Hans"), ("zh_SG", "zh-Hans"), ("zh-Hans", "zh-Hans"),
    ("zh_Hans_CN.utf8@pinyin", "zh-Hans"), ("en_GB.UTF-8", "en"), ("en", "en"),
    ("zh_TW.UTF-8", None), ("zh-Hant", None), ("zh_HK", None),  # Traditional is not Simplified
    ("C", None), ("POSIX", None), ("C.UTF-8", None), ("fr_FR.UTF-8", None), ("", None),
])
def test_a_locale_names_a_language_we_speak_or_none(tag, language):
    assert language_of_tag(tag) == language


def test_the_locale_variables_in_posix_order():
    assert locale_language({"LANG": "zh_CN.UTF-8"}) == "zh-Hans"
    assert locale_language({"LC_MESSAGES": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    # LC_ALL=C overrides a Chinese LANG: the person asked for the C locale.
    assert locale_language({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}) is None
    assert locale_language({}) is None


def test_cloudacct_lang_takes_en_or_zh_hans_and_refuses_anything_else_in_one_line():
    assert console_language_setting({"CLOUDACCT_LANG": "zh_hans"}) == "zh-Hans"
    assert console_language_setting({"CLOUDACCT_LANG": " EN "}) == "en"
    assert console_language_setting({}) is None
    with pytest.raises(SystemExit, match="CLOUDACCT_LANG must be one of en, zh-Hans, not 'fr'"):
        console_language_setting({"CLOUDACCT_LANG": "fr"})


def test_the_account_then_the_setting_then_the_locale_then_english():
    assert choose_language(account="en", configured="zh-Hans", locale="zh-Hans") == "en"
    assert choose_language(account=None, configured="zh-Hans", locale="en") == "zh-Hans"
    assert choose_language(account=None, configured=None, locale="zh-Hans") == "zh-Hans"
    assert choose_language(account=None, configured=None, locale=None) == "en"


def test_money_is_exact_and_in_the_languages_conventions():
    assert format_amount(123456) == "1234.56 USD"
    assert format_amount(-5) == "-0.05 USD"
    assert format_amount(123456, language="zh-Hans") == "US$1,234.56"
    # An amount no float can hold exactly stays exact to the cent.
    assert format_amount(10**17 + 1, language="zh-Hans") == "US$1,000,000,000,000,000.01"


def test_moments_in_the_languages_conventions():
    moment = datetime(2026, 12, 1, 10, 5)
    assert format_moment(moment, "en") == "2026-12-01 10:05 UTC"
    assert format_moment(moment, "zh-Hans") == "2026年12月1日 10:05 UTC"


def test_use_language_falls_back_to_english_for_an_unknown_language():
    try:
        assert use_language("fr") == "en"
        assert use_language("zh-Hans") == "zh-Hans"
    finally:
        use_language("en")


def test_an_account_keeps_the_language_it_chose(db):
    from core.errors import FormErrors
    from core.languages import language_of_account, set_account_language
    from tests.core.protect import active_account

    token = active_account()
    assert language_of_account(token) is None  # never chose: the console keeps its own
    assert set_account_language(token, "zh-Hans") == "zh-Hans"
    assert language_of_account(token) == "zh-Hans"
    with pytest.raises(FormErrors) as refused:
        set_account_language(token, "klingon")
    assert refused.value.errors["language"].startswith("Choose English or 简体中文")
    assert language_of_account(token) == "zh-Hans"  # nothing changed by the refusal


def test_a_text_reads_as_english_and_keeps_its_id_and_values():
    import pickle

    from core.i18n import Text, phrase, translate

    wait = phrase("Try again in {minutes} minutes.", minutes=5)
    assert wait == "Try again in 5 minutes." and isinstance(wait, str)
    assert (wait.template, wait.values) == ("Try again in {minutes} minutes.", {"minutes": 5})
    again = pickle.loads(pickle.dumps(wait))
    assert isinstance(again, Text) and again.values == {"minutes": 5}
    assert translate(wait) == "Try again in 5 minutes."  # English: the template itself
    assert translate("A plain text.") == "A plain text."


def test_counted_nouns_keep_both_forms_for_each_language():
    from core.i18n import translate
    from core.wording import count

    assert [count(n, "bill") for n in (0, 1, 2)] == ["0 bills", "1 bill", "2 bills"]
    assert count(1, "try", "tries") == "1 try" and count(3, "try", "tries") == "3 tries"
    tries = count(3, "try", "tries")
    assert (tries.template, tries.plural, tries.values) == ("{n} try", "{n} tries", {"n": 3})
    assert translate(tries) == "3 tries"
    assert count(2, "widget") == "2 widgets"  # a noun not in the table still reads right
