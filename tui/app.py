"""CloudAcctApp: the console. It holds the session token and routes between screens by it.

Routing lives in one place, here: nobody logged on → Welcome; an unverified account → Verify;
an active one → the console (Overview), or, right after F2 succeeds, the console at the section
named by `tui.sections.registry.AFTER_VERIFY_SECTION` (the billing address, SPEC F4).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.message_pump import active_message_pump
from textual.screen import Screen

from core.i18n import N_, _
from tui.core_calls import CallsCore
from tui.keyboard import InputQueue
from tui.navigation import GoTo, LoggedOff, LoggedOn, SessionEnded, SignedUp, Verified
from tui.screens.welcome import WelcomeScreen
from tui.terminal_type import clean_term_environment
from tui.widgets.safe_text import clean_text

if TYPE_CHECKING:
    from textual.driver import Driver

    from core.accounts import LogOnResult, MfaRequired, SignUpResult
    from core.errors import DomainError
    from tui.widgets.bounded_input import BoundedInput

logger = logging.getLogger("cloudacct")

SESSION_CHECK_SECONDS = 3.0
BACKGROUND_GROUPS = frozenset({"session-watch", "reconcile", "billing", "trusted-key"})
# SPEC F8: the sandbox bills usage exactly 48 hours after it ends. Every console runs the
# billing run in the background at this pace (nothing due costs a few ms; two runs at once
# charge nothing twice), so a bill appears on time without an operator.
BILLING_RUN_SECONDS = 60
"""Workers that run without the person asking; the session watch never waits for them."""
MAX_RECOVERIES = 5
"""Unexpected errors a console reopens its screen after; the next one stops it."""
UNEXPECTED_ERROR = N_("Something went wrong, so this screen was opened afresh. Please try "
                      "again. The details are in cloudacct.log in the data directory.")


def _log_to(path: Path) -> None:
    """Send the console's log to a file in the data directory (never to the terminal)."""
    for handler in list(logger.handlers):
        if getattr(handler, "_cloudacct", False):
            logger.removeHandler(handler)
            handler.close()
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._cloudacct = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


