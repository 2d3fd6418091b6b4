"""The console's first section: the account at a glance and the next steps, each a shortcut."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Button, Static

from core.i18n import _
from tui.core_calls import CallsCore
from tui.widgets.safe_text import SafeStatic
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.accounts import OverviewPage

# Which console section does each next step (core.accounts.NextStep.key) open?
STEP_SECTIONS = {"billing-address": "billing-address", "payment-method": "payment-methods",
                 "real-name": "real-name", "billing": "billing"}


def account_lines(view: OverviewPage) -> str:
    account = view.account
    verified = [name for name, done in (("email", account.email_verified),
                                        ("phone", account.phone is not None)) if done]
    method = view.default_method or _("None")
    if view.default_method_expiry:
        method += _(" (expired {expiry})" if view.default_method_expired
                    else " (expires {expiry})").format(expiry=view.default_method_expiry)
    rows = [
        (_("Account ID"), str(view.account_id)),
        (_("Email"), account.email),
        ("Status", view.status_label),
        ("Country", f"{account.country_name} ({account.country})"),
        ("Verified", " and ".join(verified) or "nothing yet"),
        ("Billing address", "Added" if view.has_billing_address else "Not added"),
        ("Payment methods", str(view.payment_methods) if view.payment_methods else "None"),
        ("Real-name", view.real_name_label),
        (_("Default method"), method),
        (_("Amount owed"), view.owed_text),
    ]
    return "\n".join(f"{label:<17}{value}" for label, value in rows)


class OverviewSection(CallsCore, Section):
    """Email, status, country and `#next-steps` from core.accounts.overview_page."""

    def compose(self) -> ComposeResult:
        yield Static("Overview", classes="title")
        yield SafeStatic("Loading…", id="account")
        yield Static("Next steps", classes="subtitle")
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
            widgets.append(SafeStatic(page.expiry_notice, id="expiry-notice",
                                      classes="step-detail"))
        if page.note:
            widgets.append(SafeStatic(page.note, id="overview-note", classes="step-detail"))
        for step in page.next_steps:
            widgets.append(Button(step.title, id=f"step-{step.key}", classes="step",
                                  compact=True))
            widgets.append(SafeStatic(step.detail, classes="step-detail"))
        await steps.mount_all(widgets)

    @on(Button.Pressed, ".step")
    def _step(self, event: Button.Pressed) -> None:
        event.stop()
        key = (event.button.id or "").removeprefix("step-")
        if key in STEP_SECTIONS:
            self.navigate(STEP_SECTIONS[key])
