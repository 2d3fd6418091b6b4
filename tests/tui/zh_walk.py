"""Walking the console in Simplified Chinese (issue 15, SPEC F18): what each screen and modal
shows, and which English words are left in it.

Shared by tests/tui/test_every_screen_in_chinese.py (the walk) and
tests/tui/test_snapshots_zh_80x24.py (the pictures).

What is read at a stop (`screen_texts`): every widget of the screen on top (a modal: the modal;
the screen behind it has its own stop) that is displayed — itself and every ancestor — whether
or not it is scrolled into view (a person scrolls to it): a button's label, a Static's text
(labels, hints, error lines, toasts, check boxes and radio buttons), an input's placeholder,
every option of a select (opened or not), a table's headers and cells, a key bar's descriptions,
border titles and tooltips, and for any other widget (the QR code, the meter…) the lines it
draws. What people typed in an input is their data, not the console's: it is not read.

An English word is a run of 2 or more ASCII letters (`english_words`). Allowed
(`allowed_words`, `KEY_NAMES`, `_DATA_PATTERNS`):
- the brand (settings().brand: it is a name, shown as configured);
- product codes and region codes from core/catalogue.py, country codes (SG, IN…), and the
  words of product names that are names in Chinese too (ECS, OSS, RDS, ApsaraDB, MySQL; vCPU,
  GiB, GB as units);
- currency codes (USD, CNY, and "US$" as Babel writes dollars in Chinese) and UTC;
- key names (ctrl+q, Tab, Enter, Esc, Space, Shift…): the keys are labelled so on the keyboard;
- file names, formats and sizes (PDF, CSV, PNG, JPEG, JSON, .pdf, MB, cloudacct.log, paths):
  the file system's names; MM/YY, a card's expiry as the card prints it;
- protocols and standards written so in Chinese consoles too: SSH, SFTP, scp, SHA256 (in key
  fingerprints), MFA (Alibaba Cloud's Chinese console says 虚拟 MFA), ID (账号 ID), CVV (printed
  on the card);
- brand names of payment networks and wallets: PayPal, Paytm and the card brands of
  core.validation (Visa, Mastercard, American Express, UnionPay, JCB…);
- "English" as a choice of language: a language picker names each language in itself;
- the data of the test: every string it typed or that core stored for it (emails, names,
  addresses), removed as a whole before words are counted (`Walk(data=...)`), and anything
  shaped like an email, a path, a key fingerprint or an id (`_DATA_PATTERNS`). Data is allowed
  in texts only, not among a select's options (those are the console's);
- among a select's options, the subdivision names ISO 3166-2 has no Chinese for
  (`untranslated_place_names`): proper names, shown as the standard writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import pytest
from textual.pilot import Pilot


@pytest.fixture(autouse=True)
def zh_hans(cloudacct_home, monkeypatch):
    """The console starts in Simplified Chinese (CLOUDACCT_LANG, read when the app is built);
    sessions outlive the clock's moves; the database of the test's data directory is open
    (accounts are set up through core). Autouse in every test module that imports it."""
    from core.config import reset_settings, settings
    from core.db import init_database

    monkeypatch.setenv("CLOUDACCT_LANG", "zh-Hans")
    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()
    init_database(settings().database_url)


WORD = re.compile(r"[A-Za-z]+")

# Key names, matched case-insensitively (ctrl+q, Tab, Enter, Esc, Shift+Tab…).
KEY_NAMES = frozenset({"ctrl", "shift", "alt", "meta", "tab", "enter", "return", "esc",
                       "escape", "space", "backspace", "delete", "del", "home", "end",
                       "pgup", "pgdn", "up", "down", "left", "right", "ins", "insert"})

# Shown as written in Chinese too (see the module's docstring for why each is here).
FIXED_WORDS = frozenset({
    # currencies and time
    "USD", "CNY", "UTC",
    # files: formats and sizes
    "PDF", "CSV", "PNG", "JPEG", "JPG", "JSON", "pdf", "csv", "png", "jpg", "jpeg", "json",
    "KB", "MB",
    # protocols, standards
    "SSH", "SFTP", "scp", "SHA", "MFA", "ID", "CVV",
    # payment brands (the card brands are added from core.validation); LLC in the merchant's
    # registered name ("Alibaba Cloud US LLC", shown by PayPal as the payee)
    "PayPal", "Paytm", "LLC",
    # products: names and units
    "ApsaraDB", "MySQL", "vCPU", "GiB", "GB",
    # a language's own name in the language picker
    "English",
})

# Data shapes, removed before words are counted: emails (whole or cut at the edge of a field),
# file paths and names, key fingerprints, dollars as Babel writes them in Chinese, ids.
_DATA_PATTERNS = (
    re.compile(r"\S*@\S*"),  # an email (also masked: m•i@example.com, or cut by a column)
    re.compile(r"(?:~|\.{1,2})?/[\w.~/-]+"),  # a path: /home/x/cloudacct-…
    re.compile(r"\b[\w-]+\.(?:pdf|csv|log|png|jpg|jpeg|txt|json|zip)\b", re.IGNORECASE),
    re.compile(r"\bSHA256:[A-Za-z0-9+/=]+"),  # an SSH key fingerprint
    re.compile(r"\bUS\$"),  # Babel's dollars in Chinese: US$40.00
    re.compile(r"\b(?:ctrl|shift|alt)\+\w+\b", re.IGNORECASE),  # ctrl+q, shift+tab
    re.compile(r"\^[a-z]\b"),  # ^q as the key bar writes ctrl
    re.compile(r"\bMM/YY\b"),  # a card's expiry as the card prints it
    re.compile(r"\b[a-z]+-[a-z0-9]+-\d+(?:-\d+)*\b"),  # bill-12-3, cloudacct-bill-1-…
)


def catalogue_words() -> frozenset[str]:
    """Product codes, region codes (their parts too: a table may cut them), country codes
    (ISO 3166 alpha-2, upper case: "Singapore (SG)") and card brands."""
    from core.catalogue import PRODUCTS, REGIONS
    from core.validation import _CARD_BRANDS, countries

    words: set[str] = {code for code, _name in countries()}
    for code in PRODUCTS:
        words |= {code, code.upper()}
    for code in REGIONS:
        words |= set(WORD.findall(code))
    for brand, _prefixes, _lengths in _CARD_BRANDS:
        words |= set(WORD.findall(brand))
    return frozenset(words)


@cache
def untranslated_place_names() -> frozenset[str]:
    """Subdivision names ISO 3166-2 gives no Chinese for (pycountry's zh_CN catalogue, the
    console's one source of place names): proper names, shown as ISO writes them (e.g.
    Singapore's five districts). Allowed among a select's options only, as whole names."""
    import pycountry

    from core.i18n import subdivision_name

    return frozenset(s.name for s in pycountry.subdivisions
                     if subdivision_name(s.code, "zh-Hans") == s.name)


def allowed_words() -> frozenset[str]:
    from core.config import settings

    brand = set(WORD.findall(settings().brand))
    return FIXED_WORDS | catalogue_words() | brand


def english_words(text: str, *, data: Iterable[str] = (), allowed: Iterable[str] = ()
                  ) -> list[str]:
    """The English words left in `text`, in order: runs of 2+ ASCII letters that are not
    allowed words or key names, once every `data` string and every data shape is taken out."""
    allowed = set(allowed)
    for item in sorted((d for d in data if d), key=len, reverse=True):
        text = text.replace(item, " ")
    for pattern in _DATA_PATTERNS:
        text = pattern.sub(" ", text)
    words = []
    for word in WORD.findall(text):
        if len(word) < 2 or word in allowed or word.lower() in KEY_NAMES:
            continue
        words.append(word)
    return words


# --- reading a screen --------------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    where: str  # e.g. "Button#log-on", "Select#country option"
    text: str
    is_option: bool = False  # a select's option: the console's own text, never data


def _name(widget) -> str:
    return f"{type(widget).__name__}#{widget.id}" if widget.id else type(widget).__name__


def _displayed(widget, screen) -> bool:
    node = widget
    while node is not None and node is not screen:
        if not node.display or node.styles.visibility == "hidden":
            return False
        node = node.parent
    return node is screen


def _drawn(widget) -> str:
    """The lines a widget draws (for widgets with no text of their own to read)."""
    try:
        return "\n".join("".join(segment.text for segment in widget.render_line(y))
                         for y in range(widget.size.height))
    except Exception as error:  # a widget that cannot draw outside a refresh: say so
        return f"<{type(error).__name__} drawing {_name(widget)}>"


def widget_texts(widget) -> list[Shown]:
    from textual.widgets import Button, DataTable, Input, Select, Static
    from textual.widgets._footer import FooterKey
    from textual.widgets._select import SelectOverlay

    name = _name(widget)
    out: list[Shown] = []
    for title in (widget.border_title, widget.border_subtitle):
        if title:
            out.append(Shown(f"{name} border", str(title)))
    if widget.tooltip:
        out.append(Shown(f"{name} tooltip", str(widget.tooltip)))
    if isinstance(widget, Button):
        out.append(Shown(name, str(widget.label)))
    elif isinstance(widget, Input):
        if widget.placeholder:
            out.append(Shown(f"{name} placeholder", str(widget.placeholder)))
    elif isinstance(widget, Select):
        for prompt, _value in widget._options:
            out.append(Shown(f"{name} option", str(prompt), is_option=True))
    elif isinstance(widget, DataTable):
        for column in widget.columns.values():
            out.append(Shown(f"{name} header", str(column.label)))
        for index in range(widget.row_count):
            for cell in widget.get_row_at(index):
                out.append(Shown(f"{name} cell", str(cell)))
    elif isinstance(widget, FooterKey):
        if widget.description:
            out.append(Shown(name, str(widget.description)))
    elif isinstance(widget, SelectOverlay):
        pass  # its options are read from the Select
    elif isinstance(widget, Static):
        out.append(Shown(name, str(widget.render())))
    elif not widget.children and not widget.is_container:
        out.append(Shown(name, _drawn(widget)))
    return out


def screen_texts(app) -> list[Shown]:
    """Everything the person can read on the screen on top (see the module's docstring)."""
    from textual.widgets import Select

    screen = app.screen
    out: list[Shown] = []
    for widget in screen.query("*"):
        if not _displayed(widget, screen):
            continue
        if any(isinstance(a, Select) for a in widget.ancestors):
            continue  # the select's shown value is one of its options, read with it
        out.extend(widget_texts(widget))
    return out


async def until(pilot: Pilot, ready, what: str, tries: int = 100) -> None:
    """Let the app run until `ready()` holds (a recompose, a mount), or fail saying `what`."""
    from tests.tui.helpers import settle

    for _ in range(tries):
        if ready():
            return
        await settle(pilot)
    raise AssertionError(f"never came: {what}")


# --- the walk ----------------------------------------------------------------------------------

class EnglishLeft(AssertionError):
    """English left on the walk's screens: the walking tests are xfail for this one only, so
    a stop that cannot be reached still fails them."""


@dataclass
class Walk:
    """The stops of one walk and what each left in English."""

    data: set[str] = field(default_factory=set)
    """Strings the test typed or core stored for it (names, addresses…): allowed in texts."""
    stops: dict[str, list[Shown]] = field(default_factory=dict)
    left: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """stop → text (with where) → its English words."""

    def add_data(self, *items: str) -> None:
        self.data.update(item for item in items if item)

    async def stop(self, pilot: Pilot, name: str, screen_type: type | None = None, *,
                   errors: Iterable[str] = (), shown: Iterable[str] = ()) -> None:
        """Settle, check the stop is reached (the screen's type; each of `errors` an error line
        displayed and not empty; each of `shown` displayed), then read it."""
        from tests.tui.helpers import settle

        await settle(pilot)
        app = pilot.app
        assert name not in self.stops, f"two stops named {name!r}"
        if screen_type is not None:
            assert isinstance(app.screen, screen_type), (
                f"stop {name!r} not reached: {type(app.screen).__name__} is on top, "
                f"not {screen_type.__name__}")
        for selector in errors:
            line = app.screen.query_one(selector)
            assert _displayed(line, app.screen) and str(line.render()).strip(), (
                f"stop {name!r}: no refusal shown in {selector}")
        for selector in shown:
            widget = app.screen.query_one(selector)
            assert _displayed(widget, app.screen), f"stop {name!r}: {selector} not shown"
        texts = screen_texts(app)
        assert texts, f"stop {name!r}: nothing read on {type(app.screen).__name__}"
        self.stops[name] = texts
        allowed = allowed_words()
        found: dict[str, list[str]] = {}
        for item in texts:
            words = english_words(item.text, data=untranslated_place_names() if item.is_option
                                  else self.data, allowed=allowed)
            if words:
                found.setdefault(f"{item.where}: {item.text.strip()[:70]!r}", []).extend(words)
        self.left[name] = found

    def words_left(self, name: str) -> list[str]:
        return sorted({w for words in self.left.get(name, {}).values() for w in words})

    def summary(self) -> dict[str, int]:
        """stop → how many distinct English words are left in it."""
        return {name: len(self.words_left(name)) for name in self.stops}

    def report(self, texts_per_stop: int = 25) -> str:
        """stop → its English words, then the texts they are in (a text already listed at an
        earlier stop is not listed again; a select's options are one line)."""
        lines: list[str] = []
        listed: set[str] = set()
        for name in self.stops:
            words = self.words_left(name)
            if not words:
                continue
            lines.append(f"{name} → {len(words)} English words: {' '.join(words)}")
            options: dict[str, list[str]] = {}
            texts, repeated = [], 0
            for where in self.left[name]:
                owner, _, text = where.partition(": ")
                if owner.endswith(" option"):
                    options.setdefault(owner, []).append(text)
                elif where in listed:
                    repeated += 1
                else:
                    listed.add(where)
                    texts.append(where)
            for owner, items in options.items():
                key = f"{owner} ×{len(items)}"
                if key in listed:
                    repeated += 1
                    continue
                listed.add(key)
                texts.append(f"{key}: {', '.join(items[:4])}{', …' if len(items) > 4 else ''}")
            for where in texts[:texts_per_stop]:
                lines.append(f"    {where}")
            if len(texts) > texts_per_stop:
                lines.append(f"    … and {len(texts) - texts_per_stop} more texts")
            if repeated:
                lines.append(f"    (and {repeated} texts listed at an earlier stop)")
        done = [name for name in self.stops if not self.words_left(name)]
        if done:
            lines.append(f"No English left at: {', '.join(done)}")
        return "\n".join(lines)

    def check(self, expected_stops: Iterable[str] = ()) -> None:
        """Every expected stop was reached; then no English left anywhere (EnglishLeft)."""
        missing = [name for name in expected_stops if name not in self.stops]
        assert not missing, f"stops not reached: {missing}"
        if any(self.words_left(name) for name in self.stops):
            total = sum(self.summary().values())
            raise EnglishLeft(f"{total} English words left (stop → words):\n{self.report()}")
