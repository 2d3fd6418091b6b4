"""Issue 7, item 3: crash tests with a real SIGKILL.

A child process (tests/core/crash_child.py) runs the money flows in a loop — sign-up, card
saved with the 1.00 USD hold and its release, a subscription bought, a Pay-As-You-Go resource
released and billed, a billing run, an account deleted — and is killed with SIGKILL at a random
moment. All the runs share one data directory, so each kill lands on what the earlier ones left.
After each kill:

- `PRAGMA integrity_check` is ok on the main database and on the sandbox gateway's;
- every flow is all or nothing (`check_invariants`, reconciled=False);
- after `reconcile()` nothing is left half-done: no 'started' ledger entry, no hold at the
  gateway, every gateway charge recorded once, every order charged but not recorded refunded
  (`check_invariants`, reconciled=True); a second reconcile changes nothing.

Runs: CLOUDACCT_CRASH_RUNS (default 30, about half a minute). The long version, a few hundred
kills: `CLOUDACCT_CRASH_RUNS=300 pytest tests/core/test_crash.py` (CLOUDACCT_CRASH_SEED picks
the random delays; the default seed is fixed so a failure can be replayed).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("CLOUDACCT_CRASH_RUNS", "30"))
SEED = int(os.environ.get("CLOUDACCT_CRASH_SEED", "7"))
MAX_DELAY = 1.2  # seconds after the child is ready: its first round of the flows takes ~1 s


# --- the invariants (plain sqlite3 on the two files: reusable without core) ---------------------

def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    return list(conn.execute(sql, params))


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def _gateway_used(gateway_path: Path) -> bool:
    """Has the gateway's file its tables yet? (A kill can land between the file's creation
    and its schema's one transaction: then the gateway was never used.)"""
    if not gateway_path.exists():
        return False
    with contextlib.closing(_open(gateway_path)) as conn:
        return bool(_rows(conn, "SELECT 1 FROM sqlite_master WHERE name = 'operations'"))


def check_invariants(db_path: Path, gateway_path: Path, *, reconciled: bool) -> list[str]:
    """What is wrong between cloudacct's database and the gateway's books (empty: nothing).

    Always (a crash at any point must keep these):
    - both files pass `PRAGMA integrity_check`;
    - a card payment method exists only with its hold and its release both `done`;
    - a paid bill has a `done` charge of its amount; a subscription resource has its paid
      subscription bill;
    - every `done` ledger movement is what the gateway did under that key (same amount).
    After reconciliation also:
    - no ledger entry is left `started`; no authorization is left `held` at the gateway;
    - every succeeded gateway charge and every refund has its `done` ledger entry, once;
    - an order charge with no bill (the order was never recorded) is refunded in full.
    """
    problems: list[str] = []
    db, gw = _open(db_path), _open(gateway_path)
    try:
        for name, conn in (("database", db), ("gateway", gw)):
            result = _rows(conn, "PRAGMA integrity_check")[0][0]
            if result != "ok":
                problems.append(f"{name} integrity_check: {result}")
        for pm in _rows(db, "SELECT id FROM payment_method WHERE kind = 'card'"):
            kinds = {r["kind"] for r in _rows(
                db, "SELECT kind FROM ledger_entry WHERE payment_method_id = ? "
                    "AND status = 'done'", (pm["id"],))}
            if not {"hold", "hold_release"} <= kinds:
                problems.append(f"card #{pm['id']} saved without a done hold and release")
        for bill in _rows(db, "SELECT * FROM bill WHERE status = 'paid'"):
            if not _rows(db, "SELECT 1 FROM ledger_entry WHERE bill_id = ? AND kind = 'charge' "
                             "AND status = 'done' AND amount_cents = ?",
                         (bill["id"], bill["amount_cents"])):
                problems.append(f"bill #{bill['id']} paid without a charge")
        for res in _rows(db, "SELECT id FROM resource WHERE billing_method = 'subscription'"):
            if not _rows(db, "SELECT 1 FROM bill WHERE resource_id = ? AND kind = 'subscription'"
                             " AND status = 'paid'", (res["id"],)):
                problems.append(f"subscription #{res['id']} without its paid bill")
        ops = {r["idempotency_key"]: r for r in _rows(gw, "SELECT * FROM operations")}
        gateway_kind = {"hold": "authorize", "hold_release": "void", "charge": "charge",
                        "refund": "refund"}
        entries = _rows(db, "SELECT * FROM ledger_entry")
        for e in entries:
            if e["status"] != "done":
                continue
            op = ops.get(e["idempotency_key"])
            if op is None or op["outcome"] != "ok" or op["kind"] != gateway_kind[e["kind"]]:
                problems.append(f"ledger {e['kind']} {e['idempotency_key']} done but not at "
                                "the gateway")
            elif e["kind"] != "hold_release" and op["amount_cents"] != e["amount_cents"]:
                problems.append(f"ledger {e['idempotency_key']} amount differs from the gateway")
        if reconciled:
            done = {e["idempotency_key"]: e for e in entries if e["status"] == "done"}
            for e in entries:
                if e["status"] == "started":
                    problems.append(f"ledger {e['kind']} {e['idempotency_key']} still started")
            for auth in _rows(gw, "SELECT id FROM authorizations WHERE state = 'held'"):
                problems.append(f"hold {auth['id']} still held at the gateway")
            for table, kind in (("charges", "charge"), ("refunds", "refund")):
                where = " WHERE state = 'succeeded'" if table == "charges" else ""
                for row in _rows(gw, f"SELECT * FROM {table}{where}"):  # noqa: S608
                    entry = done.get(row["idempotency_key"])
                    if entry is None or entry["kind"] != kind:
                        problems.append(f"gateway {kind} {row['id']} not recorded")
            for e in done.values():
                if e["kind"] == "charge" and e["bill_id"] is None \
                        and e["idempotency_key"].startswith("order-"):
                    refund = done.get(f"refund-{e['idempotency_key']}")
                    if refund is None or refund["amount_cents"] != e["amount_cents"]:
                        problems.append(f"order {e['idempotency_key']} charged, never "
                                        "recorded, not refunded")
    finally:
        db.close()
        gw.close()
    return problems


