"""Claiming a due item, so that two machines running the billing run at once split the work.

The billing run (core.billing_run) works item by item: a resource whose usage or period is due,
a bill to charge, a pending deletion to complete. Each item is claimed before it is worked on:

- **Issuing** is claimed with a row lock: `claim_transaction()` is, on PostgreSQL, a transaction
  that does not take core.db's global write lock, and `claim_row(query)` locks the row FOR
  UPDATE SKIP LOCKED in it, so two runs split the due items instead of queueing behind each
  other (and behind people's own writes); a row another run holds is skipped, as that run works
  on it. On SQLite the transaction is BEGIN IMMEDIATE, one writer at a time. Either way the
  UPDATE that advances the item re-checks what was read, so it is done once even without the
  lock.
- **Charging a bill** and **completing a pending deletion** span transactions and a gateway
  call, so a row lock cannot cover them: `claimed(kind, id)` takes a session advisory lock
  tried without waiting, pg_try_advisory_lock(kind, id), which a crashed run's dropped
  connection lets go. Two int4 keys: a key space apart from core.db's single bigint keys. On
  SQLite every claim succeeds: the conditional writes and the idempotency keys make a second
  worker harmless.

This module knows no flow: billing and deletion both claim through it, and neither needs the
other for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from peewee import Model, ModelSelect, OperationalError

from core.db import database, is_sqlite, storage_message, transaction
from core.errors import StorageError

# The kinds of claims (the first key of pg_try_advisory_lock).
CLAIM_BILL = 0x63610001  # a bill being charged by a run
CLAIM_DELETION = 0x63610002  # a pending deletion being completed by a run


@contextmanager
def claim_transaction() -> Iterator[None]:
    """The transaction in which a run claims one due item and does what it owes."""
    if is_sqlite():
        with transaction():
            yield
        return
    try:
        with database.atomic():
            yield
    except OperationalError as exc:
        raise StorageError(storage_message(exc)) from exc


def claim_row(query: ModelSelect) -> Model | None:
    """The row of `query`, locked until the claim transaction ends; None when it is gone or
    (PostgreSQL) another run holds it."""
    if not is_sqlite():
        query = query.for_update(skip_locked=True)
    return query.first()


@contextmanager
def claimed(kind: int, item_id: int) -> Iterator[bool]:
    """Whether this process may work on the item now, for the length of the block. False on
    PostgreSQL when another run is working on it at this moment; always True on SQLite."""
    if is_sqlite():
        yield True
        return
    ours = bool(database.execute_sql("SELECT pg_try_advisory_lock(%s, %s)",
                                     (kind, item_id)).fetchone()[0])
    try:
        yield ours
    finally:
        if ours:
            database.execute_sql("SELECT pg_advisory_unlock(%s, %s)", (kind, item_id))
