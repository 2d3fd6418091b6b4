"""The console's first section: the account at a glance and the next steps, each a shortcut."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Static

from core.i18n import _, country_name, translate
from tui.core_calls import CallsCore
from tui.sections.formats import amount, label_row
from tui.widgets.safe_text import SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.accounts import OverviewPage

# Which console section does each next step (core.accounts.NextStep.key) open?
STEP_SECTIONS = {"billing-address": "billing-address", "payment-method": "payment-methods",
                 "real-name": "real-name", "billing": "billing"}


def account_lines(view: OverviewPage) -> str:
    account = view.account
    email, phone = account.email_verified, account.phone is not None
    if email and phone:
        verified = _("email and phone")
    elif email or phone:
        verified = _("email") if email else _("phone")
    else:
        verified = _("nothing yet")
    method = clean_text(view.default_method) if view.default_method else _("None")
    if view.default_method_expiry:
        method = (_("{method} (expired {expiry})") if view.default_method_expired
                  else _("{method} (expires {expiry})")).format(
            method=method, expiry=view.default_method_expiry)
    rows = [
        (_("Account ID"), str(view.account_id)),
        (_("Email"), account.email),
        (_("Status"), translate(view.status_label)),
        (_("Country"), _("{country} ({code})").format(
            country=country_name(account.country), code=account.country)),
        (_("Verified"), verified),
        (_("Billing address"), _("Added") if view.has_billing_address else _("Not added")),
        (_("Payment methods"), str(view.payment_methods) if view.payment_methods
         else _("None")),
        (_("Real-name"), translate(view.real_name_label)),
        (_("Default method"), method),
        (_("Amount owed"), amount(view.owed_cents)),
    ]
    return "\n".join(label_row(label, value, 17) for label, value in rows)



class OverviewSection(CallsCore, Section):
    """Email, status, country and `#next-steps` from core.accounts.overview_page."""

    def compose(self) -> ComposeResult:
        yield Static(_("Overview"), classes="title")
        yield SafeStatic(_("Loading…"), id="account")
        yield Static(_("Next steps"), classes="subtitle")
        yield Vertical(id="next-steps")

    def on_mount(self) -> None:
        from core.accounts import overview_page

        self.call(overview_page, self.token).then(self._show)

    async def _show(self, page: OverviewPage) -> None:
        self.overview = page
        self.query_one("#account", SafeStatic).update(account_lines(page))
        steps = self.query_one("#next-steps", Vertical)
        await steps.remove_children()
        widgets: list[Static | Button] = []
        if page.expiry_notice:
            widgets.append(SafeStatic(self._expiry_notice(page), id="expiry-notice",
                                      classes="step-detail"))
        if page.note:
            widgets.append(SafeStatic(translate(page.note), id="overview-note",
                                      classes="step-detail"))
        for step in page.next_steps:
            widgets.append(Button(translate(step.title), id=f"step-{step.key}", classes="step",
                                  compact=True))
            widgets.append(SafeStatic(translate(step.detail), classes="step-detail"))
        await steps.mount_all(widgets)

    @staticmethod
    def _expiry_notice(page: OverviewPage) -> str:
        return _("Your default card {method} expires {expiry}.").format(
            method=page.default_method, expiry=page.default_method_expiry)

    @on(Button.Pressed, ".step")
    def _step(self, event: Button.Pressed) -> None:
        event.stop()
        key = (event.button.id or "").removeprefix("step-")
        if key in STEP_SECTIONS:
            self.navigate(STEP_SECTIONS[key])
