"""How screens and widgets run core calls: off the UI thread, one at a time, errors routed.

A screen starts a thread worker (`@work(thread=True, exclusive=True, exit_on_error=False,
group=...)`) whose body is one core call wrapped in `call_core`. This mixin receives the
worker's end and routes it: the result to `core_done`, a `DomainError` to `core_refused` (shown
beside the form), an ended session to the app (back to Welcome), and anything else to the app's
single handler for bugs. While a group runs, its buttons are disabled and show a loading
indicator, and `start_busy` refuses a second start, so a double press acts once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from textual import work
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from tui.navigation import LoggedOff

T = TypeVar("T")


def call_core(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a core function in a worker thread, then close that thread's database connection.

    Textual starts a new thread per worker; peewee keeps one connection per thread, so without
    this every worker would leave an open SQLite connection behind.
    """
    try:
        return fn(*args, **kwargs)
    finally:
        from core.db import database

        if database.obj is not None and not database.obj.is_closed():
            database.obj.close()


class CoreWork:
    """Mixin for a Screen or Widget that runs core calls in thread workers."""

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

    # -- overridables -------------------------------------------------------------------

    def core_done(self, group: str, result: Any) -> Any:
        """The core call of `group` returned `result` (may be a coroutine function)."""

    def core_refused(self, group: str, error: Exception) -> None:
        """The core call of `group` raised a DomainError: show `error.message`."""
        from tui.widgets.safe_text import clean_text

        self.app.notify(clean_text(error), severity="warning",  # type: ignore[attr-defined]
                        markup=False)

    # -- routing --------------------------------------------------------------------------

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        from core.errors import DomainError, SessionExpired

        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        event.stop()
        self.end_busy(worker.group)
        app = self.app  # type: ignore[attr-defined]
        if event.state == WorkerState.SUCCESS:
            outcome = self.core_done(worker.group, worker.result)
            if inspect.isawaitable(outcome):
                await outcome
        elif event.state == WorkerState.ERROR:
            error = worker.error
            if isinstance(error, SessionExpired):
                app.session_ended(error.message)
            elif isinstance(error, DomainError):
                self.core_refused(worker.group, error)
            elif error is not None:
                app.report_unexpected(error)


class LogOffWork(CoreWork):
    """CoreWork for a screen with a `#log-off` button: ends the session off the UI thread,
    then the app shows Welcome."""

    def action_log_off(self) -> None:
        from textual.widgets import Button

        if self.start_busy("log-off", self.query_one("#log-off", Button)):  # type: ignore[attr-defined]
            self.log_off()

    @work(thread=True, exclusive=True, exit_on_error=False, group="log-off")
    def log_off(self) -> None:
        from core.accounts import log_off

        call_core(log_off, self.app.token)  # type: ignore[attr-defined]

    def core_done(self, group: str, result: Any) -> Any:
        if group == "log-off":
            self.post_message(LoggedOff())  # type: ignore[attr-defined]
