"""F8 and F17 Billing: bills, paying what is outstanding with a method the person chooses, the
ledger, and the documents (statements, invoices, credit notes) with their export.

Ids (CONTRACT.md): `#bills` (DataTable, row key the bill id as a string), `#pay-outstanding`,
`#ledger` (holds and releases, charges, refunds), `#documents` (row keys `statement-YYYY-MM`,
`invoice-N`, `credit-N`), `#export-document` (the selected document into `exports/`); also
`#outstanding` (the total), `#pay-with` (Select of the live methods, the default first),
`#usage` (Pay-As-You-Go usage not billed yet), `#export-result`, `#billing-error` and
`#document-error`.

The section shows `core.billing.billing_page`, which only reads: opening Billing issues no
bill. Usage whose 48 hours are over is listed as due until the billing run issues its bill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Select, Static

from core.i18n import _, ngettext, translate
from tui.core_calls import CallsCore
from tui.sections.formats import amount, day, moment
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.billing import BillingPage, BillView, PaymentResult, PendingUsage
    from core.documents import ExportedDocument
    from core.errors import DomainError


def method_choices(page: BillingPage) -> list[tuple[str, int]]:
    """The live methods to pay with, the default first and marked."""
    return [(_("{method} (default)").format(method=clean_text(display)) if default
             else clean_text(display), method_id)
            for method_id, display, default in page.methods]


def outstanding_line(page: BillingPage) -> str:
    """"Outstanding: 0.80 USD (1 bill)", or "Outstanding: 0.00 USD"."""
    total = amount(page.outstanding_cents)
    bills = len(page.outstanding)
    if not bills:
        return _("Outstanding: {amount}").format(amount=total)
    return ngettext("Outstanding: {amount} ({n} bill)", "Outstanding: {amount} ({n} bills)",
                    bills).format(amount=total, n=bills)


def bill_status(bill: BillView) -> str:
    """"Outstanding", or "Paid 2026-12-03"."""
    if bill.status == "paid" and bill.paid_at is not None:
        return _("Paid {date}").format(date=day(bill.paid_at))
    return translate(bill.status_label)


def paid_text(paid: PaymentResult) -> str:
    """"Paid 2 bills: 1.20 USD.", or "Nothing was outstanding."."""
    bills = len(paid.paid)
    if not bills:
        return _("Nothing was outstanding.")
    return ngettext("Paid {n} bill: {amount}.", "Paid {n} bills: {amount}.", bills).format(
        n=bills, amount=amount(paid.total_cents))


def usage_line(usage: PendingUsage) -> str:
    """"ECS instance #3 usage in …: 0.16 USD so far" / ", billed 2026-12-03 12:00 UTC" /
    ", due: billed by the next billing run"."""
    what, cost = clean_text(translate(usage.description)), amount(usage.amount_cents)
    if usage.running:
        return _("{what}: {amount} so far").format(what=what, amount=cost)
    if usage.due:
        return _("{what}: {amount}, due: billed by the next billing run").format(
            what=what, amount=cost)
    if usage.bill_due_at is not None:
        return _("{what}: {amount}, billed {when}").format(
            what=what, amount=cost, when=moment(usage.bill_due_at))
    return _("{what}: {amount}").format(what=what, amount=cost)


class BillingSection(CallsCore, Section):
    """`#bills`, the outstanding total, `#pay-with` and `#pay-outstanding`, pending usage, the
    ledger and `#documents` with `#export-document`."""

    FORM_ERROR = "billing"

    def __init__(self) -> None:
        super().__init__()
        self.summary: BillingPage | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("Billing"), classes="title")
        yield Static(_("Outstanding: …"), id="outstanding")
        with Horizontal(classes="button-row", id="pay-row"):
            yield Select[int]([], id="pay-with", prompt=_("No payment method"), compact=True,
                              allow_blank=True, disabled=True)
            yield Button(_("Pay outstanding bills"), id="pay-outstanding", variant="primary",
                         compact=True, disabled=True)
        yield FieldError("billing")
        yield SafeStatic("", id="pay-result")
        yield Static(_("Bills"), classes="subtitle")
        yield DataTable(id="bills", cursor_type="row", zebra_stripes=True)
        yield Static(_("No bills yet."), id="bills-empty", classes="empty")
        yield Static(_("Pay-As-You-Go usage not billed yet"), classes="subtitle")
        yield SafeStatic("", id="usage")
        yield Static(_("Statements and invoices"), classes="subtitle")
        yield DataTable(id="documents", cursor_type="row", zebra_stripes=True)
        yield Static(_("No documents yet: a statement is made for each month with activity, "
                       "an invoice for each payment."), id="documents-empty", classes="empty")
        with Horizontal(classes="button-row"):
            yield Button(_("Export"), id="export-document", compact=True, disabled=True)
        yield FieldError("document")
        yield SafeStatic("", id="export-result")
        yield Static(_("Holds, charges and refunds"), classes="subtitle")
        yield DataTable(id="ledger", cursor_type="row", zebra_stripes=True)
        yield Static(_("Nothing yet."), id="ledger-empty", classes="empty")

    def on_mount(self) -> None:
        # The identifying columns first (the id, the amount, the status), the long text last:
        # at 80 columns only the description is cut.
        bills = self.query_one("#bills", DataTable)
        for label, key in ((_("ID"), "id"), (_("Amount"), "amount"), (_("Status"), "status"),
                           (_("Issued"), "issued"), (_("Description"), "description")):
            bills.add_column(label, key=key)
        documents = self.query_one("#documents", DataTable)
        for label, key in ((_("Document"), "title"), (_("Date"), "date"),
                           (_("Amount"), "amount"), (_("Detail"), "detail")):
            documents.add_column(label, key=key)
        ledger = self.query_one("#ledger", DataTable)
        for label, key in ((_("When"), "when"), (_("What"), "kind"), (_("Amount"), "amount"),
                           (_("Status"), "status"), (_("Method"), "method"),
                           (_("Description"), "description")):
            ledger.add_column(label, key=key)
        self.load()

    def load(self) -> None:
        from core.billing import billing_page

        self.call(billing_page, self.token).then(self._show, refused=self._load_refused)

    def _load_refused(self, error: DomainError) -> None:
        self.query_one("#billing-error", FieldError).show(translate(error.message))

    def _show(self, summary: BillingPage) -> None:
        self.summary = summary
        self.query_one("#outstanding", Static).update(outstanding_line(summary))
        self._show_methods(summary)

        bills = self.query_one("#bills", DataTable)
        bills.clear()
        for bill in summary.bills:
            bills.add_row(str(bill.id), amount(bill.amount_cents), bill_status(bill),
                          moment(bill.issued_at, utc=False),
                          clean_text(translate(bill.description)), key=str(bill.id))
        bills.display = bool(summary.bills)
        self.query_one("#bills-empty").display = not summary.bills

        usage = [usage_line(u) for u in summary.pending_usage]
        self.query_one("#usage", SafeStatic).update("\n".join(usage) or _("None."))

        self._show_documents(summary)

        ledger = self.query_one("#ledger", DataTable)
        ledger.clear()
        for entry in summary.ledger:
            ledger.add_row(moment(entry.created_at, utc=False), clean_text(translate(entry.label)),
                           amount(entry.amount_cents), translate(entry.status_label),
                           clean_text(entry.method or ""),
                           clean_text(translate(entry.description)), key=str(entry.id))
        ledger.display = bool(summary.ledger)
        self.query_one("#ledger-empty").display = not summary.ledger

    def _show_methods(self, summary: BillingPage) -> None:
        choose = self.query_one("#pay-with", Select)
        chosen = choose.value
        choices = method_choices(summary)
        choose.set_options(choices)
        ids = [method_id for _label, method_id in choices]
        if chosen in ids:
            choose.value = chosen
        elif ids:
            choose.value = ids[0]  # the default
        nothing_owed = summary.outstanding_cents <= 0
        choose.disabled = nothing_owed or not ids
        self.query_one("#pay-outstanding", Button).disabled = nothing_owed

    def _show_documents(self, summary: BillingPage) -> None:
        table = self.query_one("#documents", DataTable)
        current = self.selected_document()
        table.clear()
        for row in summary.documents:
            table.add_row(clean_text(translate(row.title)), day(row.date),
                          amount(row.amount_cents), clean_text(translate(row.detail)),
                          key=row.key)
        keys = [row.key for row in summary.documents]
        if current in keys:
            table.move_cursor(row=keys.index(current))
        table.display = bool(keys)
        self.query_one("#documents-empty").display = not keys
        self.query_one("#export-document", Button).disabled = not keys

    def selected_document(self) -> str | None:
        table = self.query_one("#documents", DataTable)
        if table.row_count == 0 or not 0 <= table.cursor_row < table.row_count:
            return None
        return str(table.ordered_rows[table.cursor_row].key.value)

    # -- paying -----------------------------------------------------------------------------

    @on(Button.Pressed, "#pay-outstanding")
    def _pay_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_pay()

    def action_pay(self) -> None:
        from core.billing_run import pay_outstanding

        chosen = self.query_one("#pay-with", Select).value
        method_id = chosen if isinstance(chosen, int) else None
        self.clear_errors()
        self.query_one("#pay-result", SafeStatic).update("")
        self.call(pay_outstanding, self.token, method_id).then(
            self._paid, refused=self._pay_refused,
            busy=(self.query_one("#pay-outstanding", Button),
                  self.query_one("#pay-with", Select)))

    def _paid(self, paid: PaymentResult) -> None:
        self.query_one("#pay-result", SafeStatic).update(paid_text(paid))
        self._reload(focus="#bills")

    def _pay_refused(self, error: DomainError) -> None:
        self.query_one("#billing-error", FieldError).show(translate(error.message))
        # Some bills may have been paid before the decline: show the state as it is now, and
        # leave the focus on the method to choose another.
        self._reload(focus="#pay-with")

    def _reload(self, focus: str) -> None:
        from core.billing import billing_page

        def shown(summary: BillingPage) -> None:
            self._show(summary)
            target = self.query_one(focus)
            if target.disabled or not target.display:
                target = self.query_one("#bills" if summary.bills else "#documents")
            if target.display and not target.disabled:
                target.focus()

        self.call(billing_page, self.token).then(shown, refused=self._load_refused,
                                                 group="billing-reload")

    # -- documents --------------------------------------------------------------------------

    @on(Button.Pressed, "#export-document")
    def _export_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_export()

    def action_export(self) -> None:
        from core.documents import export_document_for_person

        key = self.selected_document()
        if key is None:
            return
        self.clear_errors()
        self.query_one("#export-result", SafeStatic).update(_("Writing the files…"))
        self.call(export_document_for_person, self.token, key).then(
            self._exported, refused=self._export_refused,
            busy=self.query_one("#export-document", Button))

    def _exported(self, exported: ExportedDocument) -> None:
        self.query_one("#export-result", SafeStatic).update(translate(exported.notice))
        self.call_after_refresh(self.query_one("#export-result").scroll_visible)

    def _export_refused(self, error: DomainError) -> None:
        self.query_one("#export-result", SafeStatic).update("")
        self.query_one("#document-error", FieldError).show(translate(error.message))
        self.query_one("#documents").focus()
