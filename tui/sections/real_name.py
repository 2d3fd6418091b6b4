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

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from tui.widgets.bounded_input import BoundedInput
from tui.widgets.core_work import call_core
from tui.widgets.safe_text import FieldError, SafeStatic, clean_text
from tui.widgets.section import Section

if TYPE_CHECKING:
    from core.real_name import RealNameView

INDIVIDUAL_FIELDS = ("rn-name", "rn-id-type", "rn-id-number")
ENTERPRISE_FIELDS = ("rn-company", "rn-credit-code", "rn-legal-rep", "rn-licence")
FIELDS = INDIVIDUAL_FIELDS + ENTERPRISE_FIELDS
CHECK_DELAY = 0.6  # seconds after the last key before a field is checked as typed

STATUS_TITLES = {"none": "Not registered", "pending": "Pending review",
                 "approved": "Approved", "rejected": "Rejected"}


def _status_line(view: RealNameView) -> str:
    title = STATUS_TITLES.get(view.status, view.status)
    text = view.status_text
    lines = [text if text.startswith(("Not registered", "Approved", "Rejected"))
             else f"{title}: {text}"]
    if view.kind == "individual" and view.status != "none":
        lines.append(f"Individual: {view.legal_name or ''}, {view.id_type_label or ''} "
                     f"{view.id_number_masked or ''}")
    elif view.kind == "enterprise":
        lines.append(f"Enterprise: {view.company_name or ''}, credit code "
                     f"{view.credit_code or ''}, legal representative {view.legal_rep or ''}")
    return "\n".join(lines)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def _check_as_typed(field: str, value: str, id_type: str | None) -> str | None:
    """The message of the core check of a field typed so far (None: fine or not checked)."""
    from core.errors import ValidationError
    from core.real_name import check_credit_code, check_id_number, check_licence_file

    if not value.strip():
        return None
    try:
        if field == "rn-id-number" and id_type:
            check_id_number(id_type, value)
        elif field == "rn-credit-code":
            check_credit_code(value)
        elif field == "rn-licence":
            check_licence_file(value)
    except ValidationError as exc:
        return exc.message
    return None


