"""The console's language (SPEC F18): chosen at start, the account's once logged on, and
switched at once — every open screen built again in the new language with what was typed kept.

Texts are translated when a screen is composed (`_()` at compose time), so switching is
composing again; the typed values are what a person would lose, so they are read before and
put back after, field by field (by id), focus included.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.i18n import (
    choose_language,
    console_language_setting,
    language_of_tag,
    locale_language,
    use_language,
)

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

CLIENT_LANGUAGE_VARIABLE = "CLOUDACCT_CLIENT_LANGUAGE"
"""Set by the SSH server for a console it starts: the language of the client's own LANG/LC_*
(as OpenSSH's SendEnv sent them), never the server's locale."""


def starting_language(origin: str, environ: Mapping[str, str] | None = None) -> str:
    """Before log-on: CLOUDACCT_LANG, then the locale (over SSH the client's), then English."""
    environ = os.environ if environ is None else environ
    if origin == "local":
        locale = locale_language(environ)
    else:
        locale = language_of_tag(environ.get(CLIENT_LANGUAGE_VARIABLE))
    return choose_language(account=None, configured=console_language_setting(environ),
                           locale=locale)


def typed_values(screen: Screen) -> tuple[dict[str, Any], str | None]:
    """What the person has typed or chosen on `screen`, by widget id, and the focused id."""
    from textual.widgets import Checkbox, Input, RadioButton, Select, Switch

    values: dict[str, Any] = {}
    for widget in screen.query("*"):
        if not widget.id:
            continue
        if isinstance(widget, Input | Select | Checkbox | Switch | RadioButton):
            values[widget.id] = widget.value
        if isinstance(widget, Input):
            values[f"{widget.id}\0cursor"] = widget.cursor_position
    focused = screen.focused.id if screen.focused is not None else None
    return values, focused


def restore_typed_values(screen: Screen, values: dict[str, Any], focused: str | None) -> None:
    """Put each value back into the widget of the same id, if the screen still has it."""
    from textual.css.query import NoMatches
    from textual.widgets import Input, Select

    for widget_id, value in values.items():
        if "\0" in widget_id:
            continue
        try:
            widget = screen.query_one(f"#{widget_id}")
        except NoMatches:
            continue
        if isinstance(widget, Select) and value not in widget._legal_values:
            continue  # the options were built again without it
        widget.value = value
    if focused:
        try:
            target = screen.query_one(f"#{focused}")
        except NoMatches:
            return
        if not target.focusable:
            return
        if isinstance(target, Input):
            # Focus would select the whole value (Input.select_on_focus): the next key must
            # go on where the cursor was instead, as if nothing had happened.
            selects, target.select_on_focus = target.select_on_focus, False
            screen.set_focus(target)
            target.cursor_position = values.get(f"{focused}\0cursor", len(target.value))
            target.call_after_refresh(setattr, target, "select_on_focus", selects)
        else:
            screen.set_focus(target)


async def switch_language(app: App, language: str) -> str:
    """Make `language` the console's and build every open screen again in it (nothing typed
    is lost); returns the language in use. `app.shown_language` is the one the screens on
    show were built in."""
    chosen = use_language(language)
    if getattr(app, "shown_language", None) == chosen:
        return chosen
    app.shown_language = chosen  # type: ignore[attr-defined]
    for screen in list(app.screen_stack[1:]):
        values, focused = typed_values(screen)
        await screen.recompose()
        restore_typed_values(screen, values, focused)
    return chosen
