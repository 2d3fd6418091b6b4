"""core never imports textual or tui, and keeps heavy libraries out of import time."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parents[1]


def _core_modules() -> list[str]:
    names = ["core"]
    for info in pkgutil.walk_packages(core.__path__, prefix="core."):
        names.append(info.name)
    return sorted(names)


def _imported_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_every_core_module_is_found():
    names = _core_modules()
    for expected in ("core.accounts", "core.verify_account", "core.delivery.email",
                     "core.db", "core.migrations"):
        assert expected in names


def test_core_never_imports_textual_or_tui():
    modules = _imported_after("\n".join(f"import {name}" for name in _core_modules()))
    assert "core.accounts" in modules  # the check ran
    leaked = sorted(m for m in modules
                    if m.split(".")[0] in ("textual", "tui", "asyncssh"))
    assert leaked == []


def test_heavy_libraries_are_imported_where_used():
    modules = _imported_after("import core.accounts, core.verify_account, core.sessions")
    assert "core.accounts" in modules
    for heavy in ("phonenumbers", "argon2", "zxcvbn", "pycountry", "email_validator"):
        assert heavy not in modules, heavy


def test_heavy_libraries_do_load_when_used():
    """The lazy imports are real: using a check loads its library."""
    modules = _imported_after(
        "from core.validation import check_phone\ncheck_phone('8123 4567', 'SG')")
    assert "phonenumbers" in modules
