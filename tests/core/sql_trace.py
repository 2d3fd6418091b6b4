"""What a core call asks of the database: each statement (and whether it ran inside a
transaction) and how many transactions it began. Works on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SqlTrace:
    statements: list[tuple[str, bool]] = field(default_factory=list)  # (sql, in a transaction)
    begins: int = 0  # outermost transactions begun (savepoints do not count)

    def reads(self, *, inside: bool) -> list[str]:
        """The SELECTs of the data (not core.db's lock calls), inside or outside a
        transaction."""
        return [sql for sql, within in self.statements
                if within is inside and sql.lstrip().upper().startswith("SELECT")
                and "pg_advisory" not in sql]

    @property
    def writes(self) -> list[str]:
        return [sql for sql, _ in self.statements
                if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


@contextmanager
def traced_sql() -> Iterator[SqlTrace]:
    from core.db import database

    db = database.obj
    trace = SqlTrace()
    real_execute, real_begin = db.execute_sql, db.begin

    def execute_sql(sql, *args, **kwargs):
        trace.statements.append((sql, db.in_transaction()))
        return real_execute(sql, *args, **kwargs)

    def begin(*args, **kwargs):
        trace.begins += 1
        return real_begin(*args, **kwargs)

    db.execute_sql, db.begin = execute_sql, begin
    try:
        yield trace
    finally:
        del db.execute_sql, db.begin
