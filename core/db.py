"""The database: one DatabaseProxy, SQLite (embedded default) or PostgreSQL by URL.

SQLite runs in WAL mode with foreign keys, a busy timeout, FULL synchronous commits and
secure_delete, and every transaction begins IMMEDIATE so a read-then-write cannot deadlock on
upgrade.

PostgreSQL keeps the same guarantee: every outermost `transaction()` first takes one
transaction-scoped advisory lock (WRITE_LOCK_KEY), so write transactions run one at a time
across every process and machine sharing the database, as on SQLite, while reads outside a
transaction never wait. Each flow's read-then-write inside `transaction()` therefore means the
same thing on both engines.

Start-up (`init_database`) makes the data directory private (core.private_files) and turns every way
the data directory or the database can fail to open into one StartupError whose message says
what is wrong and what to do: the `cloudacct` command prints it as its one line on stderr.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from peewee import Database, DatabaseProxy, OperationalError, PeeweeException

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
            _private_database_file(Path(path).expanduser())
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


def _private_database_file(path: Path) -> None:
    """The SQLite file made 0600 before SQLite opens it (its -wal and -shm take its mode),
    and the -wal/-shm an older version left open tightened."""
    from core.private_files import private_file

    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            private_file(side)
    _switch_to_wal(path)


def _switch_to_wal(path: Path) -> None:
    """Put the file in WAL mode (it stays so) before peewee's connections set their pragmas.

    Switching a fresh file to WAL needs an exclusive lock taken while holding a shared one, so
    SQLite answers "database is locked" at once, without waiting, when another process starts
    at the same moment: processes starting together retry here, for up to the busy timeout."""
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            conn.execute("PRAGMA journal_mode = wal")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        finally:
            conn.close()
        time.sleep(0.005)


class StartupError(StorageError):
    """The data directory or the database cannot be used: nothing can start. The message is
    one line for the operator (the command line prints it after "cloudacct: ")."""


def init_database(url: str) -> Database:
    """Make the data directory private, bind the proxy to `url` (once per process and URL)
    and apply pending migrations. Raises StartupError when any of it fails."""
    global _bound_url
    from core.config import settings
    from core.migrations import migrate

    home = settings().home
    try:
        from core.private_files import secure_home

        secure_home(home)
    except OSError as exc:
        raise StartupError(data_directory_message(home, exc)) from exc
    try:
        with _lock:
            if _bound_url == url and database.obj is not None:
                return database.obj
            if database.obj is not None:
                database.obj.close()
            _bound_url = None
            db = open_database(url)
            database.initialize(db)
            _bound_url = url
        migrate(db)
    except StartupError:
        raise
    except StorageError as exc:  # a URL of an unknown kind
        _unbind()
        raise StartupError(exc.message) from exc
    except (OSError, ValueError, ImportError, PeeweeException, sqlite3.Error) as exc:
        _unbind()
        raise StartupError(database_message(url, exc)) from exc
    return db


def _unbind() -> None:
    """Forget a database that failed to open, so the next start tries afresh."""
    global _bound_url
    with _lock:
        if database.obj is not None:
            with suppress(PeeweeException, sqlite3.Error):
                database.obj.close()
        database.initialize(None)
        _bound_url = None


def _reason(exc: BaseException) -> str:
    """The first line of what went wrong, without the exception's class name."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    cause = exc.__cause__ or exc.__context__
    text = str(exc).strip() or (str(cause).strip() if cause else "") or type(exc).__name__
    return " ".join(text.splitlines()[0].split()) if text else type(exc).__name__


def data_directory_message(home: Path, exc: OSError, action: str = "write") -> str:
    """"cannot write the data directory /x: Permission denied; set CLOUDACCT_HOME …"."""
    import errno

    reason = _reason(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"the data directory {home} is full ({reason}): free some disk space and "
                "start again")
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(home) else ""
    return (f"cannot {action} the data directory {home}: {reason}{where}; set CLOUDACCT_HOME "
            f"to a directory you can {action}, or fix its permissions")


def shown_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))
    except ValueError:
        return "CLOUDACCT_DATABASE_URL"


def database_message(url: str, exc: BaseException) -> str:
    """What stops the database at `url` from opening, and what to do, in one line."""
    if isinstance(exc, OperationalError):
        exc = _first_cause(exc)
    reason = _reason(exc)
    text = reason.lower()
    if isinstance(exc, ImportError):
        return ("cannot open the database: PostgreSQL needs the psycopg2 driver; install "
                "cloudacct with its [postgres] extra")
    if not url.startswith("sqlite:"):
        return (f"cannot open the database {shown_url(url)}: {reason}; check that PostgreSQL "
                "is running and CLOUDACCT_DATABASE_URL is right")
    where = url.split(":///", 1)[1] if ":///" in url else url
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (f"the database {where} is damaged or is not a cloudacct database ({reason}); "
                "restore it from a backup, or move it away to start with an empty one")
    if "full" in text or "no space" in text or "too large" in text:
        return (f"the database {where} cannot be written: the disk is full ({reason}); free "
                "some disk space and start again")
    if "disk i/o error" in text:
        return (f"the database {where} cannot be written ({reason}): the disk may be full or "
                "failing; free some disk space or check the disk, then start again")
    if "readonly" in text or "read-only" in text:
        return (f"the database {where} is read-only ({reason}); check the permissions of the "
                "file and its directory")
    return (f"cannot open the database {where}: {reason}; check CLOUDACCT_DATABASE_URL and "
            "that the file and its directory can be written")


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
