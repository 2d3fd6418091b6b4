"""The order form (F7): product, region, billing method, period, auto-renewal, a live price.

Ids (CONTRACT.md): `#product`, `#purchase-region`, `#billing-method`, `#period`, `#auto-renew`,
`#place-order`; errors in `#order-error`. Escape (or `#order-cancel`) closes it with nothing
bought.

`#period` holds ints (1, 3, 6, 12). Setting it to the text "3" also works: `PeriodSelect`
turns a digit string into its int before the Select checks the value.

The window is dismissed with the `ResourceView` bought, `("navigate", <section key>)` when the
person follows a link to a missing step of a refusal, or None when closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Select, Static

from core.i18n import N_, _, translate
from tui.core_calls import CallsCore
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import FieldError

if TYPE_CHECKING:
    from core.errors import DomainError
    from core.products import ProductsPage, ResourceView

# The console section of each missing step of the purchase gate (PurchaseRefused.missing).
STEP_SECTIONS = {"verify": "overview", "billing-address": "billing-address",
                 "payment-method": "payment-methods", "real-name": "real-name"}
STEP_LINKS = {"verify": N_("Go to the Overview (verify your account)"),
              "billing-address": N_("Go to Billing address"),
              "payment-method": N_("Go to Payment methods"),
              "real-name": N_("Go to Real-name registration")}


class PeriodSelect(Select[int]):
    """The subscription period in months (int values; "3" is taken as 3)."""

    def _validate_value(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        return super()._validate_value(value)


def region_options() -> list[tuple[str, str]]:
    from core.catalogue import list_regions

    return [(_("{name} ({id}) · mainland China").format(name=translate(r.name), id=r.id)
             if r.mainland_china else
             _("{name} ({id})").format(name=translate(r.name), id=r.id), r.id)
            for r in list_regions()]


def price_summary(product_id: Any, method: Any, months: Any) -> str:
    """The price of the order as chosen so far (core.catalogue.price_text: no database)."""
    from core.catalogue import price_text

    def chosen(value: Any) -> Any:
        return None if value is Select.NULL else value

    return translate(price_text(chosen(product_id), chosen(method), chosen(months)))


class OrderModal(CallsCore, ModalScreen[Any]):
    """Buy one product. Escape closes it and changes nothing."""

    BINDINGS = [Binding("escape", "close", N_("Close"), id="order.close")]


    def __init__(self, token: str | None, default_region: str | None = None,
                 page: ProductsPage | None = None) -> None:
        """`page`: the Products section's page (its catalogue, periods and the region for the
        account's country); without it the catalogue itself is read."""
        from core.catalogue import default_region as region_for

        super().__init__()
        self.token = token
        self.page = page
        self.default_region = default_region or (page.default_region if page else
                                                 region_for(None))

    def compose(self) -> ComposeResult:
        from core.catalogue import (
            BILLING_METHODS,
            SUBSCRIPTION_PERIODS,
            list_products,
            period_label,
        )

        products = self.page.products if self.page else tuple(list_products())
        methods = self.page.billing_methods if self.page else tuple(BILLING_METHODS.items())
        periods = self.page.periods if self.page else SUBSCRIPTION_PERIODS

        window = Vertical(id="order-window", classes="window")
        window.border_title = _("Buy a product")
        with window:
            with VerticalScroll(id="order-form"):
                with Horizontal(classes="field-row"):
                    yield Label(_("Product"), classes="field-label")
                    yield Select([(translate(p.name), p.id) for p in products], id="product",
                                 prompt=_("Choose a product"), value="ecs", compact=True)
                with Horizontal(classes="field-row"):
                    yield Label(_("Region"), classes="field-label")
                    yield Select(region_options(), id="purchase-region",
                                 prompt=_("Choose a region"), value=self.default_region,
                                 compact=True)
                with Horizontal(classes="field-row"):
                    yield Label(_("Billing method"), classes="field-label")
                    yield Select([(translate(label), key) for key, label in methods],
                                 id="billing-method", prompt=_("Choose how to pay"),
                                 value="payg", compact=True)
                with Horizontal(classes="field-row", id="period-row"):
                    yield Label(_("Period"), classes="field-label")
                    yield PeriodSelect([(translate(period_label(m)), m) for m in periods],
                                       id="period", value=periods[0],
                                       prompt=_("Choose a period"), compact=True)
                yield Checkbox(_("Renew automatically at the end of the period"),
                               id="auto-renew", compact=True)
                yield Static(_("Regions marked “mainland China” need approved real-name "
                               "registration."), classes="hint")
                yield Static("", id="order-price", markup=False)
                yield FieldError("order")
                yield Vertical(id="order-missing")
            with Horizontal(classes="button-row"):
                yield Button(_("Place order"), id="place-order", variant="primary", compact=True)
                yield Button(_("Cancel"), id="order-cancel", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self._refresh_form()
        self.query_one("#product").focus()

    # -- live summary -------------------------------------------------------------------------

    def _values(self) -> tuple[Any, Any, Any, Any, bool]:
        return (self.query_one("#product", Select).value,
                self.query_one("#purchase-region", Select).value,
                self.query_one("#billing-method", Select).value,
                self.query_one("#period", Select).value,
                self.query_one("#auto-renew", Checkbox).value)

    def _refresh_form(self) -> None:
        product, _region, method, months, _renew = self._values()
        subscription = method == "subscription"
        self.query_one("#period", Select).disabled = not subscription
        self.query_one("#auto-renew", Checkbox).disabled = not subscription
        self.query_one("#order-price", Static).update(price_summary(product, method, months))

    @on(Select.Changed)
    @on(Checkbox.Changed)
    async def _changed(self, event: Select.Changed | Checkbox.Changed) -> None:
        event.stop()
        self._refresh_form()
        self.query_one("#order-error", FieldError).clear()
        await self.query_one("#order-missing", Vertical).remove_children()

    # -- ordering -----------------------------------------------------------------------------

    @on(Button.Pressed, "#place-order")
    def _place(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_place_order()

    def action_place_order(self) -> None:
        from core.products import place_order

        self.query_one("#order-error", FieldError).clear()
        product, region, method, months, renew = self._values()

        def text(value: Any) -> str | None:
            return None if value is Select.NULL else str(value)

        subscription = text(method) == "subscription"
        self.call(place_order, self.token, text(product), text(region), text(method),
                  (None if months is Select.NULL else months) if subscription else None,
                  bool(renew) if subscription else False).then(
            self._placed, refused=self._refused,
            busy=self.query_one("#place-order", Button))

    def _placed(self, resource: ResourceView) -> None:
        self.dismiss(resource)  # not awaited: this runs in the modal's own handler

    def _refused(self, error: DomainError) -> None:
        from core.errors import FormErrors

        # The form has one error line (CONTRACT `#order-error`): every choice's message in it.
        message = (" ".join(translate(m) for m in error.errors.values())
                   if isinstance(error, FormErrors) else translate(error.message))
        self.query_one("#order-error", FieldError).show(message)
        self.call_later(self._show_missing, error)

    async def _show_missing(self, error: DomainError) -> None:
        """A PurchaseRefused: one button per missing step, to its console section."""
        from core.products import PurchaseRefused

        missing = self.query_one("#order-missing", Vertical)
        await missing.remove_children()
        if isinstance(error, PurchaseRefused):
            buttons = [Button(_(STEP_LINKS[step.key]) if step.key in STEP_LINKS
                              else translate(step.text), id=f"go-{step.key}",
                              classes="go-step", compact=True)
                       for step in error.missing if step.key in STEP_SECTIONS]
            await missing.mount_all(buttons)
            if buttons:
                buttons[0].focus()
        else:
            field = getattr(error, "field", None)
            target = self.query(f"#{field}") if field else None
            (target.first() if target else self.query_one("#place-order")).focus()

    @on(Button.Pressed, ".go-step")
    def _go(self, event: Button.Pressed) -> None:
        event.stop()
        key = (event.button.id or "").removeprefix("go-")
        self.dismiss(("navigate", STEP_SECTIONS[key]))

    @on(Button.Pressed, "#order-cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)