# --- the test -------------------------------------------------------------------------------------

def _run_child_and_kill(env: dict, delay: float) -> str:
    child = subprocess.Popen([sys.executable, "-m", "tests.core.crash_child"], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = child.stdout.readline()
        assert ready.strip() == "ready", child.stderr.read()
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, f"the child ended by itself: {err[-2000:]}"
    return out


@pytest.mark.sqlite_only
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_at_random_points_loses_nothing(db, cloudacct_home):
    from core import clock
    from core.config import settings
    from core.gateway import set_payment_gateway
    from core.reconciliation import reconcile

    set_payment_gateway(None)
    clock.set_now(None)  # the child runs on real time; so does this reconciliation
    env = {**os.environ, "CLOUDACCT_HOME": str(cloudacct_home),
           "CLOUDACCT_HASH_PROFILE": "test", "PYTHONPATH": str(ROOT)}
    env.pop("CLOUDACCT_NOW", None)
    db_path = Path(settings().database_url.split(":///", 1)[1])
    gateway_path = cloudacct_home / "sandbox-gateway.db"
    rng = random.Random(SEED)
    rounds = fixes = 0
    for run in range(RUNS):
        out = _run_child_and_kill(env, rng.uniform(0, MAX_DELAY))
        rounds += out.count("round ")
        if not _gateway_used(gateway_path):
            continue  # killed before any card was saved
        problems = check_invariants(db_path, gateway_path, reconciled=False)
        assert problems == [], f"run {run}, before reconciliation: {problems}"
        report = reconcile(older_than=timedelta(0))
        assert report.errors == (), report.lines()
        fixes += len(report.fixes)
        assert reconcile(older_than=timedelta(0)).fixes == ()
        problems = check_invariants(db_path, gateway_path, reconciled=True)
        assert problems == [], f"run {run}, after reconciliation: {problems}"
    print(f"\n{RUNS} SIGKILLs, {rounds} complete rounds, {fixes} fixes by reconciliation")
