"""Names in the console in Simplified Chinese: countries on Sign up and in the billing address,
states and provinces, the agreements (SPEC F18). English stays as it was."""

from __future__ import annotations

import pytest
from textual.widgets import Select

from tests.tui.helpers import settle, shown
from tests.tui.test_billing_address import active_account, open_console
from tui.app import CloudAcctApp
from tui.modals.agreement import AgreementModal
from tui.screens.sign_up import SignUpScreen

SIZE = (100, 40)


@pytest.fixture
def in_chinese(chinese, monkeypatch):
    monkeypatch.setenv("CLOUDACCT_LANG", "zh-Hans")
    return chinese


def options(select: Select) -> dict[object, str]:
    return {value: str(prompt) for prompt, value in select._options}


async def open_sign_up(pilot) -> None:
    await pilot.click("#free-account")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SignUpScreen)


async def test_sign_up_countries_in_chinese(in_chinese):
    async with CloudAcctApp().run_test(size=SIZE) as pilot:
        await open_sign_up(pilot)
        countries = options(pilot.app.screen.query_one("#country", Select))
        assert countries["CN"] == "中国（CN）" and countries["US"] == "美国（US）"
        assert countries["DE"] == "德国（DE）"
        assert "United States" not in "".join(countries.values())


async def test_sign_up_countries_in_english_as_before():
    async with CloudAcctApp().run_test(size=SIZE) as pilot:
        await open_sign_up(pilot)
        countries = options(pilot.app.screen.query_one("#country", Select))
        assert countries["US"] == "United States (US)"
        assert countries["TW"] == "Taiwan, Province of China (TW)"
        codes = [code for code in countries if code is not Select.NULL]
        assert codes[:3] == ["AF", "AL", "DZ"]  # by English name, as before


async def test_billing_address_countries_and_provinces_in_chinese(db, in_chinese):
    token = active_account()
    async with CloudAcctApp().run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        screen = pilot.app.screen
        country = screen.query_one("#address-country", Select)
        assert options(country)["SG"] == "新加坡（SG）"
        country.value = "CN"
        await settle(pilot)
        provinces = options(screen.query_one("#region", Select))
        assert provinces["CN-ZJ"] == "浙江省（CN-ZJ）"
        assert provinces["CN-BJ"] == "北京市（CN-BJ）"
        country.value = "US"
        await settle(pilot)
        assert options(screen.query_one("#region", Select))["US-WA"] == "华盛顿州（US-WA）"


async def test_billing_address_names_in_english_as_before(db):
    token = active_account()
    async with CloudAcctApp().run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "billing-address")
        screen = pilot.app.screen
        country = screen.query_one("#address-country", Select)
        assert options(country)["SG"] == "Singapore (SG)"
        country.value = "US"
        await settle(pilot)
        assert options(screen.query_one("#region", Select))["US-CA"] == "California (US-CA)"


async def test_overview_names_the_country_in_chinese(db, in_chinese):
    token = active_account(country="CN")
    async with CloudAcctApp().run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "overview")
        assert "中国（CN）" in shown(pilot, "#account")


async def test_agreement_window_in_chinese(in_chinese):
    async with CloudAcctApp().run_test(size=SIZE) as pilot:
        await open_sign_up(pilot)
        await pilot.click("#read-privacy-policy")
        await settle(pilot)
        assert isinstance(pilot.app.screen, AgreementModal)
        text = shown(pilot, "#agreement-text")
        assert text.startswith("Alibaba Cloud 隐私政策")
        assert "我们收集的信息" in text and "What we collect" not in text
