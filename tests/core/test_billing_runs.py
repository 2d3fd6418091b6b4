"""Billing runs at scale and on several machines: every query of a run reads through an index
(never the account or resource table as a whole), the indexes come with migration 2 to
databases made before it, and on PostgreSQL a run leaves to another run what that run holds —
a resource it is billing (row locks, SKIP LOCKED), a bill it is charging, a pending deletion it
is completing — without waiting for it, while a deletion waits for a bill being issued."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from tests.conftest import START, STRONG_PASSWORD, TEST_POSTGRES_URL
from tests.core.test_products import GOOD_CARD, LATER_DECLINED_CARD, account_of, activate, ready

H48 = timedelta(hours=48)
SEQ_SCAN_OF_A_BIG_TABLE = re.compile(r"Seq Scan on (account|resource|bill|ledger_entry)\b")
pg_only = pytest.mark.skipif(not TEST_POSTGRES_URL,
                             reason="PostgreSQL only: set CLOUDACCT_TEST_POSTGRES_URL")


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """These tests move the clock by days: sessions must outlive that."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


def buyer_with(email: str, card: str = GOOD_CARD) -> str:
    token = activate(email)
    ready(token, card)
    return token


def payg(token: str, hours: float):
    """A Pay-As-You-Go resource run for `hours` from now, then released."""
    from core import clock
    from core.products import place_order, release_resource

    view = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=hours))
    return release_resource(token, view.id)


def elsewhere():
    """A second connection to this test's PostgreSQL database: another machine."""
    import psycopg2

    from core.config import settings

    return psycopg2.connect(settings().database_url)


def end_like_a_crash(other) -> None:
    """Close the other machine's connection and wait (30 s at most) until the server has let
    go of its advisory claims: it does so as it ends the backend, after the close returns."""
    from core.db import database

    pid = other.get_backend_pid()
    other.close()
    deadline = time.monotonic() + 30
    while database.execute_sql("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND "
                               "pid = %s", (pid,)).fetchone() is not None:
        assert time.monotonic() < deadline, "the server kept a closed connection's claims"
        time.sleep(0.01)


# --- query plans ---------------------------------------------------------------------------------

