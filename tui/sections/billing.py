"""F8 Billing: outstanding and paid bills, paying what is outstanding, and the ledger.

Ids (CONTRACT.md): `#bills` (DataTable, row key the bill id as a string), `#pay-outstanding`;
also `#outstanding` (the total), `#ledger` (holds and releases, charges, refunds),
`#usage` (Pay-As-You-Go usage not billed yet) and `#billing-error`.

The section shows `core.billing.billing_page`, which only reads: opening Billing issues no
bill. Usage whose 48 hours are over is listed as due until the billing run (`cloudacct billing
run`) issues its bill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from tui.widgets.core_work import call_core
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.billing import BillingPage


class BillingSection(Section):
    """`#bills`, the outstanding total, `#pay-outstanding`, pending usage and the ledger."""

    DEFAULT_CSS = """
    BillingSection DataTable {
        height: auto;
        max-height: 12;
        margin-top: 1;
    }
    BillingSection #outstanding {
        text-style: bold;
        margin-top: 1;
    }
    BillingSection #pay-result {
        color: $text-success;
        height: auto;
    }
    BillingSection .empty {
        color: $text-muted;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.summary: BillingPage | None = None

    def compose(self) -> ComposeResult:
        yield Static("Billing", classes="title")
        yield Static("Outstanding: …", id="outstanding")
        with Horizontal(classes="button-row"):
            yield Button("Pay outstanding bills", id="pay-outstanding", variant="primary",
                         compact=True, disabled=True)
        yield FieldError("billing")
        yield SafeStatic("", id="pay-result")
        yield Static("Bills", classes="subtitle")
        yield DataTable(id="bills", cursor_type="row", zebra_stripes=True)
        yield Static("No bills yet.", id="bills-empty", classes="empty")
        yield Static("Pay-As-You-Go usage not billed yet", classes="subtitle")
        yield SafeStatic("", id="usage")
        yield Static("Holds, charges and refunds", classes="subtitle")
        yield DataTable(id="ledger", cursor_type="row", zebra_stripes=True)
        yield Static("Nothing yet.", id="ledger-empty", classes="empty")

    def on_mount(self) -> None:
        bills = self.query_one("#bills", DataTable)
        for label, key in (("ID", "id"), ("Amount", "amount"), ("Issued", "issued"),
                           ("Status", "status"), ("Description", "description")):
            bills.add_column(label, key=key)
        ledger = self.query_one("#ledger", DataTable)
        for label, key in (("When", "when"), ("What", "kind"), ("Amount", "amount"),
                           ("Method", "method"), ("Status", "status"),
                           ("Description", "description")):
            ledger.add_column(label, key=key)
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="billing")
    def load(self) -> BillingPage:
        from core.billing import billing_page

        return call_core(billing_page, self.token)

    def _show(self, summary: BillingPage) -> None:
        self.summary = summary
        self.query_one("#outstanding", Static).update(summary.outstanding_line)
        self.query_one("#pay-outstanding", Button).disabled = summary.outstanding_cents <= 0

        bills = self.query_one("#bills", DataTable)
        bills.clear()
        for bill in summary.bills:
            bills.add_row(str(bill.id), bill.amount_text, bill.issued_text, bill.status_label,
                          clean_text(bill.description), key=str(bill.id))
        has_bills = bool(summary.bills)
        bills.display = has_bills
        self.query_one("#bills-empty").display = not has_bills

        usage = [u.text for u in summary.pending_usage]
        self.query_one("#usage", SafeStatic).update("\n".join(usage) or "None.")

        ledger = self.query_one("#ledger", DataTable)
        ledger.clear()
        for entry in summary.ledger:
            ledger.add_row(entry.when_text, clean_text(entry.label), entry.amount_text,
                           clean_text(entry.method or ""), entry.status_label,
                           clean_text(entry.description), key=str(entry.id))
        ledger.display = bool(summary.ledger)
        self.query_one("#ledger-empty").display = not summary.ledger

    # -- paying -----------------------------------------------------------------------------

    @on(Button.Pressed, "#pay-outstanding")
    def _pay_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_pay()

    def action_pay(self) -> None:
        if not self.start_busy("pay", self.query_one("#pay-outstanding", Button)):
            return
        self.query_one("#billing-error", FieldError).clear()
        self.query_one("#pay-result", SafeStatic).update("")
        self.pay()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pay")
    def pay(self) -> tuple[Any, BillingPage]:
        from core.billing import billing_page
        from core.billing_run import pay_outstanding

        result = call_core(pay_outstanding, self.token)
        return result, call_core(billing_page, self.token)

    @work(thread=True, exclusive=True, exit_on_error=False, group="billing-reload")
    def reload(self) -> BillingPage:
        from core.billing import billing_page

        return call_core(billing_page, self.token)

    def core_done(self, group: str, result: Any) -> None:
        if group in ("billing", "billing-reload"):
            self._show(result)
        elif group == "pay":
            paid, summary = result
            self._show(summary)
            self.query_one("#pay-result", SafeStatic).update(paid.text)

    def core_refused(self, group: str, error: Exception) -> None:
        self.query_one("#billing-error", FieldError).show(getattr(error, "message", str(error)))
        if group == "pay":
            # Some bills may have been paid before the decline: show the state as it is now.
            self.reload()
        elif self.summary is not None:
            self._show(self.summary)
