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

Peewee (~60 ms to import) is not needed to show the first screen: for a SQLite file whose
schema is already current (read with the standard library), `init_database` only remembers
the URL, and `database` (the proxy) is made and bound on its first use. Nor is a PostgreSQL
driver imported by a process whose database is SQLite (`_import_peewee`).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import StorageError

if TYPE_CHECKING:
    from peewee import Database, DatabaseProxy

    database: DatabaseProxy

SCHEMA_VERSIONS = frozenset({1, 2, 3, 4, 6, 7, 8, 9})
"""The versions of core.migrations.MIGRATIONS (a test keeps them equal). A database holding
all of them needs no migration, which start-up checks without importing Peewee; one missing
any (or a migration added without updating this) takes the full `migrate` path."""

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

_lock = threading.RLock()
_bound_url: str | None = None
_proxy: DatabaseProxy | None = None
_pending_url: str | None = None
"""A SQLite URL whose schema is current, bound when `database` is first used."""

_DRIVERS = ("psycopg2", "psycopg2cffi", "psycopg", "pymysql", "MySQLdb")


def __getattr__(name: str) -> Any:
    if name == "database":
        return _database()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _database() -> DatabaseProxy:
    """The proxy every model uses: made on first use, bound to a pending SQLite URL then."""
    global _proxy, _pending_url
    proxy = _proxy
    if proxy is not None and _pending_url is None:
        return proxy
    with _lock:
        if _proxy is None:
            _import_peewee()
            from peewee import DatabaseProxy

            _proxy = DatabaseProxy()
        if _pending_url is not None:
            _proxy.initialize(_sqlite_database(_sqlite_path(_pending_url)))
            _pending_url = None
        return _proxy


def _import_peewee() -> None:
    """Import Peewee without the database drivers it tries at import when this process's
    database is SQLite (psycopg2 alone is ~20 ms); `open_database` gives Peewee psycopg2 back
    should a PostgreSQL URL come later."""
    if "peewee" in sys.modules:
        return
    url = os.environ.get("CLOUDACCT_DATABASE_URL", "").strip()
    if url and not url.startswith("sqlite:"):
        import peewee  # noqa: F401
        return
    hidden = {name: sys.modules.get(name) for name in _DRIVERS if name not in sys.modules}
    sys.modules.update(dict.fromkeys(hidden))  # None: "import psycopg2" raises ImportError
    try:
        import peewee  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]


def _give_peewee_psycopg2() -> None:
    """What Peewee's own import does when psycopg2 is there (it was hidden at its import)."""
    import peewee

    if peewee.psycopg2 is not None:
        return
    try:
        import psycopg2
        from psycopg2 import extensions
        from psycopg2.extras import Json, register_uuid
    except ImportError:
        return
    register_uuid()
    peewee.psycopg2, peewee.pg_extensions, peewee.Json_pg2 = psycopg2, extensions, Json
    peewee.pg_register_uuid = register_uuid


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1] if ":///" in url else ""


def _sqlite_database(path: str) -> Database:
    from peewee import SqliteDatabase

    return SqliteDatabase(path or ":memory:", pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
                          timeout=10)


def open_database(url: str) -> Database:
    """A Database for `sqlite:///path` or `postgresql://…` (not yet connected)."""
    _import_peewee()
    if url.startswith("sqlite:") and "?" not in url:
        # Made directly, not through playhouse.db_url, which imports every driver it knows
        # (psycopg2 among them): the console's start does not wait for PostgreSQL's driver.
        path = _sqlite_path(url)
        if path and path != ":memory:":
            _private_database_file(Path(path).expanduser())
        return _sqlite_database(path)
    _give_peewee_psycopg2()
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


def _bound() -> Database | None:
    return _proxy.obj if _proxy is not None else None


def init_database(url: str) -> Database | None:
    """Make the data directory private, bind the proxy to `url` (once per process and URL)
    and apply pending migrations. Raises StartupError when any of it fails.

    Returns the Database, or None when Peewee is not imported yet and `url` is a SQLite file
    already at every schema version: then the proxy is bound on first use (module docstring),
    and no migration transaction is taken either (twenty SSH consoles starting at once took
    one write lock each per migration)."""
    global _bound_url, _pending_url
    from core.config import settings

    home = settings().home
    try:
        from core.private_files import secure_home

        secure_home(home)
    except OSError as exc:
        raise StartupError(data_directory_message(home, exc)) from exc
    try:
        with _lock:
            if _bound_url == url and (_pending_url == url or _bound() is not None):
                return _bound()
            if _bound() is not None:
                _bound().close()  # type: ignore[union-attr]
            _bound_url = _pending_url = None
            if _schema_current(url):
                if "peewee" not in sys.modules:
                    _pending_url = _bound_url = url
                    return None
                db = _sqlite_database(_sqlite_path(url))
                _database().initialize(db)
                _bound_url = url
                return db
            db = open_database(url)
            _database().initialize(db)
            _bound_url = url
        from core.migrations import migrate

        migrate(db)
    except StartupError:
        raise
    except StorageError as exc:  # a URL of an unknown kind
        _unbind()
        raise StartupError(exc.message) from exc
    except Exception as exc:
        if not isinstance(exc, OSError | ValueError | ImportError | sqlite3.Error) and not \
                _is_peewee_error(exc):
            raise
        _unbind()
        raise StartupError(database_message(url, exc)) from exc
    return db


