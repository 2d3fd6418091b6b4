"""Names of countries and their subdivisions (pycountry's own ISO 3166 catalogues), of regions
and products (our catalogue), and the agreements: in Simplified Chinese for zh-Hans, English
exactly as before (SPEC F18)."""

from __future__ import annotations

import pickle
from importlib.resources import files

import pytest

from core.i18n import Name, country_name, subdivision_name, translate


def test_country_names_in_each_language(chinese):
    assert country_name("CN") == "中国" and country_name("SG") == "新加坡"
    assert country_name("US", "zh-Hans") == "美国"
    assert country_name("us", "en") == "United States"  # pycountry's English name, as before
    assert country_name("TW", "en") == "Taiwan, Province of China"
    assert country_name("ZZ") == "ZZ"  # no such country: the code as given


def test_subdivision_names_in_each_language(chinese):
    assert subdivision_name("CN-ZJ") == "浙江省"
    assert subdivision_name("JP-13") == "东京都"
    assert subdivision_name("US-CA", "en") == "California"
    assert subdivision_name("XX-1") == "XX-1"


def test_core_gives_names_that_read_english_and_translate_where_shown(chinese):
    from core.validation import countries, regions_of
    from core.validation import country_name as core_country_name

    name = core_country_name("DE")
    assert isinstance(name, Name) and name == "Germany"  # core stays English
    assert translate(name) == "德国" and translate(name, "en") == "Germany"
    every = dict(countries())
    assert every["SG"] == "Singapore" and translate(every["SG"]) == "新加坡"
    zhejiang = dict(regions_of("CN"))["CN-ZJ"]
    assert zhejiang == "Zhejiang Sheng" and translate(zhejiang) == "浙江省"
    # a name survives pickling (the SSH zygote, multiprocessing) with its code
    again = pickle.loads(pickle.dumps(name))
    assert isinstance(again, Name) and again == "Germany" and translate(again) == "德国"


def test_a_refusal_naming_a_country_names_it_in_chinese(chinese):
    from core.errors import ValidationError
    from core.validation import check_region

    with pytest.raises(ValidationError) as refused:
        check_region("Somewhere", "US")
    message = refused.value.message
    assert message == "Choose a state or province of United States from the list."
    shown = translate(message)
    assert "美国" in shown and "United States" not in shown
    assert translate(message, "en") == message


def test_country_order_is_the_same_in_both_languages(chinese):
    from core.validation import countries

    codes = [code for code, _name in countries()]
    assert codes == sorted(codes, key=lambda code: country_name(code, "en"))


@pytest.mark.parametrize(("english", "chinese_name"), [
    ("China (Hangzhou)", "华东1（杭州）"), ("China (Beijing)", "华北2（北京）"),
    ("Singapore", "新加坡"), ("US (Silicon Valley)", "美国（硅谷）"),
])
def test_region_names(chinese, english, chinese_name):
    from core.catalogue import REGIONS

    names = {r.name for r in REGIONS.values()}
    assert english in names
    assert translate(english) == chinese_name and translate(english, "en") == english


def test_product_names(chinese):
    from core.catalogue import PRODUCTS

    shown = {p.id: translate(p.name) for p in PRODUCTS.values()}
    assert shown == {"ecs": "云服务器 ECS", "oss": "对象存储 OSS", "rds": "云数据库 RDS"}
    assert {p.id: translate(p.name, "en") for p in PRODUCTS.values()} == {
        "ecs": "ECS instance", "oss": "OSS bucket", "rds": "ApsaraDB RDS"}


AGREEMENT_FILES = ("membership_agreement.txt", "privacy_policy.txt", "product_terms.txt",
                   "terms_of_use.txt")


@pytest.mark.parametrize("name", AGREEMENT_FILES)
def test_the_chinese_agreements_are_package_data(name):
    texts = files("tui") / "texts"
    chinese_text = (texts / "zh-Hans" / name).read_text(encoding="utf-8")
    english = (texts / name).read_text(encoding="utf-8")
    assert "{brand}" in chinese_text and "{brand}" in english
    assert chinese_text.count("\n\n") == english.count("\n\n")  # paragraph for paragraph
    assert "。" in chinese_text


def test_pyproject_ships_the_translated_texts():
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]["tui"]
    for name in AGREEMENT_FILES:
        assert any(fnmatch(f"texts/zh-Hans/{name}", p) for p in patterns)
        assert any(fnmatch(f"texts/{name}", p) for p in patterns)


@pytest.mark.parametrize("slug", ["membership-agreement", "privacy-policy", "product-terms",
                                  "terms-of-use"])
def test_agreement_text_follows_the_language(chinese, slug):
    from tui.modals.agreement import agreement_text

    chinese_text = agreement_text(slug)
    assert chinese_text.startswith("Alibaba Cloud ") and "{brand}" not in chinese_text
    # lines of one paragraph join without a space between Chinese characters
    assert "。 " not in chinese_text and "， " not in chinese_text
    english = agreement_text(slug, "en")
    assert english.startswith("Alibaba Cloud ") and "。" not in english
    assert agreement_text(slug, "fr") == english  # no translation: English
