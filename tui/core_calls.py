"""The one way a screen, section or modal calls the core: typed, off the UI thread, refusals
shown beside their fields.

    self.call(save_card, self.app.token, form).then(self.card_saved, busy=save_button)

`call` takes a core function and exactly its arguments (checked by the type checker through
ParamSpec), and `then` runs it in a thread worker and calls `done` with its typed result on the
UI thread. A `DomainError` goes to `refused` if given, else to the default handler
(`show_refusal`): each message beside its field (`#<field>-error`), or in the form's error line,
focus on the first field in error, every typed value kept. An ended session goes to the app
(back to Welcome); anything else is a bug, logged by the app's one handler.

While a call runs, its `busy` widgets are disabled (the first shows a loading indicator) and a
second `then` of the same group does nothing, so a double press acts once. When it ends, focus
returns to where it was if disabling took it away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from textual.widget import Widget
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from core.errors import DomainError

P = ParamSpec("P")
T = TypeVar("T")


def call_core(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a core function in a worker thread, then close that thread's database connection.

    Textual starts a new thread per worker; Peewee keeps one connection per thread, so without
    this every worker would leave an open SQLite connection behind.
    """
    from core.db import core_call

    try:
        with core_call():  # the session and account are read once per call (core.db)
            return fn(*args, **kwargs)
    finally:
        from core.db import database

        if database.obj is not None and not database.obj.is_closed():
            database.obj.close()


