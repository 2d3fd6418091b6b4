"""The console's sections and windows in Simplified Chinese (SPEC F18): their texts come out
translated, amounts and dates follow the language, and the windows still hold at 80x24 with
double-width characters. English stays as it was (the other tests of these screens assert it).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from textual.widgets import Button, DataTable, Select

from tests.tui.helpers import settle, shown
from tests.tui.test_billing_address import active_account, open_console
from tests.tui.test_payment_methods import with_address
from tests.tui.test_products import press
from tui.app import CloudAcctApp
from tui.modals.order import OrderModal
from tui.modals.remove_method import RemoveMethodModal

SMALL = (80, 24)


@pytest.fixture
def in_chinese(chinese, monkeypatch):
    """The app starts in Chinese (CloudAcctApp picks CLOUDACCT_LANG); English after."""
    monkeypatch.setenv("CLOUDACCT_LANG", "zh-Hans")
    return chinese


def with_card() -> str:
    from core.payments import save_card

    token = with_address()
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Alice Tan")
    return token


def labels(table: DataTable) -> list[str]:
    return [str(column.label) for column in table.ordered_columns]


async def fits(pilot, selector: str) -> None:
    """Every button under `selector`, scrolled into view, is on the 80x24 screen above the
    key bar, its label not cut."""
    from rich.cells import cell_len

    width, height = SMALL
    for button in pilot.app.screen.query_one(selector).query(Button):
        if not button.display:
            continue
        button.scroll_visible(animate=False)
        await pilot.pause()
        region = button.region
        assert region.right <= width and region.bottom <= height - 1, button.id
        assert cell_len(str(button.label)) <= region.width, button.id


def test_amounts_and_moments_follow_the_language(chinese):
    from core.i18n import use_language
    from tui.sections.formats import amount, day, moment, short_moment

    at = datetime(2026, 12, 1, 10, 5)
    assert (amount(1234), moment(at), day(at), short_moment(at)) == (
        "US$12.34", "2026年12月1日 10:05 UTC", "2026年12月1日", "12月1日 10:05")
    assert moment(at, utc=False) == "2026年12月1日 10:05"
    use_language("en")
    assert (amount(1234), moment(at), day(at), short_moment(at)) == (
        "12.34 USD", "2026-12-01 10:05 UTC", "2026-12-01", "12-01 10:05")


async def test_overview_in_chinese(db, in_chinese):
    token = with_card()
    async with CloudAcctApp().run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "overview")
        account = shown(pilot, "#account")
        assert "账号ID" in account and "国家/地区" in account
        assert "新加坡（SG）" in account  # Babel's name of the country
        assert "US$0.00" in account
        assert "Visa •••• 4242（12/30 到期）" in account
        assert "Amount owed" not in account


async def test_billing_in_chinese(db, in_chinese):
    token = with_card()
    async with CloudAcctApp().run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "billing")
        assert shown(pilot, "#outstanding") == "待支付：US$0.00"
        screen = pilot.app.screen
        assert labels(screen.query_one("#bills", DataTable)) == [
            "ID", "金额", "状态", "开具", "描述"]
        assert str(screen.query_one("#pay-outstanding", Button).label) == "支付欠费账单"
        ledger = screen.query_one("#ledger", DataTable)
        assert ledger.get_cell_at((0, 2)) == "US$1.00"  # the card's check hold
        assert ledger.get_cell_at((0, 0)).startswith("2026年")


async def test_products_and_the_order_window_in_chinese(db, in_chinese):
    token = with_card()
    async with CloudAcctApp().run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "products")
        catalogue = pilot.app.screen.query_one("#catalogue", DataTable)
        assert labels(catalogue)[:3] == ["产品", "按量付费", "包年包月"]
        assert catalogue.get_cell_at((0, 1)) == "US$0.08/小时"
        await press(pilot, "#buy")
        screen = pilot.app.screen
        assert isinstance(screen, OrderModal)
        assert screen.query_one("#order-window").border_title == "购买产品"
        assert str(screen.query_one("#place-order", Button).label) == "下单"
        assert screen.query_one("#product", Select).prompt == "选择产品"
        await fits(pilot, "#order-window")


async def test_payment_methods_and_the_remove_window_in_chinese(db, in_chinese):
    token = with_card()
    async with CloudAcctApp().run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "payment-methods")
        methods = pilot.app.screen.query_one("#methods", DataTable)
        assert labels(methods) == ["方式", "有效期", "默认"]
        assert str(methods.get_cell_at((0, 2))) == "默认"
        await press(pilot, "#remove-method")
        screen = pilot.app.screen
        assert isinstance(screen, RemoveMethodModal)
        assert shown(pilot, "#remove-question") == "删除 Visa •••• 4242？请输入密码确认。"
        assert "esc 取消" in "".join(s.text for s in screen._compositor.render_strips())
        await fits(pilot, "#remove-window")


async def test_billing_address_form_in_chinese(db, in_chinese):
    token = active_account()
    async with CloudAcctApp().run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "billing-address")
        screen = pilot.app.screen
        assert str(screen.query_one("#save", Button).label) == "保存"
        assert screen.query_one("#region", Select).prompt == "选择州/省"
        assert screen.query_one("#postal-code").placeholder == "例如 018956"
        await press(pilot, "#save")
        assert shown(pilot, "#save-error").startswith("请检查表单：")


async def test_security_and_its_windows_in_chinese(db, in_chinese):
    token = with_card()
    async with CloudAcctApp().run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "security")
        account = shown(pilot, "#security-account")
        assert "alice@example.com（已验证）" in account and "虚拟MFA" in account
        logons = pilot.app.screen.query_one("#logons", DataTable)
        assert "月" in str(logons.get_cell_at((0, 0)))
        assert str(logons.get_cell_at((0, 1))) == "当前会话"
        for button, window in (("#change-password", "#change-password-window"),
                               ("#change-email", "#change-window"),
                               ("#open-delete", "#delete-window")):
            await press(pilot, button)
            await fits(pilot, window)
            await pilot.press("escape")
            await settle(pilot)
        await press(pilot, "#open-delete")
        assert pilot.app.screen.query_one("#delete-window").border_title == "注销账号"
        assert "没有阻止注销的事项。" in pilot.app.screen.blocker_texts


async def test_english_stays_as_it_was(db):
    token = with_card()
    async with CloudAcctApp().run_test(size=SMALL) as pilot:
        await open_console(pilot, token, "billing")
        assert shown(pilot, "#outstanding") == "Outstanding: 0.00 USD"
        ledger = pilot.app.screen.query_one("#ledger", DataTable)
        assert ledger.get_cell_at((0, 2)) == "1.00 USD"
        await open_console(pilot, token, "overview")
        assert "Country          Singapore (SG)" in shown(pilot, "#account")
        assert "Verified         email and phone" in shown(pilot, "#account")
