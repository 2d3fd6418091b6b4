"""F7 Products: the catalogue, the order form (`#buy`), and the resources with their actions.

Ids (CONTRACT.md): `#buy`; `#resources` (DataTable, the row key is the resource id as a string);
`#release` (Pay-As-You-Go), `#auto-renew-off` / `#auto-renew-on` (Subscription) act on the row
under the cursor; their refusals show in `#resources-error`. Running costs are read again each
time the section is shown (and with `#refresh-resources`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from core.i18n import _, translate
from tui.core_calls import CallsCore
from tui.modals.order import OrderModal
from tui.sections.formats import amount, day, moment
from tui.widgets.safe_text import FieldError, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.errors import DomainError
    from core.products import ProductsPage, ResourceView


def period_or_cost(view: ResourceView) -> str:
    """The resources table's "Period end / cost": "Ends 2027-01-01" for a subscription;
    "1.23 USD so far" while Pay-As-You-Go runs, once released "billed 1.23 USD" or what is
    still to bill and when."""
    if view.billing_method == "subscription":
        if view.period_end is None:
            return ""
        return (_("Ended {date}") if view.state == "expired" else _("Ends {date}")).format(
            date=day(view.period_end))
    from core.billing import USAGE_BILL_DELAY

    total = amount(view.running_cost_cents or 0)
    if view.released_at is None:
        return _("{amount} so far").format(amount=total)
    if view.unbilled_cents:
        return _("{amount}, billed {when}").format(
            amount=total, when=moment(view.released_at + USAGE_BILL_DELAY))
    return _("billed {amount}").format(amount=total)


class ProductsSection(CallsCore, Section):
    """The catalogue, `#buy`, and `#resources` with release and auto-renewal."""

    FORM_ERROR = "resources"


    def __init__(self) -> None:
        super().__init__()
        self.resources: dict[str, ResourceView] = {}
        self.page: ProductsPage | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Products"), classes="title")
        yield DataTable(id="catalogue", cursor_type="row", zebra_stripes=True)
        yield Static(_("Mainland China regions (cn-…) need approved real-name registration."),
                     classes="hint")
        with Horizontal(classes="button-row"):
            yield Button(_("Buy…"), id="buy", variant="primary", compact=True)
        yield Static(_("Your resources"), classes="subtitle")
        yield DataTable(id="resources", cursor_type="row", zebra_stripes=True)
        yield Static(_("No resources yet."), id="resources-empty")
        with Horizontal(classes="button-row"):
            yield Button(_("Release"), id="release", compact=True, disabled=True)
            yield Button(_("Auto-renew off"), id="auto-renew-off", compact=True, disabled=True)
            yield Button(_("Auto-renew on"), id="auto-renew-on", compact=True, disabled=True)
            yield Button(_("Refresh"), id="refresh-resources", compact=True)
        yield FieldError("resources")

    def on_mount(self) -> None:
        from core.catalogue import list_products
        catalogue = self.query_one("#catalogue", DataTable)
        catalogue.add_columns(_("Product"), _("Pay-As-You-Go"), _("Subscription"),
                              _("What it is"))
        for item in list_products():
            catalogue.add_row(translate(item.name),
                              _("{amount}/hour").format(amount=amount(item.hourly_cents)),
                              _("{amount}/month").format(amount=amount(item.monthly_cents)),
                              translate(item.description), key=item.id)
        resources = self.query_one("#resources", DataTable)
        resources.add_column(_("ID"), key="id")
        resources.add_column(_("Product"), key="product")
        resources.add_column(_("State"), key="state")
        resources.add_column(_("Period end / cost"), key="cost")
        resources.add_column(_("Auto-renew"), key="renew")
        resources.add_column(_("Billing"), key="method")
        resources.add_column(_("Region"), key="region")
        self.load()

    # -- loading --------------------------------------------------------------------------

    def load(self, select: str | None = None, *, focus: bool = False) -> None:
        """Read the page (again) and show it; `select` the row of that resource."""
        from core.products import products_page

        def shown(page: ProductsPage) -> None:
            self._show_page(page, select)
            if focus and self.resources:
                self.query_one("#resources", DataTable).focus()

        self.call(products_page, self.token).then(shown, group="products-page")

    def _show_page(self, page: ProductsPage, select: str | None = None) -> None:
        self.page = page
        self._show_resources(page.resources, select)

    def _show_resources(self, views: tuple[ResourceView, ...],
                        select: str | None = None) -> None:
        table = self.query_one("#resources", DataTable)
        current = select or self.selected_id()
        table.clear()
        self.resources = {}
        for view in views:
            key = str(view.id)
            self.resources[key] = view
            table.add_row(key, clean_text(translate(view.product_name)),
                          translate(view.state_label), period_or_cost(view),
                          translate(view.renewal_label), translate(view.billing_method_name),
                          view.region, key=key)
        self.query_one("#resources-empty").display = not views
        table.display = bool(views)
        if current in self.resources:
            table.move_cursor(row=table.get_row_index(current))
        self._update_actions()

    def selected_id(self) -> str | None:
        table = self.query_one("#resources", DataTable)
        if table.row_count == 0 or not 0 <= table.cursor_row < table.row_count:
            return None
        return str(table.ordered_rows[table.cursor_row].key.value)

    def _update_actions(self) -> None:
        view = self.resources.get(self.selected_id() or "")
        busy = self.is_busy("resource-action")
        self.query_one("#release", Button).disabled = busy or view is None or \
            not view.can_release
        can_renew = view is not None and view.can_set_auto_renew
        self.query_one("#auto-renew-off", Button).disabled = busy or not (
            can_renew and view.auto_renew)
        self.query_one("#auto-renew-on", Button).disabled = busy or not (
            can_renew and not view.auto_renew)

    @on(DataTable.RowHighlighted, "#resources")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._update_actions()
        self.query_one("#resources-error", FieldError).clear()

    # -- buying ---------------------------------------------------------------------------

    @on(Button.Pressed, "#buy")
    def _buy(self, event: Button.Pressed) -> None:
        event.stop()
        self.query_one("#resources-error", FieldError).clear()
        region = self.page.default_region if self.page is not None else None
        self.app.push_screen(OrderModal(self.token, default_region=region, page=self.page),
                             self._ordered)

    def _ordered(self, result: Any) -> None:
        if result is None:
            self.query_one("#buy").focus()
        elif isinstance(result, tuple) and result[0] == "navigate":
            self.navigate(result[1])
        else:
            self.app.notify(_("Bought: {product} in {region} (resource {id}).").format(
                product=translate(result.product_name), region=result.region, id=result.id),
                markup=False)
            self.load(str(result.id), focus=True)

    # -- actions on the selected resource -----------------------------------------------

    @on(Button.Pressed, "#release, #auto-renew-off, #auto-renew-on")
    def _act(self, event: Button.Pressed) -> None:
        event.stop()
        resource_id = self.selected_id()
        if resource_id is None:
            return
        from core.products import release_resource, set_auto_renew

        self.query_one("#resources-error", FieldError).clear()

        def done(_view: ResourceView) -> None:
            self.load(resource_id, focus=True)

        def refused(error: DomainError) -> None:
            self.query_one("#resources-error", FieldError).show(translate(error.message))
            self._update_actions()
            self.query_one("#resources", DataTable).focus()

        if event.button.id == "release":
            call = self.call(release_resource, self.token, resource_id)
        else:
            call = self.call(set_auto_renew, self.token, resource_id,
                             event.button.id == "auto-renew-on")
        call.then(done, refused=refused, busy=event.button, group="resource-action")

    @on(Button.Pressed, "#refresh-resources")
    def _refresh(self, event: Button.Pressed) -> None:
        event.stop()
        self.load()