class CoreCall(Generic[T]):
    """A core function and its arguments, until `then` runs it."""

    def __init__(self, owner: CallsCore, fn: Callable[..., T], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self._owner = owner
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self.done: Callable[[T], object] | None = None
        self.refused: Callable[[DomainError], object] | None = None
        self.busy: tuple[Widget, ...] = ()
        self.refocus: Widget | None = None
        self.focus_while_busy: Widget | None = None
        self.group_name = ""
        self.stepped_up = False
        """Retried once after the step-up modal: a second StepUpRequired is shown, not looped."""

    @property
    def group(self) -> str:
        return getattr(self._fn, "__name__", "core-call")

    def then(self, done: Callable[[T], object] | None = None, *,
             refused: Callable[[DomainError], object] | None = None,
             busy: Widget | Iterable[Widget] = (), group: str | None = None) -> bool:
        """Run the call; False (and nothing runs) while the same group's call with busy
        widgets is still running."""
        self.done, self.refused = done, refused
        self.busy = (busy,) if isinstance(busy, Widget) else tuple(busy)
        return self._owner._start_call(self, group or self.group)

    def run(self) -> T:
        """In the worker thread."""
        return call_core(self._fn, *self._args, **self._kwargs)


class CallsCore:
    """Mixin for a Screen, ModalScreen or Widget that calls the core (see the module)."""

    # -- busy groups: one call of a group at a time, its widgets disabled meanwhile ---------

    def _busy_groups(self) -> dict[str, tuple[Widget, ...]]:
        groups = self.__dict__.get("_core_busy")
        if groups is None:
            groups = self.__dict__["_core_busy"] = {}
        return groups

    def is_busy(self, group: str) -> bool:
        return group in self._busy_groups()

    def start_busy(self, group: str, *widgets: Widget) -> bool:
        """Mark `group` as running (False if it already is: the caller then does nothing)."""
        groups = self._busy_groups()
        if group in groups:
            return False
        groups[group] = widgets
        for widget in widgets:
            widget.disabled = True
        if widgets:
            widgets[0].loading = True
        return True

    def end_busy(self, group: str) -> None:
        widgets = self._busy_groups().pop(group, ())
        for widget in widgets:
            widget.disabled = False
            widget.loading = False

    FORM_ERROR: str | None = None
    """The field name of the form's own error line (`#<FORM_ERROR>-error`), for refusals that
    belong to no field of this form; None: they are shown as a notification."""

    def _calls(self) -> dict[Worker, CoreCall[Any]]:
        calls = self.__dict__.get("_core_calls")
        if calls is None:
            calls = self.__dict__["_core_calls"] = {}
        return calls

    def call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> CoreCall[T]:
        """`fn(*args, **kwargs)`, to be run by `.then(...)`."""
        return CoreCall(self, fn, args, kwargs)

    def _start_call(self, call: CoreCall[Any], group: str) -> bool:
        node: Widget = self  # type: ignore[assignment]
        call.group_name = group
        if call.busy:
            if self.is_busy(group):
                return False
            call.refocus = node.screen.focused if node.is_attached else None
            self.start_busy(group, *call.busy)
            call.focus_while_busy = node.screen.focused if node.is_attached else None
        worker = node.run_worker(call.run, thread=True, exclusive=True, group=group,
                                 exit_on_error=False, name=group)
        self._calls()[worker] = call
        return True

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        call = self._calls().get(event.worker)
        if call is None:
            return  # not a core call of this node (another widget's, or Textual's own)
        event.stop()
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        del self._calls()[event.worker]
        if call.busy:
            self.end_busy(event.worker.group)
            self._give_focus_back(call)
        if event.state == WorkerState.SUCCESS:
            if call.done is not None:
                outcome = call.done(event.worker.result)
                if hasattr(outcome, "__await__"):
                    await outcome  # type: ignore[misc]
        elif event.state == WorkerState.ERROR:
            self._route_error(call, event.worker.error)

    def _give_focus_back(self, call: CoreCall[Any]) -> None:
        """Disabling a focused button sends focus elsewhere (Textual picks the first focusable
        widget: the navigation), so the next key would land there: give it back once the call
        is over, unless the person has moved it meanwhile."""
        node: Widget = self  # type: ignore[assignment]
        target = call.refocus
        if not node.is_attached or target is None or not target.is_attached:
            return
        if node.screen.focused in (None, call.focus_while_busy):
            target.focus()

    def _route_error(self, call: CoreCall[Any], error: BaseException | None) -> None:
        from core.errors import DomainError, SessionExpired
        from core.i18n import translate
        from tui.navigation import SessionEnded

        node: Widget = self  # type: ignore[assignment]
        app = node.app
        from core.step_up import StepUpRequired

        if isinstance(error, SessionExpired):
            node.post_message(SessionEnded(translate(error.message)))  # the app routes (navigation)
        elif isinstance(error, StepUpRequired) and not call.stepped_up:
            self._step_up_then_retry(call, error)
        elif isinstance(error, DomainError):
            (call.refused or self.show_refusal)(error)
        elif error is not None:
            app.report_unexpected(error)

    def _step_up_then_retry(self, call: CoreCall[Any], error: Any) -> None:
        """SPEC F13: the core asked for a fresh proof; ask for it over the current screen, and
        run the same call again once given (Cancel: nothing happened, focus stays)."""
        from core.i18n import translate
        from tui.modals.step_up import StepUpModal

        node: Widget = self  # type: ignore[assignment]

        def proved(ok: bool | None) -> None:
            if ok and node.is_attached:
                call.stepped_up = True
                self._start_call(call, call.group_name)
            elif call.refocus is not None and call.refocus.is_attached:
                call.refocus.focus()

        node.app.push_screen(StepUpModal(translate(error.message), error.method), proved)

    # -- the default refusal handler ------------------------------------------------------------

    def clear_errors(self) -> None:
        """Hide every error line of this form."""
        from tui.widgets.safe_text import FieldError

        node: Widget = self  # type: ignore[assignment]
        for line in node.query(FieldError):
            line.clear()

    def show_refusal(self, error: DomainError) -> None:
        """Every message beside its field, the rest in the form's error line; focus on the
        first field in error. Typed values are left as they are."""
        from core.errors import FormErrors
        from core.i18n import translate
        from tui.widgets.safe_text import FieldError, clean_text

        node: Widget = self  # type: ignore[assignment]
        errors = error.errors if isinstance(error, FormErrors) else {
            error.field or (self.FORM_ERROR or ""): error.message}
        errors = {field: translate(message) for field, message in errors.items()}
        self.clear_errors()
        unplaced: list[str] = []
        first: Widget | None = None
        for field, message in errors.items():
            lines = node.query(f"#{field}-error").results(FieldError) if field else iter(())
            line = next(iter(lines), None)
            if line is None:
                unplaced.append(message)
                continue
            line.show(message)
            if first is None:
                target = next(iter(node.query(f"#{field}")), None)
                if target is not None and target.focusable:
                    first = target
        if unplaced:
            form_line = (next(iter(node.query(f"#{self.FORM_ERROR}-error").results(FieldError)),
                              None) if self.FORM_ERROR else None)
            if form_line is not None:
                form_line.show(" ".join(unplaced))
            else:
                node.app.notify(clean_text(" ".join(unplaced)), severity="warning",
                                markup=False)
        if first is not None:
            first.focus()
