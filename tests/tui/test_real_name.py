"""F6 through the console: individual and enterprise registration, errors, read-only states."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button, Input, RadioButton, Select

from tests.tui.helpers import settle, shown, snapshot_ready
from tests.tui.test_products import (  # noqa: F401 (long_sessions is an autouse fixture)
    SIZE,
    active_account,
    long_sessions,
    open_console,
    press,
)
from tui.app import CloudAcctApp


def fill(pilot: Pilot, values: dict[str, str]) -> None:
    for selector, text in values.items():
        pilot.app.screen.query_one(selector, Input).value = text


def credit_code() -> str:
    from core.real_name import credit_code_check_char

    first = "91330100MA2AB1CD1"
    return first + credit_code_check_char(first)


async def test_individual_with_an_approved_id_makes_the_form_read_only():
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        assert "Not registered" in shown(pilot, "#rn-status")
        fill(pilot, {"#rn-name": "[bold]Li Lei", "#rn-id-number": "11010519491231002X"})
        app.screen.query_one("#rn-id-type", Select).value = "resident_id"
        await press(pilot, "#rn-submit")
        status = shown(pilot, "#rn-status")
        assert "Approved" in status and "[bold]Li Lei" in status
        assert "11010519491231002X" not in status  # masked
        assert app.screen.query_one("#rn-submit", Button).disabled
        assert app.screen.query_one("#rn-name", Input).disabled


async def test_bad_resident_id_shows_rn_error():
    from core.real_name import real_name_status

    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        fill(pilot, {"#rn-name": "Li Lei", "#rn-id-number": "110105194912310021"})
        await press(pilot, "#rn-submit")
        assert "check digit" in shown(pilot, "#rn-error")
        assert "check digit" in shown(pilot, "#rn-id-number-error")
        assert real_name_status(token).status == "none"
        # An impossible birth date.
        fill(pilot, {"#rn-id-number": "110105194913310028"})
        await press(pilot, "#rn-submit")
        assert "birth date" in shown(pilot, "#rn-error")


def resident_id(odd: bool) -> str:
    """A well-formed resident ID whose check character is an odd digit (or not)."""
    from core.real_name import resident_id_check_digit

    for sequence in range(100, 1000):
        first = f"11010519800101{sequence}"
        check = resident_id_check_digit(first)
        if check.isdigit() and int(check) % 2 == int(odd):
            return first + check
    raise AssertionError("none found")


async def test_rejected_individual_can_be_corrected_and_resubmitted():
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        fill(pilot, {"#rn-name": "Li Lei", "#rn-id-number": resident_id(odd=True)})
        await press(pilot, "#rn-submit")
        assert "Rejected" in shown(pilot, "#rn-status")
        assert "identity could not be verified" in shown(pilot, "#rn-status")
        assert not app.screen.query_one("#rn-submit", Button).disabled
        assert app.screen.query_one("#rn-name", Input).value == "Li Lei"  # kept to correct
        # Keyboard only: the kind stays Individual; a passport this time.
        app.screen.query_one("#rn-id-type", Select).value = "passport"
        fill(pilot, {"#rn-id-number": "E1234567"})
        await press(pilot, "#rn-submit")
        assert "Approved" in shown(pilot, "#rn-status")


async def test_enterprise_registration_is_pending(tmp_path):
    from core.real_name import real_name_status

    licence = tmp_path / "licence.pdf"
    licence.write_bytes(b"%PDF-1.4\n% a licence\n")
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        await pilot.click("#rn-enterprise")
        await pilot.pause()
        assert app.screen.query_one("#rn-enterprise", RadioButton).value
        assert app.screen.query_one("#rn-enterprise-fields").display
        assert "cannot be undone" in shown(pilot, "#rn-warning")
        fill(pilot, {"#rn-company": "Example Trading Co.", "#rn-credit-code": credit_code(),
                     "#rn-legal-rep": "Wang Fang", "#rn-licence": str(licence)})
        await press(pilot, "#rn-submit")
        status = shown(pilot, "#rn-status")
        assert "Pending review" in status and "3 business days" in status
        assert real_name_status(token).status == "pending"
        assert app.screen.query_one("#rn-submit", Button).disabled


async def test_enterprise_licence_and_credit_code_errors(tmp_path):
    token = active_account()
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_console(pilot, token, "real-name")
        app.screen.query_one("#rn-enterprise", RadioButton).value = True
        await pilot.pause()
        fill(pilot, {"#rn-company": "Example Trading Co.", "#rn-credit-code": "91330100MA2AB1CD1I",
                     "#rn-legal-rep": "Wang Fang", "#rn-licence": str(tmp_path)})
        await press(pilot, "#rn-submit")
        assert "cannot contain: I" in shown(pilot, "#rn-error")
        fill(pilot, {"#rn-credit-code": credit_code()})
        await press(pilot, "#rn-submit")
        assert "folder" in shown(pilot, "#rn-error")
        # Checked as typed, too.
        fill(pilot, {"#rn-licence": str(tmp_path / "missing.pdf")})
        await pilot.pause(1.0)
        assert "There is no file" in shown(pilot, "#rn-licence-error")


def test_real_name_snapshot(snap_compare):
    token = active_account()

    async def run_before(pilot: Pilot) -> None:
        await open_console(pilot, token, "real-name")
        pilot.app.screen.query_one("#rn-enterprise", RadioButton).value = True
        await snapshot_ready(pilot)
        await settle(pilot)
        await snapshot_ready(pilot)

    assert snap_compare(CloudAcctApp(), terminal_size=SIZE, run_before=run_before)
