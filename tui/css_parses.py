"""Parsed CSS, shared within a process and kept between local starts.

Textual parses every stylesheet (app.tcss and each widget's DEFAULT_CSS) at every start: about
a tenth of a local start's CPU, and as much again each time a theme's variables are set,
because Textual keeps its parses per Stylesheet object and a reparse makes a new one.

`share_css_parses` keeps the parses in one process-wide table keyed by the CSS, where it came
from and the variables it was parsed with, so every Stylesheet of the process finds what any
other parsed (the SSH zygote's warm-up, tui/warm.py, fills it for all its children).

`load_css_parses` / `save_css_parses` keep that table in the data directory between local
starts, as Python keeps compiled bytecode: a start whose CSS, variables, Textual and Python
are those of the last one unpickles the rules (about 2 ms) instead of parsing them (about
20 ms). The file is the data directory's own (mode 0600 in a 0700 directory, beside the
database): whoever can write it can already change the database. Even so it is read with an
unpickler that builds only Textual's CSS types (rules, selectors, styles, scalars, colours,
layouts, enum members): anything else in it and it is ignored, the CSS parsed as without it.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import pickle
import sys
from enum import Enum
from pathlib import Path
from typing import Any

_SHARED: dict[tuple, Any] = {}
"""(css, read_from, is_default_rules, tie_breaker, scope, variables) -> parsed rules."""
SHARED_AT_MOST = 512
FILE_NAME = "css-parses.pickle"
FORMAT = 1
_loaded_count = -1
"""How many parses the table held after load_css_parses (-1: nothing loaded): save only if
it has more."""


def share_css_parses() -> None:
    """Make every Stylesheet of this process (and of its forks) share its CSS parses."""
    from textual.css.stylesheet import Stylesheet

    if getattr(Stylesheet, "_cloudacct_shared", False):
        return
    parse_rules = Stylesheet._parse_rules

    def shared_parse_rules(self: Stylesheet, css: str, read_from: Any,
                           is_default_rules: bool = False, tie_breaker: int = 0,
                           scope: str = "") -> Any:
        variables = self._variables
        memo = getattr(self, "_cloudacct_variables", None)
        if memo is None or memo[0] is not variables:
            memo = (variables, _one_copy(tuple(sorted(variables.items()))))
            self._cloudacct_variables = memo  # type: ignore[attr-defined]
        key = (css, read_from, is_default_rules, tie_breaker, scope, memo[1])
        rules = _SHARED.get(key)
        if rules is None:
            rules = parse_rules(self, css, read_from, is_default_rules, tie_breaker, scope)
            if len(_SHARED) < SHARED_AT_MOST:
                _SHARED[key] = rules
        return rules

    Stylesheet._parse_rules = shared_parse_rules  # type: ignore[method-assign]
    Stylesheet._cloudacct_shared = True  # type: ignore[attr-defined]


def _one_copy(variables: tuple) -> tuple:
    """The table's own copy of an equal variables tuple, so the file stores it once."""
    for key in _SHARED:
        if key[5] == variables:
            return key[5]
    return variables


def _stamp() -> tuple:
    """What the file's parses depend on besides their keys: this format, the Textual installed
    (its files' identity: asking its version reads the package metadata, ~7 ms of a start)
    and the Python."""
    import textual.css.parse

    parser = os.stat(textual.css.parse.__file__)
    return (FORMAT, textual.css.parse.__file__, parser.st_mtime_ns, parser.st_size,
            sys.version)


def load_css_parses(home: Path) -> int:
    """Fill the table from the data directory's file; how many parses it held (0 for none,
    for a file of another Textual or Python, or for one that is not what we wrote)."""
    global _loaded_count
    share_css_parses()
    try:
        data = (home / FILE_NAME).read_bytes()
        stamp, parses = _CssUnpickler(io.BytesIO(data)).load()
    except Exception:  # noqa: BLE001 (missing, torn or foreign: parse as without it)
        _loaded_count = len(_SHARED)
        return 0
    if stamp != _stamp() or not isinstance(parses, dict):
        _loaded_count = len(_SHARED)
        return 0
    for key, rules in parses.items():
        if _is_key(key) and isinstance(rules, list) and len(_SHARED) < SHARED_AT_MOST:
            _SHARED.setdefault(key, rules)
    _loaded_count = len(_SHARED)
    return len(parses)


def save_css_parses(home: Path) -> bool:
    """Write the table to the data directory if this run parsed anything the file lacked
    (whole or not at all: a temporary file renamed over it)."""
    global _loaded_count
    if _loaded_count < 0 or len(_SHARED) <= _loaded_count:
        return False
    path = home / FILE_NAME
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    try:
        data = pickle.dumps((_stamp(), dict(_SHARED)), protocol=pickle.HIGHEST_PROTOCOL)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
        _loaded_count = len(_SHARED)
    except Exception:  # noqa: BLE001 (a cache not written costs the next start ~20 ms)
        with contextlib.suppress(OSError):
            temporary.unlink()
        return False
    return True


def _is_key(key: object) -> bool:
    return (isinstance(key, tuple) and len(key) == 6 and isinstance(key[0], str)
            and isinstance(key[2], bool) and isinstance(key[3], int)
            and isinstance(key[4], str) and isinstance(key[5], tuple))


_CSS_MODULES = ("textual.color", "textual.geometry", "textual.css.", "textual.layouts.",
                "rich.style", "rich.color")


def _css_getattr(owner: object, name: str) -> Any:
    """What pickle's getattr does in parsed CSS (an enum member, a style dict's bound
    `get` and `__contains__`),
    and nothing else."""
    if isinstance(owner, type) and issubclass(owner, Enum) and not name.startswith("_"):
        return getattr(owner, name)
    if type(owner) is dict and name in ("get", "__contains__"):
        return getattr(owner, name)
    raise pickle.UnpicklingError("not part of parsed CSS")


class _CssUnpickler(pickle.Unpickler):
    """Builds Textual's CSS types and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "getattr"):
            return _css_getattr
        if (module, name) == ("functools", "partial"):
            return functools.partial
        if module.startswith(_CSS_MODULES) and not name.startswith("__"):
            found = super().find_class(module, name)
            if isinstance(found, type) or (module == "textual.css.model"
                                           and name.startswith("_check_")):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of parsed CSS")
