"""F4 Billing address: Individual or Corporate, the address, the second-channel verification
before the first save, **Save** and **Later**.

The section loads its page in a worker (`core.billing_address.billing_address_form`: the saved
address, which channel is still to verify, the countries and the regions of the chosen
country), then shows the form.
The `#region` Select follows `#address-country` at once (synchronously, in the country
Select's watcher), so a value like "US-CA" can be set right after the country changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from core.i18n import N_, _, country_name, subdivision_name, translate
from tui.core_calls import CallsCore
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.code_verifier import CodeVerifier
from tui.widgets.safe_text import FieldError, SafeStatic
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.billing_address import BillingAddressForm, BillingAddressView
    from core.errors import DomainError


INDIVIDUAL_FIELDS = ("full-name",)
CORPORATE_FIELDS = ("company-name", "contact-name", "contact-phone", "contact-email")
ADDRESS_FIELDS = ("address-country", "region", "city", "street", "street-2", "postal-code")
ERROR_FIELDS = ("type", *INDIVIDUAL_FIELDS, *CORPORATE_FIELDS, *ADDRESS_FIELDS, "save")
DRAFTS: WeakKeyDictionary[App[Any], dict[str, str]] = WeakKeyDictionary()
"""What was typed and not saved, per console: leaving the section (Enter on its navigation
button mounts it afresh) does not throw it away."""
TEXT_FIELDS = (*INDIVIDUAL_FIELDS, *CORPORATE_FIELDS, "city", "street", "street-2",
               "postal-code")
NO_REGION_PROMPT = N_("No states or provinces")
CHANNEL_TITLES = {"phone": N_("Verify your mobile phone number"),
                  "email": N_("Verify your email address")}
CHANNEL_NOTES = {
    "phone": N_("You verified your email address when you signed up, so verify your mobile "
                "phone number now, before saving."),
    "email": N_("You verified your mobile phone number when you signed up, so verify your "
                "email address now, before saving."),
}


def message_of(errors: dict[str, str]) -> str:
    return next(iter(errors.values()))


def region_options(regions: list[tuple[str, str]]) -> list[tuple[Text, str]]:
    # The name in the console's language from its ISO 3166-2 code (pycountry's catalogues).
    return [(Text(_("{name} ({code})").format(name=subdivision_name(code), code=code)), code)
            for code, _name in regions]


def country_options(countries: list[tuple[str, str]]) -> list[tuple[Text, str]]:
    return [(Text(_("{name} ({code})").format(name=country_name(code), code=code)), code)
            for code, _name in countries]


def may_take_focus(section: Section, key: str) -> bool:
    """After loading, a section moves the focus into itself unless the person is elsewhere:
    nothing focused, the focus inside the section, or on the section's own nav button."""
    focused = section.app.focused
    return (focused is None or section in focused.ancestors_with_self
            or focused.id == f"nav-{key}")


