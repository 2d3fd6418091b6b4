"""A local start imports no more than the first screen needs (issue 16): no argparse when
`cloudacct` has no arguments, no Peewee (nor a PostgreSQL driver) before the first screen when
the SQLite database is already migrated, and the schema versions start-up checks without
Peewee are those of core.migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(code: str, home: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDACCT_")}
    env.update(CLOUDACCT_HOME=str(home), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, timeout=120,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_no_arguments_builds_no_parser(tmp_path):
    out = _run("import sys, tui.cli as cli; cli._run_console = lambda: 0; "
               "print(cli.main([]), 'argparse' in sys.modules)", tmp_path)
    assert out == "0 False"


def test_a_command_still_parses(tmp_path):
    out = _run("import sys, tui.cli as cli; print(cli.main(['outbox']))", tmp_path)
    assert out.endswith("0")


def test_a_migrated_database_opens_without_peewee_until_first_used(tmp_path):
    _run("from core.config import settings; from core.db import init_database; "
         "init_database(settings().database_url)", tmp_path)  # creates and migrates
    out = _run(
        "import sys\n"
        "from core.config import settings\n"
        "from core.db import init_database, is_sqlite\n"
        "print(init_database(settings().database_url), 'peewee' in sys.modules, is_sqlite())\n"
        "from core.accounts import sign_up\n"
        "print(bool(sign_up('SG', 'lazy@example.com', 'correct horse battery staple 9', "
        "'correct horse battery staple 9', True).token), 'peewee' in sys.modules)\n",
        tmp_path)
    # Peewee, once imported, tries the PostgreSQL drivers itself when they are installed (CI
    # installs them): what start-up avoids is importing Peewee at all before it is needed.
    assert out.splitlines() == ["None False True", "True True"]


def test_the_console_is_built_without_peewee(tmp_path):
    _run("from core.config import settings; from core.db import init_database; "
         "init_database(settings().database_url)", tmp_path)
    out = _run("import sys\nfrom tui.app import CloudAcctApp\nCloudAcctApp()\n"
               "print(sorted(m for m in ('peewee', 'argparse', 'core.models') "
               "if m in sys.modules))", tmp_path)
    assert out == "[]"


def test_the_schema_versions_checked_at_start_are_the_migrations():
    from core.db import SCHEMA_VERSIONS
    from core.migrations import MIGRATIONS

    assert {version for version, _name, _apply in MIGRATIONS} == SCHEMA_VERSIONS
