"""One agreement of sign-up (Membership Agreement, Privacy Policy, ...), readable in a window."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button

from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, _, current_language
from tui.widgets.footer import ConsoleFooter
from tui.widgets.safe_text import SafeStatic

# tui/texts/ and tui/texts/<language>/ (package data), found from this file:
# importlib.resources does not see it through the editable install's path hook.
TEXTS_DIR = Path(__file__).resolve().parents[1] / "texts"

AGREEMENTS: dict[str, str] = {
    "membership-agreement": N_("Membership Agreement"),
    "privacy-policy": N_("Privacy Policy"),
    "product-terms": N_("Product Terms"),
    "terms-of-use": N_("Terms of Use"),
}


def agreement_path(slug: str, language: str | None = None) -> Path:
    """tui/texts/<language>/<slug>.txt (e.g. zh-Hans/), else the English tui/texts/<slug>.txt."""
    if slug not in AGREEMENTS:
        raise KeyError(slug)
    name = f"{slug.replace('-', '_')}.txt"
    chosen = language or current_language()
    if chosen != DEFAULT_LANGUAGE and chosen in LANGUAGES:
        translated = TEXTS_DIR / chosen / name
        if translated.is_file():
            return translated
    return TEXTS_DIR / name


def _wide(character: str) -> bool:
    return unicodedata.east_asian_width(character) in ("W", "F")


def _unwrap(paragraph: str) -> str:
    """One paragraph's lines as one line: joined by a space, or by nothing between two
    double-width (Chinese) characters, which are written without spaces."""
    text = ""
    for line in paragraph.split("\n"):
        line = " ".join(line.split())
        if not line:
            continue
        text += line if not text or (_wide(text[-1]) and _wide(line[0])) else f" {line}"
    return text


def agreement_text(slug: str, language: str | None = None) -> str:
    """The text of `slug` from tui/texts/ in `language` (default: the console's; English when
    there is no translation), with the provider's name filled in."""
    from core.config import settings
    from core.wording import with_article

    raw = agreement_path(slug, language).read_text(encoding="utf-8")
    # The files are wrapped for editing; the window wraps paragraphs to its own width.
    paragraphs = [_unwrap(p) for p in raw.strip().split("\n\n")]
    brand = settings().brand
    # "A {brand} account": the article follows the name ("An Alibaba Cloud account").
    text = re.sub(r"\b([Aa]) \{brand\}",
                  lambda m: with_article(brand, capital=m.group(1) == "A"),
                  "\n\n".join(paragraphs))
    return text.replace("{brand}", brand)


class AgreementModal(ModalScreen[None]):
    """Shows one agreement; Escape or Close returns to the sign-up form."""

    BINDINGS = [Binding("escape", "close", N_("Close"), id="agreement.close")]

    def __init__(self, slug: str) -> None:
        super().__init__()
        self.slug = slug

    def compose(self) -> ComposeResult:
        window = Vertical(id="agreement-window", classes="window")
        window.border_title = _(AGREEMENTS[self.slug])
        with window:
            with VerticalScroll(id="agreement-body"):
                yield SafeStatic(agreement_text(self.slug), id="agreement-text")
            yield Button(_("Close"), id="close", variant="primary", compact=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#agreement-body").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
