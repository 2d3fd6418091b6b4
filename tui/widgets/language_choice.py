"""Security settings → Language (SPEC F18, `#language`): the account's language, for the
console at once and for what is sent to the account from now on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Select, Static

from core.i18n import _, current_language
from tui.core_calls import CallsCore
from tui.widgets.console_app import console_app
from tui.widgets.safe_text import FieldError

LANGUAGE_NAMES: tuple[tuple[str, str], ...] = (("English", "en"), ("简体中文", "zh-Hans"))
"""Each language in its own name, so a person who cannot read the other still finds theirs."""


def language_name(language: str) -> str:
    return dict((code, name) for name, code in LANGUAGE_NAMES)[language]


class LanguageChoice(CallsCore, Vertical):
    """A Select of the languages; choosing one stores it on the account (core.languages),
    then the console composes every open screen again in it, keeping what was typed."""

    def compose(self) -> ComposeResult:
        yield Static(_("Language"), classes="subtitle", markup=False)
        yield Static(_("The console, its emails, SMS and calls use this language."),
                     classes="hint", markup=False)
        yield Select(LANGUAGE_NAMES, id="language", value=current_language(),
                     allow_blank=False, compact=True)
        yield FieldError("language")

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        chosen = event.value
        if event.select.id != "language" or not isinstance(chosen, str):
            return
        if chosen == current_language():
            return
        from core.languages import set_account_language

        self.call(set_account_language, console_app(self).token, chosen).then(
            self._chosen, busy=event.select)

    def _chosen(self, language: str) -> None:
        # The switch composes this section again, this widget included: it runs on the app,
        # after this handler has returned (a widget cannot await its own removal).
        console_app(self).call_later(console_app(self).switch_language, language, True)
