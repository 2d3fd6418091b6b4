"""The database: one DatabaseProxy, SQLite (embedded default) or PostgreSQL by URL.

SQLite runs in WAL mode with foreign keys, a busy timeout, FULL synchronous commits and
secure_delete, and every transaction begins IMMEDIATE so a read-then-write cannot deadlock on
upgrade.

PostgreSQL keeps the same guarantee: every outermost `transaction()` first takes one
transaction-scoped advisory lock (WRITE_LOCK_KEY), so write transactions run one at a time
across every process and machine sharing the database, as on SQLite, while reads outside a
transaction never wait. Each flow's read-then-write inside `transaction()` therefore means the
same thing on both engines.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from peewee import Database, DatabaseProxy, OperationalError

from core.errors import StorageError

database = DatabaseProxy()

BUSY_TIMEOUT_MS = 10_000
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": BUSY_TIMEOUT_MS,
    "synchronous": 2,  # FULL: a commit survives power loss
    # Deleted content is overwritten with zeros, so erased personal data (F10) does not linger
    # in free pages or in the free space of a page.
    "secure_delete": 1,
}

# pg_advisory_xact_lock keys (any bigint; fixed so every process agrees). MIGRATE_LOCK_KEY is
# taken by migrate() so processes starting at once apply each migration once.
WRITE_LOCK_KEY = 0x636C6F7564_01  # "cloud" + 1
MIGRATE_LOCK_KEY = 0x636C6F7564_02

_lock = threading.Lock()
_bound_url: str | None = None


def open_database(url: str) -> Database:
    """A Database for `sqlite:///path` or `postgresql://…` (not yet connected)."""
    if url.startswith("sqlite:") and "?" not in url:
        # Made directly, not through playhouse.db_url, which imports every driver it knows
        # (psycopg2 among them): the console's start does not wait for PostgreSQL's driver.
        from peewee import SqliteDatabase

        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
                              timeout=10)
    from playhouse.db_url import connect as connect_url

    if url.startswith("sqlite:"):
        return connect_url(url, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE", timeout=10)
    if url.startswith(("postgres://", "postgresql://")):
        url = url.replace("postgres://", "postgresql://", 1)
        return connect_url(url)
    raise StorageError(
        "CLOUDACCT_DATABASE_URL must start with sqlite:/// or postgresql://"
    )


def init_database(url: str) -> Database:
    """Bind the proxy to `url` (once per process and URL) and apply pending migrations."""
    global _bound_url
    from core.migrations import migrate

    with _lock:
        if _bound_url == url and database.obj is not None:
            return database.obj
        if database.obj is not None:
            database.obj.close()
        db = open_database(url)
        database.initialize(db)
        _bound_url = url
    migrate(db)
    return db


def close_database() -> None:
    global _bound_url
    with _lock:
        if database.obj is not None and not database.obj.is_closed():
            database.obj.close()
        database.initialize(None)
        _bound_url = None


def is_sqlite() -> bool:
    from peewee import SqliteDatabase

    return isinstance(database.obj, SqliteDatabase)


def storage_message(exc: Exception) -> str:
    text = str(exc).lower()
    # SQLite: "database is locked"; PostgreSQL: lock timeouts, deadlocks, serialization failures.
    if any(word in text for word in ("locked", "busy", "lock timeout", "deadlock",
                                     "could not serialize", "could not obtain lock")):
        return "The database is busy. Please try again in a moment."
    if "full" in text or "no space left" in text:
        return "The database is full: nothing was saved. Free some disk space and try again."
    if "readonly" in text or "read-only" in text:
        return ("The database is read-only: nothing was saved. "
                "Check the data directory's permissions.")
    return "The database could not be written: nothing was saved. Please try again."


@contextmanager
def transaction() -> Iterator[None]:
    """One all-or-nothing unit of a flow. Storage failures become a StorageError for people."""
    try:
        outermost = not database.in_transaction()
        with database.atomic():
            if outermost and not is_sqlite():
                # PostgreSQL's BEGIN IMMEDIATE: one writer at a time (see the module docstring).
                database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            yield
    except OperationalError as exc:
        raise StorageError(storage_message(_first_cause(exc))) from exc


def _first_cause(exc: OperationalError) -> Exception:
    """The error that ended the transaction. SQLite rolls a transaction back by itself on some
    errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM …): peewee's ROLLBACK then fails with "no
    transaction is active", raised while handling the real error, which is its __context__."""
    cause: BaseException = exc
    while "no transaction is active" in str(cause) and cause.__context__ is not None:
        cause = cause.__context__  # peewee's error, sqlite3's beneath it, then the real one
    return cause if isinstance(cause, Exception) else exc