@contextmanager
def statements() -> Iterator[list[tuple[str, tuple]]]:
    """Every SQL statement peewee runs in the block, with its parameters."""
    seen: list[tuple[str, tuple]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if isinstance(record.msg, tuple) and len(record.msg) == 2:
                seen.append((record.msg[0], tuple(record.msg[1] or ())))

    logger = logging.getLogger("peewee")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def table_scans(sql: str, params: tuple) -> list[str]:
    """The lines of the statement's plan that read a big table (or all of an index) through."""
    from core.db import database, is_sqlite

    if is_sqlite():
        plan = [row[3] for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
        return [line for line in plan if line.startswith("SCAN ")
                and not line.startswith("SCAN CONSTANT ROW")]
    # Tiny test tables make a sequential scan the cheapest plan: forbid it, so the plan shows
    # whether an index path exists at all.
    database.execute_sql("SET enable_seqscan = off")
    try:
        plan = [row[0] for row in database.execute_sql("EXPLAIN " + sql, params)]
    finally:
        database.execute_sql("SET enable_seqscan = on")
    return [line for line in plan if SEQ_SCAN_OF_A_BIG_TABLE.search(line)]


def test_no_query_of_a_billing_run_reads_a_whole_table(db, clock):
    """A run with every kind of work due: released and running usage, a renewal, an expiry, a
    declined bill, a bill a crash left uncharged, a pending deletion completed."""
    from core.billing_run import run_billing
    from core.deletion import request_deletion
    from core.models import Bill
    from core.products import place_order

    good = buyer_with("good@example.com")
    declined = buyer_with("declined@example.com", LATER_DECLINED_CARD)
    leaving = buyer_with("leaving@example.com")
    payg(good, 2)
    payg(declined, 3)
    payg(leaving, 1)
    place_order(good, "oss", "us-west-1", "payg")
    place_order(good, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    place_order(good, "ecs", "us-west-1", "subscription", 1)
    assert request_deletion(leaving, STRONG_PASSWORD, True).status == "deletion_pending"
    Bill.create(account=account_of(good).id, kind="usage", description="cut short",
                amount_cents=5, issued_at=clock.now(), status="outstanding")
    clock.advance(timedelta(days=40))
    with statements() as seen:
        report = run_billing()
        run_billing()
        run_billing(account_id=account_of(good).id)
    kinds = {e.kind for e in report.events}
    assert {"bill", "renewal", "expiry", "charge_retry", "deletion"} <= kinds, kinds
    checked = {sql: params for sql, params in seen
               if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))
               and "pg_" not in sql}
    assert len(checked) > 20
    scans = {sql: found for sql, params in checked.items()
             if (found := table_scans(sql, params))}
    assert scans == {}


def test_a_database_at_version_1_gains_the_billing_indexes(db):
    """Migration 2 only adds indexes: a database made before it upgrades on start."""
    from core.migrations import LATEST, current_version, migrate

    names = {"resource_usage_unbilled", "resource_usage_released", "resource_subscription_end"}
    for name in names:
        db.execute_sql(f"DROP INDEX {name}")
    db.execute_sql("DELETE FROM schema_version WHERE version >= 2")
    assert current_version(db) == 1
    assert migrate(db) == LATEST >= 2
    assert names <= {index.name for index in db.get_indexes("resource")}


# --- two machines (PostgreSQL) ------------------------------------------------------------------

@pg_only
def test_a_run_skips_usage_another_run_is_billing_and_does_not_wait(db, clock):
    from core.billing_run import run_billing
    from core.db import database

    token = buyer_with("skip@example.com")
    held, free = payg(token, 1), payg(token, 2)
    clock.advance(H48)
    other = elsewhere()
    try:
        # The other machine's run is issuing `held`'s bill: it holds the row.
        other.cursor().execute("SELECT id FROM resource WHERE id = %s FOR UPDATE", (held.id,))
        database.execute_sql("SET lock_timeout = '5s'")  # waiting would fail, not hang
        report = run_billing()
        assert [e.resource_id for e in report.events if e.kind == "bill"] == [free.id]
    finally:
        other.rollback()
        other.close()
    report = run_billing()
    assert [e.resource_id for e in report.events if e.kind == "bill"] == [held.id]
    assert run_billing().events == ()


@pg_only
def test_a_bill_another_run_is_charging_is_left_to_it(db, clock):
    from core.billing_run import run_billing
    from core.claims import CLAIM_BILL
    from core.models import Bill

    token = buyer_with("claim@example.com")
    bill = Bill.create(account=account_of(token).id, kind="usage", description="cut short",
                       amount_cents=42, issued_at=START, status="outstanding")
    clock.advance(timedelta(minutes=1))
    other = elsewhere()
    other.autocommit = True
    try:
        other.cursor().execute("SELECT pg_advisory_lock(%s, %s)", (CLAIM_BILL, bill.id))
        assert run_billing().events == ()
        assert Bill.get_by_id(bill.id).status == "outstanding"
    finally:
        end_like_a_crash(other)  # its claim ends with its connection, as a crashed run's does
    assert [e.kind for e in run_billing().events] == ["charge_retry"]
    assert Bill.get_by_id(bill.id).status == "paid"


@pg_only
def test_a_pending_deletion_another_run_is_completing_is_left_to_it(db, clock):
    from core.billing_run import run_billing
    from core.claims import CLAIM_DELETION
    from core.deletion import request_deletion
    from core.models import Account

    token = buyer_with("pending@example.com")
    account_id = account_of(token).id
    payg(token, 1)
    assert request_deletion(token, STRONG_PASSWORD, True).status == "deletion_pending"
    clock.advance(H48)
    other = elsewhere()
    other.autocommit = True
    try:
        other.cursor().execute("SELECT pg_advisory_lock(%s, %s)", (CLAIM_DELETION, account_id))
        assert [e.kind for e in run_billing().events] == ["bill"]  # billed, not deleted
        assert Account.get_by_id(account_id).status == "deletion_pending"
    finally:
        end_like_a_crash(other)
    assert [e.kind for e in run_billing().events] == ["deletion"]
    assert Account.get_by_id(account_id).status == "deleted"


@pg_only
def test_an_erasure_waits_for_a_bill_being_issued_and_sees_it(db, clock):
    """Another machine's run is issuing a bill for the account (its transaction holds the
    resource row) while the erasure checks: the erasure waits for it, then refuses."""
    from core.billing_run import run_billing
    from core.db import database
    from core.deletion import DeletionBlocked, erase_account
    from core.models import Account

    token = buyer_with("erase@example.com")
    account_id = account_of(token).id
    resource = payg(token, 1)
    clock.advance(H48)
    assert run_billing().bills_issued == 1  # billed and paid: nothing blocks the deletion
    other = elsewhere()
    watcher = elsewhere()
    watcher.autocommit = True
    outcome: list[object] = []

    def erase() -> None:
        try:
            outcome.append(erase_account(account_id))
        except Exception as exc:  # noqa: BLE001 (checked below)
            outcome.append(exc)
        finally:
            database.close()

    try:
        cur = other.cursor()
        cur.execute("SELECT id FROM resource WHERE id = %s FOR UPDATE", (resource.id,))
        cur.execute("INSERT INTO bill (account_id, resource_id, kind, description, amount_cents,"
                    " issued_at, status) VALUES (%s, %s, 'usage', 'late usage', 99, %s,"
                    " 'outstanding')", (account_id, resource.id, clock.now()))
        thread = threading.Thread(target=erase)
        thread.start()
        # Until the erasure either waits for the row lock or (were it not to) has finished.
        while thread.is_alive() and not _waiting_for_a_lock(watcher):
            thread.join(0.02)
        other.commit()
        thread.join(30)
    finally:
        other.close()
        watcher.close()
    assert not thread.is_alive()
    (result,) = outcome
    assert isinstance(result, DeletionBlocked), result
    assert [b.kind for b in result.blockers] == ["outstanding_bill"]
    assert Account.get_by_id(account_id).status != "deleted"


def _waiting_for_a_lock(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'")
        return cur.fetchone()[0] > 0