class CloudAcctApp(CallsCore, App[None]):
    """The account console (CONTRACT.md): constructible with no arguments."""

    CSS_PATH = "app.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding("ctrl+q", "quit", N_("Quit"), id="app.quit", priority=True),
    ]

    def __init__(self, *, origin: str = "local", key_fingerprint: str | None = None,
                 key_algorithm: str | None = None, user_presence: bool = False) -> None:
        """`origin` and `key_fingerprint` say who connected over SSH (set by `serve-ssh`, never
        by the client); a local console is "local" with no key. `key_algorithm` is the key's
        type, `user_presence` whether it was a security key touched for this connection."""
        from core.config import load_settings
        from core.db import init_database

        clean_term_environment()  # before Rich reads TERM in App.__init__
        super().__init__()
        self._input = InputQueue(self, super().post_message)
        self._field_said_full: BoundedInput | None = None
        self._stopped_by_error = False
        self._recoveries = 0
        self._recovering = False
        self.billing_running = False  # the background billing run (one at a time)
        self.origin = origin
        self.key_fingerprint = key_fingerprint
        self.key_algorithm = key_algorithm
        self.user_presence = user_presence
        cfg = load_settings()  # the environment as it is now (CONTRACT.md), not a previous one's
        cfg.home.mkdir(parents=True, exist_ok=True)
        _log_to(cfg.home / "cloudacct.log")
        init_database(cfg.database_url)
        from core.i18n import use_language
        from tui.language import starting_language

        self.starting_language = use_language(starting_language(origin))
        """The language before log-on (F18), the console's again after log-off."""
        self.shown_language = self.starting_language
        self.title = clean_text(cfg.brand)
        self.token: str | None = None
        """The session token after sign-up or log-on (None when nobody is logged on)."""
        self._user_active = False

    # -- the terminal ---------------------------------------------------------------------

    def get_driver_class(self) -> type[Driver]:
        """Textual's Linux driver, made tolerant of any bytes (tui/terminal_input.py)."""
        driver_class = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if driver_class is LinuxDriver:
            from tui.terminal_input import CalmLinuxDriver

            return CalmLinuxDriver
        return driver_class

    def post_message(self, message: Message) -> bool:
        """Input from the terminal waits its turn in the input queue (tui/keyboard.py), so a
        key typed after a Tab lands in the field the Tab moved to."""
        if self._input.hold(message):
            if isinstance(message, events.Key | events.MouseDown):
                self._user_active = True
            return True
        return super().post_message(message)

    def on_bounded_input_cut(self, event: BoundedInput.Cut) -> None:
        """Say once, with the bell, that a field took no more (not for every key of a flood:
        again only after the field has had room since)."""
        field = event.field
        if self._field_said_full is field:
            return
        self._field_said_full = field
        field.restricted()
        self.notify(_("This field takes at most {n} characters; the rest was left out.").format(
            n=field.max_length), severity="warning", timeout=5, markup=False)

    def on_input_changed(self, event: Any) -> None:
        full = self._field_said_full
        if full is not None and event.input is full and len(event.value) < full.max_length:
            self._field_said_full = None

    @property
    def input_backlog(self) -> int:
        """Input events waiting their turn (the driver stops reading above a bound)."""
        return self._input.backlog

    def on_mount(self) -> None:
        self._input.start()
        self.push_screen(WelcomeScreen())
        self.set_interval(SESSION_CHECK_SECONDS, self.check_session)
        if self.key_fingerprint:
            self.log_on_with_key(self.key_fingerprint, self.origin)
        self.call_after_refresh(self.after_first_paint)

    def after_first_paint(self) -> None:
        """What the Welcome screen must not wait for: garbage collection again (the command
        line pauses it for the start, tui/cli.py), this start's CSS parses kept for the next
        one (only where the command line loaded them, tui/css_parses.py: saved now, not at
        exit, as a console may be killed) and the payment modules' reconciliation; a spare SSH
        console (tui/ssh/spare.py) tells its zygote it is built."""
        import gc

        from core.config import settings
        from tui.css_parses import save_css_parses

        gc.enable()
        save_css_parses(settings().home)
        self.reconcile_payments()
        built = getattr(self._driver, "told_built", None)  # a spare SSH console's driver
        if built is not None:
            built()  # (tui/ssh/spare.py): ready to be handed a connection

    def reconcile_payments(self) -> None:
        """Issue 7: finish holds and charges an interruption left half-done, in the
        background so the console starts at once. Failures are logged, never shown."""
        self.call(_reconcile_quietly).then(group="reconcile")
        self.billing_timer = self.set_interval(BILLING_RUN_SECONDS, self.run_due_billing)

    def run_due_billing(self) -> None:
        """Issue what is due now, in the background; one run at a time per console."""
        if self.billing_running:
            return
        self.billing_running = True

        def ended(_: object = None) -> None:
            self.billing_running = False

        self.call(_bill_quietly).then(ended, refused=ended, group="billing")

    def log_on_with_key(self, fingerprint: str, origin: str) -> None:
        """F11: a trusted key of a live account opens the console logged on. With MFA on
        (F13) only a touched security key does; any other trusted key stands for the
        password, and Log on opens at its second step to ask for the code."""
        from core.accounts import log_on_with_trusted_key

        self.call(log_on_with_trusted_key, fingerprint, origin,
                  key_algorithm=self.key_algorithm, user_presence=self.user_presence,
                  ).then(self._key_log_on, refused=self._key_refused, group="trusted-key")

    def _key_log_on(self, result: LogOnResult | MfaRequired | None) -> None:
        from core.accounts import LogOnResult, MfaRequired

        if self.token is not None:
            return  # the person logged on by hand meanwhile
        if isinstance(result, LogOnResult):
            self.logged_on(result)
        elif isinstance(result, MfaRequired) and not self._person_moved_on():
            from tui.screens.log_on import LogOnScreen

            self._show(LogOnScreen(mfa=result, by_key=True))

    def _person_moved_on(self) -> bool:
        """Has the person left Welcome (typed ahead to Log on, Sign up…) before the key's
        answer came? Then it is not taken from under their fingers."""
        return len(self.screen_stack) > 1 and not isinstance(self.screen_stack[1],
                                                             WelcomeScreen)

    def _key_refused(self, error: DomainError) -> None:
        logger.warning("log-on with a trusted key refused: %s", error)

    # -- routing --------------------------------------------------------------------------

    def _show(self, screen: Screen) -> Any:
        """Make `screen` the only screen above the default one (closes any modal); an
        awaitable for its mount."""
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) < 2:
            return self.push_screen(screen)
        return self.switch_screen(screen)

    def show_welcome(self, message: str | None = None) -> None:
        self._show(WelcomeScreen(message))

    # The other screens are imported when first shown: the Welcome screen appears without
    # waiting for the console's sections to load (the cold-start target of issue 8).

    def show_log_on(self, message: str | None = None) -> None:
        from tui.screens.log_on import LogOnScreen

        self._show(LogOnScreen(message))

    def show_sign_up(self) -> None:
        from tui.screens.sign_up import SignUpScreen

        self._show(SignUpScreen())

    def show_verify(self) -> None:
        from tui.screens.verify import VerifyScreen

        self._show(VerifyScreen())

    def show_console(self, section: str) -> None:
        from tui.screens.console import ConsoleScreen

        self._show(ConsoleScreen(section))

    def show_forgot_password(self) -> None:
        from tui.screens.forgot_password import ForgotPasswordScreen

        self._show(ForgotPasswordScreen())

    # -- navigation: what the screens say happened (tui/navigation.py) ---------------------

    def on_go_to(self, message: GoTo) -> None:
        message.stop()
        if message.screen == "welcome":
            self.show_welcome(message.message)
        elif message.screen == "log-on":
            self.show_log_on(message.message)
        elif message.screen == "sign-up":
            self.show_sign_up()
        elif message.screen == "forgot-password":
            self.show_forgot_password()

    def on_signed_up(self, message: SignedUp) -> None:
        message.stop()
        self.signed_up(message.result)

    def on_logged_on(self, message: LoggedOn) -> None:
        message.stop()
        self.logged_on(message.result)

    def on_verified(self, message: Verified) -> None:
        message.stop()
        self.after_verified()

    def on_logged_off(self, message: LoggedOff) -> None:
        message.stop()
        self.logged_off()

    def on_session_ended(self, message: SessionEnded) -> None:
        message.stop()
        self.session_ended(message.message)

    def signed_up(self, result: SignUpResult) -> None:
        """F1 done: the new account (or the decoy of an existing one) verifies next."""
        self.token = result.token
        self.show_verify()

    def logged_on(self, result: LogOnResult) -> None:
        self.token = result.token
        self._speak(result.account.language or self.starting_language)
        if result.account.status == "unverified":
            self.show_verify()
        else:
            self.show_console("overview")

    def _speak(self, language: str) -> None:
        """The language of the screens shown next (each is composed afresh by `_show`)."""
        from core.i18n import use_language

        self.shown_language = use_language(language)

    async def switch_language(self, language: str, announce: bool = False) -> str:
        """Security settings → Language: every open screen again in `language`, nothing typed
        lost (tui/language.py); `announce` says so in the new language."""
        from core.i18n import _
        from tui.language import switch_language
        from tui.widgets.language_choice import language_name

        chosen = await switch_language(self, language)
        if announce:
            self.notify(_("Language set to {language}.").format(language=language_name(chosen)),
                        timeout=4, markup=False)
        return chosen

    def after_verified(self) -> None:
        """F2 done: the console opens at the billing address (SPEC F4)."""
        from tui.sections.registry import AFTER_VERIFY_SECTION

        self.show_console(AFTER_VERIFY_SECTION)

    def logged_off(self) -> None:
        from core.sessions import reason_message

        self.token = None
        self._speak(self.starting_language)
        self.show_welcome(reason_message("logged_off"))

    def session_ended(self, message: str) -> None:
        """The session ended elsewhere (idle, password change, deletion): back to Welcome."""
        if self.token is None:
            return
        self.token = None
        self._speak(self.starting_language)
        self.show_welcome(message)

    # -- the session watch ---------------------------------------------------------------

    def check_session(self) -> None:
        """Has the session ended elsewhere? Activity at the keyboard since the last check
        counts as use of the session (it keeps an idle timeout from striking mid-form)."""
        if self.token is None or self._action_in_flight():
            return
        touch, self._user_active = self._user_active, False
        token = self.token

        def checked(message: str | None) -> None:
            if message is not None and token == self.token and not self._action_in_flight():
                self.session_ended(message)

        self.call(_session_message, token, touch).then(
            checked, refused=self._watch_refused, group="session-watch")

    def _action_in_flight(self) -> bool:
        """Is an action the person started still running? It reports its own outcome (a
        deletion says "Your account has been deleted"), so the watch waits for the next
        check instead of racing it to the Welcome screen."""
        return any(worker.is_running and worker.group not in BACKGROUND_GROUPS
                   for worker in self.workers)

    def _watch_refused(self, error: DomainError) -> None:
        """E.g. the database is busy: the next check will tell."""
        logger.warning("session check refused: %s", error)

    # -- bugs -----------------------------------------------------------------------------

    def report_unexpected(self, error: BaseException) -> None:
        """The one handler for what a worker raised that is not a DomainError: a bug."""
        logger.error("unexpected error in a worker",
                     exc_info=(type(error), error, error.__traceback__))
        self.log.error("unexpected error in a worker", repr(error))
        self.notify(_("Something went wrong and the action did not complete. Please try again. "
                      "The details are in cloudacct.log in the data directory."),
                    title=_("Unexpected error"), severity="error", timeout=8, markup=False)


    # -- calm failure ----------------------------------------------------------------------
    # Textual ends the app on any exception in a handler and prints its traceback to the
    # terminal. Here the traceback goes to cloudacct.log only: an error in a screen or widget
    # opens that screen afresh (the widget whose handler raised has stopped for good) with
    # one line telling the person; an error in the app itself, during such a reopening, or
    # after MAX_RECOVERIES of them, stops the console with one line on the terminal.

    def _handle_exception(self, error: Exception) -> None:
        try:
            where = active_message_pump.get()
        except LookupError:
            where = None
        logger.error("unexpected error in %s", type(where).__name__ if where else "the console",
                     exc_info=(type(error), error, error.__traceback__))
        fatal = (where is None or where is self or self._recovering or self.token is None
                 and len(self.screen_stack) < 2 or self._recoveries >= MAX_RECOVERIES)
        if fatal:
            if self.is_headless and self._exception is None:
                self._exception = error  # a Pilot test fails with it
            self._stop_after_error()
        else:
            self._recoveries += 1
            self._recovering = True
            self.call_later(self._reopen_after_error)

    def panic(self, *renderables: Any) -> None:
        """Textual's own way out with a message: logged, and the calm line instead."""
        from io import StringIO

        from rich.console import Console

        text = StringIO()
        Console(file=text, width=100, color_system=None).print(*renderables)
        logger.error("the console stopped: %s", text.getvalue())
        self._stop_after_error()

    def _stop_after_error(self) -> None:
        self._stopped_by_error = True
        self._return_code = 1
        self._close_messages_no_wait()

    async def _reopen_after_error(self) -> None:
        """Open the place the person was at afresh: Welcome, Verify or the console section."""
        try:
            base = self.screen_stack[1] if len(self.screen_stack) > 1 else None
            section = getattr(base, "section", None)
            if self.token is None:
                opened = self._show(WelcomeScreen())
            elif isinstance(section, str):
                from tui.screens.console import ConsoleScreen

                opened = self._show(ConsoleScreen(section))
            else:
                from tui.screens.verify import VerifyScreen

                opened = self._show(VerifyScreen())
            await opened
        finally:
            self._recovering = False
        self.notify(_(UNEXPECTED_ERROR), title=_("Unexpected error"), severity="error", timeout=8,
                    markup=False)

    def _print_error_renderables(self) -> None:
        """After the terminal is restored: one line, never a traceback."""
        self._exit_renderables.clear()
        if self._stopped_by_error:
            self._stopped_by_error = False
            sys.__stderr__.write(self.stopped_line() + "\n")
            sys.__stderr__.flush()

    def stopped_line(self) -> str:
        """The one line a person sees when the console stopped after an unexpected error (over
        SSH it names no server path)."""
        if self.origin != "local":
            return _("cloudacct stopped after an unexpected error; the details are in the "
                     "server's cloudacct.log.")
        from core.config import settings

        return _("cloudacct stopped after an unexpected error; the details are in "
                 "{path}").format(path=settings().home / "cloudacct.log")

    def run(self, *args: Any, **kwargs: Any) -> None:
        """App.run, with anything that escapes Textual itself logged and told in one line."""
        try:
            return super().run(*args, **kwargs)
        except Exception as error:
            logger.error("the console stopped", exc_info=error)
            self._return_code = 1
            self._stopped_by_error = True
            self._print_error_renderables()
            return None

    async def on_unmount(self) -> None:
        self._input.stop()


def _reconcile_quietly() -> None:
    """The reconciliation at start; a failure is logged (the next start, or `cloudacct
    billing run`, tries again), never shown."""
    from core.reconciliation import reconcile

    try:
        reconcile()
    except Exception:
        logger.warning("reconciliation at start failed", exc_info=True)


def _bill_quietly() -> None:
    """The background billing run; a failure is logged (the next tick tries again)."""
    from core.billing_run import run_billing

    try:
        run_billing()
    except Exception:
        logger.warning("background billing run failed", exc_info=True)


def _session_message(token: str, touch: bool) -> str | None:
    """None while the session lives, else why it ended."""
    from core.errors import SessionExpired
    from core.sessions import resolve_session, session_alive

    if not touch:
        return session_alive(token)
    try:
        resolve_session(token, touch=True)
    except SessionExpired as exc:
        return exc.message
    return None
