"""The embedded database: pragmas, migrations recorded once, concurrent first starts, the
partial unique index on live emails."""

from __future__ import annotations

import multiprocessing
import os
import sqlite3

import pytest
from peewee import IntegrityError

from core.config import settings
from core.db import close_database, database, init_database, open_database, transaction
from core.errors import StorageError
from core.migrations import LATEST, MIGRATIONS, current_version, migrate
from core.models import Account, Code
from tests.conftest import START, STRONG_PASSWORD
from tests.core.conftest import make_account, query_elsewhere


def pragma(name: str):
    return database.execute_sql(f"PRAGMA {name}").fetchone()[0]


@pytest.mark.sqlite_only
def test_sqlite_pragmas(db, cloudacct_home):
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("synchronous") == 2  # FULL
    assert pragma("busy_timeout") >= 5000
    assert (cloudacct_home / "cloudacct.db").exists()


@pytest.mark.sqlite_only
def test_wal_mode_is_persistent_in_the_file(db, cloudacct_home):
    conn = sqlite3.connect(cloudacct_home / "cloudacct.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_foreign_keys_are_enforced(db):
    with pytest.raises(IntegrityError):
        Code.create(account=9999, purpose="signup", destination="x", channel="email",
                    code_hash="0" * 64, created_at=START, expires_at=START)


def test_migrations_are_applied_once_and_recorded(db):
    rows = database.execute_sql("SELECT version, name, applied_at FROM schema_version").fetchall()
    assert [r[0] for r in rows] == [version for version, _, _ in MIGRATIONS]
    assert rows[0][2] == "2026-12-01T10:00:00Z"
    assert current_version(db) == LATEST
    assert {"account", "session", "code", "verification_lock", "logon_throttle"} <= set(
        db.get_tables())


def test_init_database_again_is_a_no_op(db):
    make_account("alice@example.com")
    url = settings().database_url
    assert init_database(url) is db
    close_database()
    init_database(url)
    assert migrate(database.obj) == LATEST
    count = database.execute_sql("SELECT COUNT(*) FROM schema_version").fetchone()[0]
    assert count == len(MIGRATIONS)
    assert Account.select().count() == 1


def _start(url: str, barrier, results) -> None:
    from core.db import init_database

    barrier.wait(timeout=120)  # a guard against a hung start, not a timing target
    try:
        db = init_database(url)
        results.put(("ok", db.execute_sql("SELECT COUNT(*) FROM schema_version").fetchone()[0]))
    except BaseException as exc:  # report anything to the parent
        results.put(("error", repr(exc)))


def test_processes_starting_at_once_on_a_fresh_file_all_succeed(tmp_path):
    pg_url = os.environ.get("CLOUDACCT_DATABASE_URL")  # PostgreSQL: this test's fresh database
    url = pg_url or f"sqlite:///{tmp_path / 'fresh' / 'cloudacct.db'}"
    ctx = multiprocessing.get_context("spawn")
    workers = 4
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_start, args=(url, barrier, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    outcomes = [results.get(timeout=10) for _ in procs]
    assert all(p.exitcode == 0 for p in procs)
    assert outcomes == [("ok", len(MIGRATIONS))] * workers, outcomes
    if pg_url:
        versions = query_elsewhere("SELECT version FROM schema_version ORDER BY version")
    else:
        conn = sqlite3.connect(tmp_path / "fresh" / "cloudacct.db")
        try:
            versions = conn.execute("SELECT version FROM schema_version").fetchall()
        finally:
            conn.close()
    assert versions == [(version,) for version, _, _ in MIGRATIONS]


def test_same_email_may_sign_up_again_once_the_account_is_deleted(db):
    make_account("alice@example.com")
    Account.update(status="deleted").execute()
    make_account("ALICE@example.com", password="Another strong passphrase 42")
    assert Account.select().count() == 2
    assert Account.select().where(Account.status == "unverified").count() == 1


def test_two_live_accounts_cannot_share_an_email(db):
    make_account("alice@example.com")
    with pytest.raises(IntegrityError), database.atomic():
        Account.create(email="Alice@example.com", email_key="alice@example.com", country="SG",
                       password_hash="x", status="active", created_at=START)
    Account.update(status="deleted").execute()
    Account.create(email="Alice@example.com", email_key="alice@example.com", country="SG",
                   password_hash="x", status="active", created_at=START)


def test_unknown_database_url_is_refused():
    with pytest.raises(StorageError):
        open_database("mysql://x/y")


@pytest.mark.sqlite_only
def test_storage_failure_is_a_storage_error(db, cloudacct_home):
    """A write the database refuses becomes a StorageError; nothing is half-written."""
    other = sqlite3.connect(cloudacct_home / "cloudacct.db", timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        database.obj.timeout = 0.1  # do not wait the full busy timeout
        with pytest.raises(StorageError) as err, transaction():
            Account.create(email="a@example.com", email_key="a@example.com", country="SG",
                           password_hash="x", created_at=START)
        assert "busy" in err.value.message
    finally:
        other.rollback()
        other.close()
    assert Account.select().count() == 0


def test_signup_stores_one_account_and_one_session(db):
    from core.models import Session

    make_account("alice@example.com", password=STRONG_PASSWORD)
    assert Account.select().count() == 1 and Session.select().count() == 1
