"""The console's sections, in navigation order: one line each.

The navigation button of a section is `#nav-<key>`. Each section is its own module in
tui/sections/ (a `tui.widgets.section.Section` subclass), plugged in by one line here, e.g.
`"billing-address": (N_("Billing address"), BillingAddressSection),`.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import Widget

from core.i18n import N_
from tui.sections.billing import BillingSection
from tui.sections.billing_address import BillingAddressSection
from tui.sections.overview import OverviewSection
from tui.sections.payment_methods import PaymentMethodsSection
from tui.sections.products import ProductsSection
from tui.sections.real_name import RealNameSection
from tui.sections.security import SecuritySection

SectionFactory = Callable[[], Widget]


SECTIONS: dict[str, tuple[str, SectionFactory]] = {
    "overview": (N_("Overview"), OverviewSection),
    "billing-address": (N_("Billing address"), BillingAddressSection),
    "payment-methods": (N_("Payment methods"), PaymentMethodsSection),
    "real-name": (N_("Real-name"), RealNameSection),
    "products": (N_("Products"), ProductsSection),
    "billing": (N_("Billing"), BillingSection),
    "security": (N_("Security"), SecuritySection),
}

# Where the console opens right after F2 verification succeeds (SPEC F4).
AFTER_VERIFY_SECTION = "billing-address"
