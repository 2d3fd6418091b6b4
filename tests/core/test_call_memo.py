"""One core call reads the session by token and the account by id once (issue 16), and the
memo never serves a session that has ended: not after a log-off in this process, nor after one
in another process, nor across a transaction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.conftest import make_account

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def statements(db):
    """Every SQL statement the bound database runs, in order."""
    from core.db import database

    seen: list[str] = []
    bound = database.obj
    execute_sql = bound.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return execute_sql(sql, params, *args, **kwargs)

    bound.execute_sql = counting
    yield seen
    del bound.execute_sql


def _session_reads(seen: list[str]) -> int:
    return sum(1 for sql in seen if sql.startswith("SELECT") and '"token_hash" = ' in sql
               and 'FROM "session"' in sql)


def _account_reads(seen: list[str]) -> int:
    return sum(1 for sql in seen if sql.startswith("SELECT")
               and 'FROM "account" AS "t1" WHERE ("t1"."id" = ' in sql)


def test_one_call_reads_the_session_and_the_account_once(db, statements, clock):
    from datetime import timedelta

    from core.db import core_call
    from core.sessions import require_account, resolve_session

    token = make_account("memo@example.com").token
    clock.advance(timedelta(seconds=5))
    statements.clear()
    with core_call():
        first = require_account(token)
        again = require_account(token)
        resolve_session(token, touch=False)
    assert again is first
    assert _session_reads(statements) == 1
    assert _account_reads(statements) == 1
    touches = [s for s in statements if s.startswith('UPDATE "session" SET "last_seen_at"')]
    assert len(touches) == 1  # touched once in the call, not at every check


def test_outside_a_call_every_check_reads_afresh(db, statements):
    from core.sessions import require_account

    token = make_account("fresh@example.com").token
    statements.clear()
    require_account(token)
    require_account(token)
    assert _session_reads(statements) == 2


def test_a_log_off_in_the_call_is_seen_at_once(db):
    from core.db import core_call
    from core.errors import SessionExpired
    from core.sessions import end_session, require_account

    token = make_account("off@example.com").token
    with core_call():
        require_account(token)
        end_session(token)
        with pytest.raises(SessionExpired):
            require_account(token)


def test_a_transaction_ends_what_the_call_remembered(db, statements):
    """What was read before a transaction is read again inside it (another process may have
    changed it before the write lock was held)."""
    from core.db import core_call, transaction
    from core.sessions import require_account

    token = make_account("tx@example.com").token
    statements.clear()
    with core_call():
        require_account(token)
        with transaction():
            require_account(token)
        require_account(token)
    assert _session_reads(statements) == 3


def test_a_log_off_in_another_process_is_seen_by_the_next_call(db):
    from core.db import core_call
    from core.errors import SessionExpired
    from core.sessions import require_account

    token = make_account("elsewhere@example.com").token
    with core_call():
        require_account(token)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = ("import sys; from core.db import init_database; from core.config import settings; "
            "init_database(settings().database_url); from core.sessions import end_session; "
            "end_session(sys.argv[1])")
    subprocess.run([sys.executable, "-c", code, token], env=env, check=True, cwd=REPO,
                   timeout=60)
    with core_call(), pytest.raises(SessionExpired):
        require_account(token)
    with pytest.raises(SessionExpired):
        require_account(token)


@pytest.mark.sqlite_only
def test_the_idle_clock_commit_leaves_the_connection_synchronous_full(db):
    from core.db import database, lightly_durable
    from core.models import Session

    with lightly_durable():
        Session.select().count()
    assert database.execute_sql("PRAGMA synchronous").fetchone()[0] == 2