class CountrySelect(Select[str]):
    """A Select of countries that tells its owner of a change synchronously (not by message),
    so that dependent fields are ready before the next line of code runs."""

    def __init__(self, *args: Any, on_change: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_change = on_change

    def watch_value(self, value: object) -> None:
        if isinstance(value, str):
            self._on_change(value)


class BillingAddressSection(CallsCore, Section):
    """The billing address form (SPEC F4, CONTRACT "Billing address")."""


    def __init__(self) -> None:
        super().__init__()
        self.data: BillingAddressForm | None = None
        self.verified = False
        self._region_country: str | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(_("Billing address"), classes="title")
        data = self.data
        if data is None:
            yield Static(_("Loading…"), id="billing-address-loading", classes="hint")
            return
        address = data.address
        if address is None:
            yield Static(_("Add your billing address: you need it, and a payment method, "
                           "before you buy products and services."), classes="hint")
        else:
            yield Static(_("Your billing address. Change what you need and press Save."),
                         classes="hint")
        corporate = address is not None and address.account_type == "corporate"
        with Horizontal(classes="type-row"):
            yield Label(_("Account type"), classes="field-label")
            with RadioSet(id="account-type", compact=True):
                yield RadioButton(_("Individual"), id="type-individual", value=not corporate,
                                  compact=True)
                yield RadioButton(_("Corporate"), id="type-corporate", value=corporate,
                                  compact=True)
        yield FieldError("type", classes="field-note")
        with Vertical(id="individual-fields", classes="-hidden" if corporate else ""):
            yield from self._field("full-name", _("Full name"),
                                   address.full_name if address else "",
                                   _("your name as on your documents"))
        with Vertical(id="corporate-fields", classes="" if corporate else "-hidden"):
            yield from self._field("company-name", _("Company name"),
                                   address.company_name if address else "", "")
            yield from self._field("contact-name", _("Contact person"),
                                   address.contact_name if address else "", "")
            yield from self._field("contact-phone", _("Contact phone"),
                                   address.contact_phone if address else "",
                                   _("+country code and number"))
            yield from self._field("contact-email", _("Contact email"),
                                   address.contact_email if address else "",
                                   "name@company.com")
        with Horizontal(classes="field-row"):
            yield Label(_("Country"), classes="field-label")
            yield CountrySelect(
                country_options(data.countries),
                value=data.country, allow_blank=False, id="address-country", compact=True,
                on_change=self._country_changed)
        yield FieldError("address-country", classes="field-note")
        self._region_country = data.country
        with Horizontal(classes="field-row"):
            yield Label(_("State/Province"), classes="field-label")
            region_value = address.region if address and address.region else Select.NULL
            if data.regions:
                yield Select(region_options(data.regions), value=region_value,
                             prompt=_("Choose the state or province"), id="region",
                             compact=True)
            else:
                yield Select([], prompt=_(NO_REGION_PROMPT), id="region", compact=True,
                             disabled=True)
        yield FieldError("region", classes="field-note")
        yield from self._field("city", _("City"), address.city if address else "", "")
        yield from self._field("street", _("Street"), address.street if address else "",
                               _("street and number"))
        yield from self._field("street-2", _("Street (line 2)"),
                               address.street_2 if address else "", _("optional"))
        yield from self._field("postal-code", _("Postal code"),
                               address.postal_code if address else "",
                               self._postal_placeholder(data.postal_code_example))
        if data.second_channel is not None:
            channel = data.second_channel
            with Vertical(id="second-channel-box"):
                yield Static(_("{title}. {note}").format(title=_(CHANNEL_TITLES[channel]),
                                                         note=_(CHANNEL_NOTES[channel])),
                             classes="hint")
                yield CodeVerifier("second_channel", mode=channel, modes=(channel,),
                                   id="second-channel")
        yield FieldError("save", classes="field-note")
        with Horizontal(id="billing-address-buttons", classes="button-row"):
            yield Button(_("Save"), id="save", variant="primary", compact=True)
            yield Button(_("Later"), id="later", compact=True)
        with Vertical(id="saved"):
            yield SafeStatic("", id="saved-text")
            if not data.has_payment_method:
                yield Static(_("Next step: add a payment method (a bank card, PayPal or "
                               "Paytm)."),
                             classes="hint")
                with Horizontal(classes="button-row"):
                    yield Button(_("Add payment method"), id="add-payment-method",
                                 variant="primary", compact=True)
            else:
                yield Static(_("You have a payment method: you can buy products and "
                               "services."),
                             classes="hint", id="saved-next")
                with Horizontal(classes="button-row"):
                    yield Button(_("Go to Products"), id="go-products", variant="primary",
                                 compact=True)

    @staticmethod
    def _postal_placeholder(hint: str | None) -> str:
        return _("e.g. {example}").format(example=hint) if hint else _("optional")

    @staticmethod
    def _field(field: str, label: str, value: str | None, placeholder: str) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(label, classes="field-label")
            yield BoundedInput(value or "", placeholder=placeholder, id=field, compact=True)
        yield FieldError(field, classes="field-note")

    def on_mount(self) -> None:
        self.load()

    # -- loading --------------------------------------------------------------------------

    def load(self) -> None:
        from core.billing_address import billing_address_form

        self.call(billing_address_form, self.token).then(self._loaded,
                                                         refused=self._load_refused)

    def _load_refused(self, error: DomainError) -> None:
        self.app.notify(translate(error.message), severity="warning", markup=False)

    async def _loaded(self, result: BillingAddressForm) -> None:
        self.data = result
        await self.recompose()
        if result.phone_example:  # the verifier's number, as of the account's country
            for phone in self.query("#phone").results(Input):
                phone.placeholder = result.phone_example
        draft = DRAFTS.pop(self.app, None)
        if draft:
            self._restore(draft)
        self.call_after_refresh(self._focus_first)

    # -- what was typed and not saved -------------------------------------------------------

    def _typed(self) -> dict[str, str]:
        typed = {name: self.query_one(f"#{name}", Input).value for name in TEXT_FIELDS}
        typed["type"] = ("corporate" if self.query_one("#type-corporate", RadioButton).value
                         else "individual")
        return typed

    def _loaded_values(self) -> dict[str, str]:
        data = self.data
        assert data is not None
        return {"full-name": data.full_name, "company-name": data.company_name,
                "contact-name": data.contact_name, "contact-phone": data.contact_phone,
                "contact-email": data.contact_email, "city": data.city, "street": data.street,
                "street-2": data.street_2, "postal-code": data.postal_code,
                "type": data.account_type}

    def _restore(self, draft: dict[str, str]) -> None:
        if draft.get("type") == "corporate":
            self.query_one("#type-corporate", RadioButton).value = True
            self.query_one("#individual-fields").add_class("-hidden")
            self.query_one("#corporate-fields").remove_class("-hidden")
        for name in TEXT_FIELDS:
            if name in draft:
                self.query_one(f"#{name}", Input).value = draft[name]

    def _remember(self) -> None:
        """Keep what is typed, for when the section is mounted again before a save."""
        if self.data is None or not self.query("#city") or not self.is_attached:
            return
        typed = self._typed()
        if typed != self._loaded_values():
            DRAFTS[self.app] = typed
        else:
            DRAFTS.pop(self.app, None)

    # -- live changes ---------------------------------------------------------------------

    def _country_changed(self, country: str) -> None:
        """Refresh the regions and the postal code hint for `country` (synchronously)."""
        if country == self._region_country:
            return
        from core.billing_address import postal_code_hint, regions_of

        self._region_country = country
        regions = regions_of(country)
        region = self.query_one("#region", Select)
        region.set_options(region_options(regions))
        region.prompt = _("Choose the state or province") if regions else _(NO_REGION_PROMPT)
        region.disabled = not regions
        self.query_one("#postal-code", Input).placeholder = self._postal_placeholder(
            postal_code_hint(country))
        self.query_one("#region-error", FieldError).clear()
        self.query_one("#postal-code-error", FieldError).clear()

    @on(RadioSet.Changed, "#account-type")
    def _type_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        corporate = event.pressed.id == "type-corporate"
        self.query_one("#individual-fields").set_class(corporate, "-hidden")
        self.query_one("#corporate-fields").set_class(not corporate, "-hidden")
        self.query_one("#type-error", FieldError).clear()
        self._remember()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        field = event.input.id or ""
        if field in ERROR_FIELDS:
            event.stop()
            self.query_one(f"#{field}-error", FieldError).clear()
            self._remember()

    @on(Select.Changed, "#region")
    def _region_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#region-error", FieldError).clear()

    @on(CodeVerifier.Verified)
    async def _verified(self, event: CodeVerifier.Verified) -> None:
        event.stop()
        self.verified = True
        box = self.query_one("#second-channel-box", Vertical)
        channel = self.data.second_channel if self.data else None
        done = (_("Your mobile phone number is verified. Press Save to save the address.")
                if channel == "phone" else
                _("Your email address is verified. Press Save to save the address."))
        await box.remove_children()
        await box.mount(SafeStatic(done, id="second-channel-done"))
        self.query_one("#save-error", FieldError).clear()
        self.query_one("#save", Button).focus()

    # -- saving ---------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """The form's values as keyword arguments of core.billing_address.save_billing_address."""
        corporate = self.query_one("#type-corporate", RadioButton).value
        individual = self.query_one("#type-individual", RadioButton).value

        def text(field: str) -> str:
            return self.query_one(f"#{field}", Input).value

        region = self.query_one("#region", Select)
        country = self.query_one("#address-country", Select).selection
        values: dict[str, Any] = {
            "account_type": "corporate" if corporate else ("individual" if individual else None),
            "country": country,
            "region": None if region.disabled else region.selection,
            "city": text("city"), "street": text("street"), "street_2": text("street-2"),
            "postal_code": text("postal-code"),
        }
        if corporate:
            values.update(company_name=text("company-name"), contact_name=text("contact-name"),
                          contact_phone=text("contact-phone"),
                          contact_email=text("contact-email"))
        else:
            values["full_name"] = text("full-name")
        return values

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def _save_pressed(self, event: Button.Pressed | Input.Submitted) -> None:
        if isinstance(event, Input.Submitted) and (event.input.id or "") not in ERROR_FIELDS:
            return  # the verifier's own fields
        event.stop()
        if self.data is None:
            return
        from core.billing_address import save_billing_address

        for error in self.query(FieldError):
            if error.id in {f"{f}-error" for f in ERROR_FIELDS}:
                error.clear()
        self.call(save_billing_address, self.token, **self.values()).then(
            self._saved, refused=self._save_refused, busy=self.query_one("#save", Button))

    @on(Button.Pressed, "#later")
    def _later(self, event: Button.Pressed) -> None:
        event.stop()
        self.navigate("overview")

    @on(Button.Pressed, "#go-products")
    def _go_products(self, event: Button.Pressed) -> None:
        event.stop()
        self.navigate("products")

    @on(Button.Pressed, "#add-payment-method")
    def _add_payment_method(self, event: Button.Pressed) -> None:
        event.stop()
        self.navigate("payment-methods")

    async def _saved(self, address: BillingAddressView) -> None:
        DRAFTS.pop(self.app, None)
        if self.query("#second-channel-box"):
            await self.query_one("#second-channel-box").remove()
        if self.data is not None:
            self.data = replace(self.data, address=address, second_channel=None,
                                second_channel_state=None)
        saved = self.query_one("#saved", Vertical)
        kind = _("Corporate") if address.account_type == "corporate" else _("Individual")
        self.query_one("#saved-text", SafeStatic).update(
            _("Your billing address is saved ({kind}):").format(kind=kind) + "\n"
            + "\n".join(translate(line) for line in address.lines))
        saved.add_class("-shown")
        next_step = self.query("#add-payment-method, #go-products")
        (next_step.first() if next_step else self.query_one("#save", Button)).focus()
        self.call_after_refresh(saved.scroll_visible)

    def _show_form_errors(self, errors: dict[str, str]) -> None:
        """Every field's message beside it at once; focus on the first field in error."""
        first = None
        errors = {field: translate(message) for field, message in errors.items()}
        for field, message in errors.items():
            if field not in ERROR_FIELDS or not self.query(f"#{field}-error"):
                continue
            self.query_one(f"#{field}-error", FieldError).show(message)
            if first is None:
                first = field
        problems = len(errors)
        self.query_one("#save-error", FieldError).show(
            _("Check the form: {problem}").format(
                problem=message_of(errors) if problems == 1 else
                _("{n} fields need a change.").format(n=problems)))
        if first is not None:
            widget = self.query(f"#{first}")
            if widget and widget.first().focusable:
                widget.first().focus()
            target = self.query_one(f"#{first}-error", FieldError)
            self.call_after_refresh(target.scroll_visible)

    def _focus_first(self) -> None:
        if self.query("#account-type") and may_take_focus(self, "billing-address"):
            self.query_one("#account-type").focus()

    def _save_refused(self, error: DomainError) -> None:
        from core.errors import FormErrors

        message = translate(error.message)
        field = error.field or "save"
        if isinstance(error, FormErrors):
            self._show_form_errors(error.errors)
            return
        if field == "code" and self.query("#code-error"):
            self.query_one("#code-error", FieldError).show(message)
            self.query_one("#save-error", FieldError).show(message)
            return
        if field not in ERROR_FIELDS or not self.query(f"#{field}-error"):
            field = "save"
        target = self.query_one(f"#{field}-error", FieldError)
        target.show(message)
        if field != "save":
            self.query_one("#save-error", FieldError).show(
                _("Check the form: {problem}").format(problem=message))
            widget = self.query(f"#{field}")
            if widget and widget.first().focusable:
                widget.first().focus()
        self.call_after_refresh(target.scroll_visible)