def _is_peewee_error(exc: BaseException) -> bool:
    peewee = sys.modules.get("peewee")
    return peewee is not None and isinstance(exc, peewee.PeeweeException)


def _schema_current(url: str) -> bool:
    """A plain SQLite file (made private, in WAL mode) already holding every schema version:
    read with sqlite3, without Peewee or a write lock."""
    if not url.startswith("sqlite:") or "?" in url:
        return False
    path = _sqlite_path(url)
    if not path or path == ":memory:":
        return False
    file = Path(path).expanduser()
    _private_database_file(file)  # what open_database does first, and its errors
    conn = sqlite3.connect(file, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_version")}
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False
        raise
    finally:
        conn.close()
    return applied >= SCHEMA_VERSIONS and os.access(file, os.W_OK)


def _unbind() -> None:
    """Forget a database that failed to open, so the next start tries afresh."""
    global _bound_url, _pending_url
    with _lock:
        _pending_url = None
        if _bound() is not None:
            with suppress(Exception):
                _bound().close()  # type: ignore[union-attr]
        if _proxy is not None:
            _proxy.initialize(None)
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
    peewee = sys.modules.get("peewee")
    if peewee is not None and isinstance(exc, peewee.OperationalError):
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
    global _bound_url, _pending_url
    with _lock:
        _pending_url = None
        db = _bound()
        if db is not None and not db.is_closed():
            db.close()
        if _proxy is not None:
            _proxy.initialize(None)
        _bound_url = None


def is_sqlite() -> bool:
    if _pending_url is not None:
        return True
    from peewee import SqliteDatabase

    return isinstance(_bound(), SqliteDatabase)


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


_PREPARED: dict[tuple[type, str], str] = {}
"""The SQL of the hottest reads, built by Peewee once per kind of database: building it cost
more than running it (a quarter of a lifecycle's time outside hashing went to building SQL
strings)."""


def read_by(model: type, field: str, value: int | str) -> Any:
    """The row of `model` whose `field` (unique: an id, a token hash, an account's one
    address) is `value`, or None: its SQL prepared once. `value` is the column's own value
    (an id, not a model instance), passed to the database as it is."""
    key = (type(_database().obj), f"{model.__name__}.{field}")
    sql = _PREPARED.get(key)
    if sql is None:
        sql, _ = model.select().where(getattr(model, field) == value).sql()
        _PREPARED[key] = sql
    return next(iter(model.raw(sql, value)), None)


_calls = threading.local()


@contextmanager
def core_call() -> Iterator[None]:
    """One call into the core (the console's seam runs each in one, in its worker thread).

    Within it `call_memo()` is a dict in which core.sessions keeps the session read by token
    and the account read by id, so the checks of one call (signed in? stepped up? MFA?) read
    them once. Nothing in it outlives the call, nor a transaction's start or end (see
    `transaction`), so no other process's log-off can be missed by a later call."""
    if getattr(_calls, "memo", None) is not None:
        yield
        return
    _calls.memo = {}
    try:
        yield
    finally:
        _calls.memo = None


def call_memo() -> dict | None:
    """This thread's memo of the current core call, None outside one."""
    return getattr(_calls, "memo", None)


def _forget_call_memo() -> None:
    memo = getattr(_calls, "memo", None)
    if memo:
        memo.clear()


@contextmanager
def transaction() -> Iterator[None]:
    """One all-or-nothing unit of a flow. Storage failures become a StorageError for people.

    The call memo is emptied as a transaction starts (what was read before it may have changed
    by the time it holds the write lock) and as it ends (it may have written what was read)."""
    from peewee import OperationalError

    db = _database()
    _forget_call_memo()
    try:
        outermost = not db.in_transaction()
        with db.atomic():
            if outermost and not is_sqlite():
                # PostgreSQL's BEGIN IMMEDIATE: one writer at a time (see the module docstring).
                db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            yield
    except OperationalError as exc:
        raise StorageError(storage_message(_first_cause(exc))) from exc
    finally:
        _forget_call_memo()


@contextmanager
def lightly_durable() -> Iterator[None]:
    """A transaction whose commit need not survive a power cut, only a crash of the process:
    on SQLite its commit is not synced to disk (synchronous NORMAL for it; WAL keeps the
    database whole, and the next synced commit makes it durable too). For what losing costs
    nothing but a little accuracy, such as a session's last use. Elsewhere, `transaction()`."""
    db = _database()
    if not is_sqlite() or db.in_transaction():
        with transaction():
            yield
        return
    db.execute_sql("PRAGMA synchronous = NORMAL")
    try:
        with transaction():
            yield
    finally:
        with suppress(Exception):
            db.execute_sql(f"PRAGMA synchronous = {SQLITE_PRAGMAS['synchronous']}")


def _first_cause(exc: Exception) -> Exception:
    """The error that ended the transaction. SQLite rolls a transaction back by itself on some
    errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM …): peewee's ROLLBACK then fails with "no
    transaction is active", raised while handling the real error, which is its __context__."""
    cause: BaseException = exc
    while "no transaction is active" in str(cause) and cause.__context__ is not None:
        cause = cause.__context__  # peewee's error, sqlite3's beneath it, then the real one
    return cause if isinstance(cause, Exception) else exc
