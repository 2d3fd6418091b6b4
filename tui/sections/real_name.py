"""F6 Real-name registration: individual (answered at once) or enterprise (operator review).

Ids (CONTRACT.md): `#rn-individual`, `#rn-enterprise` (RadioButtons); individual: `#rn-name`,
`#rn-id-type` (Select of core.real_name.ID_TYPES keys), `#rn-id-number`; enterprise:
`#rn-company`, `#rn-credit-code`, `#rn-legal-rep`, `#rn-licence`; `#rn-submit`; the status in
`#rn-status`; every error in `#rn-error` (and beside its field, `#<field>-error`, when the core
names the field).

`#rn-licence` is a path field in a local console, and over SSH (SPEC F16) a Select of the
files the person uploaded to their `uploads/` by SFTP, with the command to upload one and
`#rn-refresh-uploads` to list them again. Which one the core accepts is decided by the
session's origin in core.real_name, not by this screen.

The form is editable while nothing is registered or the registration was rejected; it is
read-only while pending and once approved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from core.i18n import _, ngettext, translate
from tui.core_calls import CallsCore
from tui.validators import CoreRule
from tui.widgets.bounded_input import BoundedInput
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.errors import DomainError
    from core.files import UploadsView
    from core.real_name import RealNamePage, RealNameView

INDIVIDUAL_FIELDS = ("rn-name", "rn-id-type", "rn-id-number")
ENTERPRISE_FIELDS = ("rn-company", "rn-credit-code", "rn-legal-rep", "rn-licence")
FIELDS = INDIVIDUAL_FIELDS + ENTERPRISE_FIELDS
CHECK_DELAY = 0.6  # seconds after the last key before a field is checked as typed

LIVE_CHECKED = ("rn-id-number", "rn-credit-code", "rn-licence")


def _status_line(view: RealNameView) -> str:
    """Core's status sentence ("Pending review (about 3 business days)."), and what was
    registered."""
    lines = [translate(view.status_text)]
    if view.kind == "individual" and view.status != "none":
        lines.append(_("Individual: {name}, {id_type} {number}").format(
            name=view.legal_name or "", id_type=translate(view.id_type_label or ""),
            number=view.id_number_masked or ""))
    elif view.kind == "enterprise":
        lines.append(_("Enterprise: {company}, credit code {code}, legal representative "
                       "{rep}").format(company=view.company_name or "",
                                       code=view.credit_code or "", rep=view.legal_rep or ""))
    return "\n".join(lines)


def _size(size: int) -> str:
    if size < 1024:
        return ngettext("{n} byte", "{n} bytes", size).format(n=size)
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


# The live checks: core's own rules (core.real_name), quiet while the field is empty.

def id_number_as_typed(value: str, id_type: str | None) -> None:
    from core.real_name import check_id_number

    if value.strip() and id_type:
        check_id_number(id_type, value)


def credit_code_as_typed(value: str) -> None:
    from core.real_name import check_credit_code

    if value.strip():
        check_credit_code(value)


def licence_as_typed(value: str) -> None:
    from core.real_name import check_licence_file

    if value.strip():
        check_licence_file(value)


class RealNameSection(CallsCore, Section):
    """Shows the registration's status and, when allowed, the form to (re)submit it."""

    FORM_ERROR = "rn"

    def __init__(self) -> None:
        super().__init__()
        self.view: RealNameView | None = None
        self._check_timers: dict[str, Timer] = {}
        self.over_ssh = False

    def compose(self) -> ComposeResult:
        from core.real_name import ENTERPRISE_WARNING, ID_TYPES

        yield Static(_("Real-name registration"), classes="title", markup=False)
        yield SafeStatic(_("Loading…"), id="rn-status")
        with Horizontal(classes="field-row"):
            yield Label(_("Register as"), classes="field-label")
            with RadioSet(id="rn-kind", compact=True):
                yield RadioButton(_("Individual"), id="rn-individual", value=True,
                                  compact=True)
                yield RadioButton(_("Enterprise"), id="rn-enterprise", compact=True)
        with Vertical(id="rn-individual-fields", classes="rn-fields"):
            with Horizontal(classes="field-row"):
                yield Label(_("Legal name"), classes="field-label")
                yield BoundedInput(placeholder=_("as on your ID document"), id="rn-name",
                                   compact=True)
            yield FieldError("rn-name", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label(_("ID type"), classes="field-label")
                yield Select([(_(label), key) for key, label in ID_TYPES.items()],
                             prompt=_("Choose the ID document"), id="rn-id-type",
                             value="resident_id", compact=True)
            yield FieldError("rn-id-type", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label(_("ID number"), classes="field-label")
                yield BoundedInput(placeholder=_("18 characters for a resident ID"),
                                   id="rn-id-number", compact=True, validate_on=(),
                                   validators=[CoreRule(id_number_as_typed, self._id_type)])
            yield FieldError("rn-id-number", classes="field-note")
        with Vertical(id="rn-enterprise-fields", classes="rn-fields"):
            with Horizontal(classes="field-row"):
                yield Label(_("Company name"), classes="field-label")
                yield BoundedInput(id="rn-company", compact=True)
            yield FieldError("rn-company", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label(_("Credit code"), classes="field-label")
                yield BoundedInput(placeholder=_("unified social credit code"),
                                   id="rn-credit-code", compact=True, validate_on=(),
                                   validators=[CoreRule(credit_code_as_typed)])
            yield FieldError("rn-credit-code", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label(_("Legal rep."), classes="field-label")
                yield BoundedInput(placeholder=_("the legal representative's name"),
                                   id="rn-legal-rep", compact=True)
            yield FieldError("rn-legal-rep", classes="field-note")
            yield from self._licence_field()
            yield FieldError("rn-licence", classes="field-note")
            yield Static(_("Warning: {warning}").format(warning=translate(ENTERPRISE_WARNING)),
                         id="rn-warning", markup=False)
        with Horizontal(classes="button-row"):
            yield Button(_("Submit"), id="rn-submit", variant="primary", compact=True)
        yield FieldError("rn")

    def _licence_field(self) -> ComposeResult:
        """A path on this machine locally; over SSH a choice among the person's uploads."""
        self.over_ssh = getattr(self.app, "origin", "local") != "local"
        with Horizontal(classes="field-row"):
            yield Label(_("Licence file"), classes="field-label")
            if not self.over_ssh:
                yield BoundedInput(placeholder=_("path: PDF, PNG or JPEG, ≤ 10 MB"),
                                   id="rn-licence", compact=True, validate_on=(),
                                   validators=[CoreRule(licence_as_typed)])
                return
            yield Select([], prompt=_("Choose a file you uploaded"), id="rn-licence",
                         compact=True)
            yield Button(_("Refresh"), id="rn-refresh-uploads", compact=True)
        yield SafeStatic("", id="rn-uploads-hint", classes="hint")

    def on_mount(self) -> None:
        from core.real_name import real_name_page

        self._show_kind("individual")
        self._set_editable(False)
        self.call(real_name_page, self.token).then(self._show_page)

    @on(Button.Pressed, "#rn-refresh-uploads")
    def _refresh_uploads(self, event: Button.Pressed) -> None:
        from core.files import uploads_view

        event.stop()
        self.call(uploads_view, self.token).then(
            self._show_uploads, busy=self.query_one("#rn-refresh-uploads", Button))

    def _show_uploads(self, uploads: UploadsView) -> None:
        select = self.query_one("#rn-licence", Select)
        chosen = select.value
        names = [item.name for item in uploads.files]
        select.set_options([(_("{name}  ({size})").format(name=clean_text(item.name),
                                                           size=_size(item.size)), item.name)
                            for item in uploads.files])
        if chosen in names:
            select.value = chosen
        elif len(names) == 1:
            select.value = names[0]
        how = translate(uploads.how_to_upload)
        hint = how if not names else _("{files} {how_to_upload}").format(
            files=ngettext("{n} file in uploads/.", "{n} files in uploads/.",
                           len(names)).format(n=len(names)), how_to_upload=how)
        self.query_one("#rn-uploads-hint", SafeStatic).update(hint)

    # -- the page -------------------------------------------------------------------------

    def _show_page(self, page: RealNamePage) -> None:
        self._show_view(page.registration)
        if page.uploads is not None and self.over_ssh:
            self._show_uploads(page.uploads)

    def _show_view(self, view: RealNameView) -> None:
        self.view = view
        self.query_one("#rn-status", SafeStatic).update(_status_line(view))
        if view.kind in ("individual", "enterprise"):
            self.query_one(f"#rn-{view.kind}", RadioButton).value = True
            self._show_kind(view.kind)
        if view.status == "rejected":
            self._prefill(view)
        self._set_editable(view.can_submit)

    def _prefill(self, view: RealNameView) -> None:
        """A rejected registration: its values (but the ID number) to correct."""
        values = {"rn-name": view.legal_name, "rn-company": view.company_name,
                  "rn-credit-code": view.credit_code, "rn-legal-rep": view.legal_rep}
        for field, value in values.items():
            if value:
                self.query_one(f"#{field}", Input).value = value
        if view.id_type:
            self.query_one("#rn-id-type", Select).value = view.id_type

    def _set_editable(self, editable: bool) -> None:
        for widget in self.query("Input, Select, RadioSet"):
            widget.disabled = not editable
        self.query_one("#rn-submit", Button).disabled = not editable

    def _kind(self) -> str:
        return "enterprise" if self.query_one("#rn-enterprise", RadioButton).value \
            else "individual"

    def _show_kind(self, kind: str) -> None:
        self.query_one("#rn-individual-fields").display = kind == "individual"
        self.query_one("#rn-enterprise-fields").display = kind == "enterprise"

    def _id_type(self) -> str | None:
        value = self.query_one("#rn-id-type", Select).value
        return None if value is Select.NULL else str(value)

    # -- live feedback ----------------------------------------------------------------------

    @on(RadioSet.Changed, "#rn-kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self._show_kind(self._kind())
        self.query_one("#rn-error", FieldError).clear()

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        field = event.input.id or ""
        if field not in FIELDS:
            return
        event.stop()
        self.query_one(f"#{field}-error", FieldError).clear()
        if field in LIVE_CHECKED:
            if field in self._check_timers:
                self._check_timers[field].stop()
            self._check_timers[field] = self.set_timer(CHECK_DELAY, lambda: self._check(field))

    @on(Select.Changed, "#rn-id-type")
    def _id_type_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#rn-id-type-error", FieldError).clear()
        self._check("rn-id-number")

    def _check(self, field: str) -> None:
        """The field's CoreRule (core's own check), a moment after the last key."""
        if not self.is_mounted:
            return
        widget = self.query_one(f"#{field}", Input)
        result = widget.validate(widget.value)
        message = (translate(result.failure_descriptions[0]) if result and not result.is_valid
                   else None)
        self.query_one(f"#{field}-error", FieldError).show(message)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id in ("rn-id-number", "rn-licence"):
            self.action_submit()
        else:
            self.screen.focus_next()

    # -- submitting -------------------------------------------------------------------------

    @on(Button.Pressed, "#rn-submit")
    def _submit_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit()

    def _value(self, field: str) -> str | None:
        widget = self.query_one(f"#{field}")
        if isinstance(widget, Select):
            return None if widget.value is Select.NULL else str(widget.value)
        return self.query_one(f"#{field}", Input).value

    def action_submit(self) -> None:
        from core.real_name import submit_enterprise, submit_individual

        if self.view is not None and not self.view.can_submit:
            return
        self.clear_errors()
        value = self._value
        if self._kind() == "individual":
            call = self.call(submit_individual, self.token, value("rn-name"), self._id_type(),
                             value("rn-id-number"))
        else:
            call = self.call(submit_enterprise, self.token, value("rn-company"),
                             value("rn-credit-code"), value("rn-legal-rep"), value("rn-licence"))
        call.then(self._answered, refused=self._refused,
                  busy=self.query_one("#rn-submit", Button), group="rn-submit")

    def _answered(self, view: RealNameView) -> None:
        self._show_view(view)
        if view.status == "rejected":
            self.query_one("#rn-error", FieldError).show(translate(view.status_text))

    def _refused(self, error: DomainError) -> None:
        """Each message beside its field (focus on the first) and all of them in `#rn-error`,
        the form's one line (CONTRACT)."""
        from core.errors import FormErrors

        self.show_refusal(error)
        messages = error.errors.values() if isinstance(error, FormErrors) else [error.message]
        self.query_one("#rn-error", FieldError).show("\n".join(translate(m) for m in messages))
