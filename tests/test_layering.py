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


# --- imports between core's flow modules ---------------------------------------------------------

# Known, and not this check's subject: core.verify_account closes a squatting account with
# core.deletion's private erasure steps; that edge goes when deletion asks each store to erase
# its own part (issue 12). It would otherwise close the circle billing → payments →
# verify_account → deletion → billing.
KNOWN_EDGES = {("core.verify_account", "core.deletion")}


def _core_imports() -> dict[str, set[str]]:
    """Each core module → the core modules it imports, at any depth of its code (the imports
    inside functions too: a lazy import is still a dependency)."""
    import ast

    modules: dict[str, Path] = {}
    for path in (ROOT / "core").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found |= {node.module} & modules.keys()
                found |= {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names} & modules.keys()
        graph[name] = found - {name}
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for module in graph[todo.pop()]:
            if module not in seen:
                seen.add(module)
                todo.append(module)
    return seen


def test_billing_never_imports_deletion():
    """Deletion needs billing (its blockers are billing's, and it settles an account first);
    billing needs nothing of deletion. The billing run and paying, which complete a pending
    deletion, are core.billing_run, above both; the claims both take are core.claims."""
    graph = _core_imports()
    assert "core.billing" in graph["core.deletion"]
    assert not graph["core.billing"] & {"core.deletion", "core.billing_run"}
    assert not graph["core.claims"] & {"core.billing", "core.deletion", "core.billing_run"}
    assert graph["core.billing_run"] >= {"core.billing", "core.deletion"}


def test_no_import_cycle_joins_billing_and_deletion():
    graph = _core_imports()
    for source, target in KNOWN_EDGES:
        graph[source].discard(target)
    assert "core.deletion" not in _reachable(graph, "core.billing")
    assert "core.billing_run" not in _reachable(graph, "core.deletion")


def _imports_of(path: Path) -> set[str]:
    """Every module a file names in an import statement, anywhere in it."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_console_reaches_the_database_only_through_core_functions():
    """The seam (DESIGN.md): tui/ calls core's flow functions and reads their dataclasses; it
    never touches the models or Peewee itself."""
    offenders = {}
    for path in sorted((ROOT / "tui").rglob("*.py")):
        bad = {name for name in _imports_of(path)
               if name == "core.models" or name.startswith(("core.models.", "peewee",
                                                            "playhouse"))}
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}