class RealNameSection(Section):
    """Shows the registration's status and, when allowed, the form to (re)submit it."""

    DEFAULT_CSS = """
    RealNameSection #rn-kind {
        height: auto;
        width: auto;
        border: none;
        margin-top: 1;
    }
    RealNameSection #rn-kind > RadioButton {
        width: auto;
        margin-right: 2;
    }
    RealNameSection #rn-status {
        border: round $primary;
        padding: 0 1;
        height: auto;
    }
    RealNameSection .rn-fields {
        height: auto;
    }
    RealNameSection #rn-warning {
        color: $text-warning;
        text-style: bold;
        border: heavy $warning;
        padding: 0 1;
        margin-top: 1;
        height: auto;
    }
    RealNameSection #rn-error {
        margin-top: 1;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.view: RealNameView | None = None
        self._check_timers: dict[str, Timer] = {}
        self.over_ssh = False

    def compose(self) -> ComposeResult:
        from core.real_name import ENTERPRISE_WARNING, ID_TYPES

        yield Static("Real-name registration", classes="title")
        yield SafeStatic("Loading…", id="rn-status")
        with Horizontal(classes="field-row"):
            yield Label("Register as", classes="field-label")
            with RadioSet(id="rn-kind", compact=True):
                yield RadioButton("Individual", id="rn-individual", value=True, compact=True)
                yield RadioButton("Enterprise", id="rn-enterprise", compact=True)
        with Vertical(id="rn-individual-fields", classes="rn-fields"):
            with Horizontal(classes="field-row"):
                yield Label("Legal name", classes="field-label")
                yield BoundedInput(placeholder="as on your ID document", id="rn-name", compact=True)
            yield FieldError("rn-name", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("ID type", classes="field-label")
                yield Select([(label, key) for key, label in ID_TYPES.items()],
                             prompt="Choose the ID document", id="rn-id-type",
                             value="resident_id", compact=True)
            yield FieldError("rn-id-type", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("ID number", classes="field-label")
                yield BoundedInput(placeholder="e.g. 18 characters for a resident ID",
                                   id="rn-id-number", compact=True)
            yield FieldError("rn-id-number", classes="field-note")
        with Vertical(id="rn-enterprise-fields", classes="rn-fields"):
            with Horizontal(classes="field-row"):
                yield Label("Company name", classes="field-label")
                yield BoundedInput(id="rn-company", compact=True)
            yield FieldError("rn-company", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("Credit code", classes="field-label")
                yield BoundedInput(placeholder="unified social credit code, 18 characters",
                                   id="rn-credit-code", compact=True)
            yield FieldError("rn-credit-code", classes="field-note")
            with Horizontal(classes="field-row"):
                yield Label("Legal rep.", classes="field-label")
                yield BoundedInput(placeholder="the legal representative's name", id="rn-legal-rep",
                                   compact=True)
            yield FieldError("rn-legal-rep", classes="field-note")
            yield from self._licence_field()
            yield FieldError("rn-licence", classes="field-note")
            yield Static(f"Warning: {ENTERPRISE_WARNING}", id="rn-warning", markup=False)
        with Horizontal(classes="button-row"):
            yield Button("Submit", id="rn-submit", variant="primary", compact=True)
        yield FieldError("rn")

    def _licence_field(self) -> ComposeResult:
        """A path on this machine locally; over SSH a choice among the person's uploads."""
        self.over_ssh = getattr(self.app, "origin", "local") != "local"
        with Horizontal(classes="field-row"):
            yield Label("Licence file", classes="field-label")
            if not self.over_ssh:
                yield BoundedInput(placeholder="path of a PDF, PNG or JPEG, at most 10 MB",
                                   id="rn-licence", compact=True)
                return
            yield Select([], prompt="Choose a file you uploaded", id="rn-licence",
                         compact=True)
            yield Button("Refresh", id="rn-refresh-uploads", compact=True)
        yield SafeStatic("", id="rn-uploads-hint", classes="hint")

    def on_mount(self) -> None:
        self._show_kind("individual")
        self._set_editable(False)
        self.load()
        if self.over_ssh:
            self.load_uploads()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rn-uploads")
    def load_uploads(self) -> Any:
        from core.files import uploads_view

        return call_core(uploads_view, self.token)

    @on(Button.Pressed, "#rn-refresh-uploads")
    def _refresh_uploads(self, event: Button.Pressed) -> None:
        event.stop()
        self.load_uploads()

    def _show_uploads(self, uploads: Any) -> None:
        select = self.query_one("#rn-licence", Select)
        chosen = select.value
        names = [item.name for item in uploads.files]
        select.set_options([(f"{clean_text(item.name)}  ({_size(item.size)})", item.name)
                            for item in uploads.files])
        if chosen in names:
            select.value = chosen
        elif len(names) == 1:
            select.value = names[0]
        hint = uploads.how_to_upload if not names else \
            f"{len(names)} file(s) in uploads/. {uploads.how_to_upload}"
        self.query_one("#rn-uploads-hint", SafeStatic).update(hint)

    # -- loading --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="rn-load")
    def load(self) -> RealNameView:
        from core.real_name import real_name_status

        return call_core(real_name_status, self.token)

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
        if field in ("rn-id-number", "rn-credit-code", "rn-licence"):
            if field in self._check_timers:
                self._check_timers[field].stop()
            self._check_timers[field] = self.set_timer(CHECK_DELAY, lambda: self._check(field))

    @on(Select.Changed, "#rn-id-type")
    def _id_type_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#rn-id-type-error", FieldError).clear()
        self._check("rn-id-number")

    def _check(self, field: str) -> None:
        if not self.is_mounted:
            return
        value = self.query_one(f"#{field}", Input).value
        id_type = self.query_one("#rn-id-type", Select).value
        message = _check_as_typed(field, value,
                                  None if id_type is Select.NULL else str(id_type))
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

    def action_submit(self) -> None:
        if self.view is not None and not self.view.can_submit:
            return
        if not self.start_busy("rn-submit", self.query_one("#rn-submit", Button)):
            return
        for error in self.query(FieldError):
            error.clear()

        def value(field: str) -> str | None:
            widget = self.query_one(f"#{field}")
            if isinstance(widget, Select):
                return None if widget.value is Select.NULL else str(widget.value)
            return widget.value  # type: ignore[attr-defined]

        if self._kind() == "individual":
            id_type = self.query_one("#rn-id-type", Select).value
            self.submit("individual", value("rn-name"),
                        None if id_type is Select.NULL else str(id_type),
                        value("rn-id-number"))
        else:
            self.submit("enterprise", value("rn-company"), value("rn-credit-code"),
                        value("rn-legal-rep"), value("rn-licence"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="rn-submit")
    def submit(self, kind: str, *values: str | None) -> RealNameView:
        from core.real_name import submit_enterprise, submit_individual

        fn = submit_individual if kind == "individual" else submit_enterprise
        return call_core(fn, self.token, *values)

    def core_done(self, group: str, result: Any) -> None:
        if group == "rn-uploads":
            self._show_uploads(result)
        elif group in ("rn-load", "rn-submit"):
            self._show_view(result)
            if group == "rn-submit" and result.status == "rejected":
                self.query_one("#rn-error", FieldError).show(result.status_text)

    def core_refused(self, group: str, error: Exception) -> None:
        message = getattr(error, "message", str(error))
        self.query_one("#rn-error", FieldError).show(message)
        field = getattr(error, "field", None)
        if field in FIELDS:
            self.query_one(f"#{field}-error", FieldError).show(message)
            self.query_one(f"#{field}").focus()
