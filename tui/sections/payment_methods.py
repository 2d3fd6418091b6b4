"""F5 Payment methods: the list (`#methods`), add (`#add-method`), set default
(`#set-default`) and remove (`#remove-method`) the selected one.

Without a billing address the section says so and offers the way there.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static
from textual.widgets.data_table import RowDoesNotExist

from core.i18n import N_, _, translate
from tui.core_calls import CallsCore
from tui.modals.add_method import AddMethodModal, MethodAdded
from tui.modals.remove_method import RemoveMethodModal
from tui.sections.billing_address import may_take_focus
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.payments import PaymentMethodsPage, PaymentMethodView

KIND_LABELS = {"card": N_("Bank card"), "paypal": "PayPal", "paytm": "Paytm"}


class PaymentMethodsSection(CallsCore, Section):
    """The saved methods and what can be done with them (CONTRACT "Payment methods")."""

    FORM_ERROR = "payment"

    def __init__(self) -> None:
        super().__init__()
        self.data: PaymentMethodsPage | None = None
        self.story = ""

    def compose(self) -> ComposeResult:
        yield Static(_("Payment methods"), classes="title")
        data = self.data
        if data is None:
            yield Static(_("Loading…"), id="payment-methods-loading", classes="hint")
            return
        if not data.has_address:
            yield Static(_("Add your billing address first: payment methods need it."),
                         id="no-billing-address")
            with Horizontal(classes="button-row"):
                yield Button(_("Add billing address"), id="go-billing-address",
                             variant="primary", compact=True)
            return
        yield Static(_("You can add a bank card, PayPal or Paytm. The default method pays your "
                       "bills.") if data.paytm else
                     _("You can add a bank card or PayPal. The default method pays your bills."),
                     classes="hint")
        table: DataTable = DataTable(id="methods", cursor_type="row", zebra_stripes=True)
        yield table
        if not data.methods:
            yield Static(_("No payment method yet: press Add payment method."), id="no-methods",
                         classes="hint")
        with Horizontal(classes="button-row"):
            yield Button(_("Add payment method"), id="add-method", variant="primary",
                         compact=True)
            yield Button(_("Set as default"), id="set-default", compact=True,
                         disabled=not data.methods)
            yield Button(_("Remove"), id="remove-method", compact=True, disabled=not data.methods)
        yield SafeStatic(self.story, id="payment-story")
        yield FieldError("payment")

    def on_mount(self) -> None:
        self.load()

    def _fill_table(self) -> None:
        if self.data is None or not self.query("#methods"):
            return
        table = self.query_one("#methods", DataTable)
        table.clear(columns=True)
        table.add_column(_("Method"), key="method")
        table.add_column(_("Expiry"), key="expiry")
        table.add_column(_("Default"), key="default")
        for method in self.data.methods:
            table.add_row(Text(clean_text(method.display)),
                          Text(method.expiry or "—"),
                          Text(_("Default") if method.is_default else ""),
                          key=str(method.id))

    def selected_method(self) -> PaymentMethodView | None:
        if self.data is None or not self.data.methods or not self.query("#methods"):
            return None
        table = self.query_one("#methods", DataTable)
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        for method in self.data.methods:
            if str(method.id) == row_key:
                return method
        return None

    async def _show(self, data: PaymentMethodsPage, select: int | None = None) -> None:
        self.data = data
        await self.recompose()
        self._fill_table()
        if select is not None and self.query("#methods"):
            table = self.query_one("#methods", DataTable)
            with contextlib.suppress(RowDoesNotExist):  # the row may be gone
                table.move_cursor(row=table.get_row_index(str(select)))

    # -- actions --------------------------------------------------------------------------

    @on(Button.Pressed, "#go-billing-address")
    def _go_billing_address(self, event: Button.Pressed) -> None:
        event.stop()
        self.navigate("billing-address")

    @on(Button.Pressed, "#add-method")
    def _add(self, event: Button.Pressed) -> None:
        event.stop()
        data = self.data
        if data is None or data.address_lines is None:
            return
        self._clear_messages()
        self.app.push_screen(
            AddMethodModal(data.address_lines, paytm=data.paytm, holder=data.holder,
                           token=self.token, phone_example=data.phone_example),
            self._added)

    def _added(self, result: MethodAdded | None) -> None:
        if result is None:
            self.query_one("#add-method").focus()
            return
        added = _("{method} was added.").format(method=result.method.display)
        self.story = (_("{story}. {added}").format(story=translate(result.story), added=added)
                      if result.story else added)
        self.app.notify(self.story, title=_("Payment method added"), markup=False)
        self.query_one("#payment-story", SafeStatic).update(self.story)
        self.reload(select=result.method.id)

    @on(Button.Pressed, "#set-default")
    def _set_default(self, event: Button.Pressed) -> None:
        event.stop()
        method = self.selected_method()
        if method is None:
            return
        from core.payments import set_default_method

        self._clear_messages()

        async def done(_methods: list[PaymentMethodView]) -> None:
            await self._reload_now(select=method.id)
            self.query_one("#methods").focus()

        self.call(set_default_method, self.token, method.id).then(
            done, busy=self.query_one("#set-default", Button))

    @on(Button.Pressed, "#remove-method")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        method = self.selected_method()
        if method is None:
            return
        self._clear_messages()
        self.app.push_screen(RemoveMethodModal(method.id, method.display, self.token),
                             self._removed)

    def _removed(self, removed: bool | None) -> None:
        if removed:
            self.story = _("The payment method was removed.")
            self.reload()
        else:
            self.query_one("#remove-method").focus()

    def _clear_messages(self) -> None:
        if self.query("#payment-error"):
            self.query_one("#payment-error", FieldError).clear()

    # -- loading --------------------------------------------------------------------------

    def load(self, select: int | None = None) -> None:
        from core.payments import payment_methods_page

        async def shown(page: PaymentMethodsPage) -> None:
            await self._show(page, select)
            self.call_after_refresh(self._focus_first)

        self.call(payment_methods_page, self.token).then(shown)

    def reload(self, select: int | None = None) -> None:
        self.load(select)

    async def _reload_now(self, select: int | None = None) -> None:
        """Read the page again and show it (after an action whose result changes it)."""
        from core.payments import payment_methods_page

        async def shown(page: PaymentMethodsPage) -> None:
            await self._show(page, select)

        self.call(payment_methods_page, self.token).then(shown, group="payment-methods-reload")

    def _focus_first(self) -> None:
        if not may_take_focus(self, "payment-methods"):
            return
        if self.query("#methods") and self.data and self.data.methods:
            self.query_one("#methods").focus()
        elif self.query("#add-method"):
            self.query_one("#add-method").focus()
        elif self.query("#go-billing-address"):
            self.query_one("#go-billing-address").focus()
