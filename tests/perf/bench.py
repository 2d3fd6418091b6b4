"""cloudacct benchmark (issue 8): every figure as a ratio measured in this same run.

    python tests/perf/bench.py                 # full run (1 000 000 accounts for the scale part)
    python tests/perf/bench.py --quick         # a few minutes: fewer runs, 100 000 accounts
    python tests/perf/bench.py --skip-ssh --skip-pg --accounts-large 200000
    python tests/perf/bench.py --quick --only ssh   # the SSH figures and the cold start alone
    python tests/perf/bench.py --quick --only scale # log-on, sign-up and billing runs at scale

Not part of the test suite (pyproject's addopts ignore tests/perf). Everything runs in
temporary data directories; nothing outside them is touched. PostgreSQL is measured only when
CLOUDACCT_BENCH_PG_URL names a database the benchmark may fill and empty.

Figures, each with its target as a ratio measured in the same run (issue 16):
- cold start: process start -> Welcome screen ("Free Account" in the PTY's output, escapes
  removed), cloudacct vs a bare Textual app with the same widgets (tests/perf/bare_app.py),
  interleaved pairs [<= 1.0x]
- core lifecycle sign up -> verify -> address -> card -> buy -> release -> bill -> pay -> delete,
  in-process: queries, commits, session/account reads per lifecycle; with argon2id, the time
  outside password hashing [<= half of 171 ms]
- scale: every flow of the lifecycle, log-on and a billing run with nothing due, at 1 000 and
  at N accounts, medians of interleaved rounds [<= 1.2x]; bytes/account
- SSH: connect -> first screen, 20 and 50 at once, with the admission queue and without, vs a
  local cold start [20: median <= 0.75x, slowest <= 1.0x; 50: <= 1.5x]; each console's CPU and
  the clients' own CPU apart; private memory per extra session [<= 10 MiB], PSS per session
  with 20 open [<= 0.5x the bare app]; keystroke echo with 20 open [<= 1.2x local]
- the core lifecycle on PostgreSQL vs SQLite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import platform
import random
import re
import select
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.perf.rawterm import ECHO_KEYS, RawScreen, cpu_seconds, memory_kib  # noqa: E402

WELCOME_TEXT = "Free Account"
COLS, ROWS = 100, 32
START = datetime(2026, 12, 1, 10, 0, 0)
PASSWORD = "correct horse battery staple 9"
GOOD_CARD = "4242 4242 4242 4242"
LATER_DECLINED_CARD = "4000 0000 0000 0341"  # saves fine, every later charge is declined
ADDRESS = dict(account_type="individual", full_name="Alice Tan", country="SG", region="SG-01",
               city="Singapore", street="1 Raffles Place", street_2="#20-01",
               postal_code="048616")


# --- small helpers -------------------------------------------------------------------------

def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.2f} ms"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


@dataclass
class Row:
    figure: str
    measured: str
    ratio: float | None = None
    target: float | None = None
    target_text: str = ""
    lower_is_better: bool = True

    @property
    def verdict(self) -> str:
        if self.ratio is None or self.target is None:
            return ""
        ok = self.ratio <= self.target if self.lower_is_better else self.ratio >= self.target
        return "PASS" if ok else "MISS"


ROWS_OUT: list[tuple[str, list[Row]]] = []


def section(title: str, rows: list[Row]) -> None:
    ROWS_OUT.append((title, rows))


def print_table() -> None:
    header = ("figure", "measured", "ratio", "target", "")
    lines: list[tuple[str, ...]] = []
    for title, rows in ROWS_OUT:
        lines.append((f"[{title}]", "", "", "", ""))
        for row in rows:
            ratio = "" if row.ratio is None else (
                f"{row.ratio:.1%}" if row.target_text.endswith("%") else f"{row.ratio:.2f}x")
            lines.append((row.figure, row.measured, ratio, row.target_text, row.verdict))
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(5)]
    rule = "-+-".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(rule.replace("+", "-"))
    for line in lines:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())


def machine() -> list[str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    try:
        from importlib.metadata import version

        textual = version("textual")
        peewee = version("peewee")
    except Exception:  # noqa: BLE001
        textual = peewee = "?"
    load = ""
    with contextlib.suppress(OSError):
        load = ", load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    nproc = len(os.sched_getaffinity(0))
    return [f"machine: {os.cpu_count()} CPUs (nproc {nproc}), {cpu}{mem}{load}",
            f"Python {platform.python_version()} ({platform.python_implementation()}), "
            f"Textual {textual}, Peewee {peewee}, SQLite {sqlite3.sqlite_version}, "
            f"{platform.system()} {platform.release()}"]


# --- processes on a pseudo-terminal --------------------------------------------------------

def pss_kib(pid: int) -> tuple[int, int]:
    """(Pss, Rss) in KiB from /proc/<pid>/smaps_rollup."""
    values = memory_kib(pid)
    return values["Pss"], values["Rss"]


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


LOG_ON_TEXT = "Log on to your account"
"""On the log-on screen ("l" on the Welcome screen opens it, its email field focused)."""


class PtyProcess:
    """A process on a fresh PTY of COLS x ROWS, its output searched as raw text."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.screen = RawScreen()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=REPO, start_new_session=True,
                                     preexec_fn=_controlling_terminal)
        os.close(slave)

    def wait_for(self, text: str, timeout: float = 60.0) -> float:
        """Seconds (since the process started) until `text` was in its output."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:
                break
            if not data:
                break
            self.screen.feed(data)
            if self.screen.seen(text):
                return time.perf_counter() - self.started
        raise RuntimeError(f"{self.proc.args} showed no {text!r} within {timeout}s")

    def drain(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                with contextlib.suppress(OSError):
                    os.read(self.master, 65536)

    def echo_times(self) -> list[float]:
        """Seconds from writing each of ECHO_KEYS to its echo (on the log-on screen)."""
        os.write(self.master, b"l")
        self.wait_for(LOG_ON_TEXT)
        self.drain(0.5)
        times = []
        for key in ECHO_KEYS:
            self.screen.clear()
            started = time.perf_counter()
            os.write(self.master, key.encode())
            self.started = started
            times.append(self.wait_for(key, 10))
            self.drain(0.05)
        return times

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)


@dataclass
class Started:
    seconds: float
    pss: int
    rss: int
    cpu: float
    """The process's CPU seconds when its Welcome screen was first seen."""


def time_to_welcome(argv: list[str], env: dict[str, str], timeout: float = 60.0,
                    *, memory: bool = True) -> Started:
    """Start `argv` on a fresh PTY; seconds until WELCOME_TEXT is in its output, its CPU then,
    and its (Pss, Rss) KiB a moment later."""
    term = PtyProcess(argv, env)
    try:
        elapsed = term.wait_for(WELCOME_TEXT, timeout)
        cpu = cpu_seconds(term.proc.pid)
        pss = rss = 0
        if memory:
            with contextlib.suppress(OSError):
                time.sleep(0.3)  # let it settle before measuring memory
                pss, rss = pss_kib(term.proc.pid)
        return Started(elapsed, pss, rss, cpu)
    finally:
        term.close()


def local_echo(argv: list[str], env: dict[str, str]) -> list[float]:
    term = PtyProcess(argv, env)
    try:
        term.wait_for(WELCOME_TEXT)
        return term.echo_times()
    finally:
        term.close()


def terminal_env(home: Path) -> dict[str, str]:
    """A person's terminal: their Python keeps compiled bytecode, as an installed package's
    does (a PYTHONDONTWRITEBYTECODE in the bench's own environment would have both apps
    compile every module at every start, ours ~20 ms more than the bare app's): here in the
    work directory, so the checkout is not written to."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CLOUDACCT_", "TEXTUAL", "PYTHONDONTWRITEBYTECODE"))}
    env.update(CLOUDACCT_HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor",
               LANG=env.get("LANG", "C.UTF-8") or "C.UTF-8", PYTHONPATH=str(REPO),
               PYTHONPYCACHEPREFIX=str(home.parent / "bytecode"))
    return env


CLOUDACCT_ARGV = [sys.executable, "-m", "tui.cli"]
BASELINE_ARGV = [sys.executable, str(Path(__file__).resolve().with_name("bare_app.py"))]
"""A script of its own: started as `bench.py --baseline-app` it paid the bench's imports
(argparse, asyncio, subprocess ...) too, which made the bare app look slower."""


@dataclass
class ColdStart:
    cloudacct: float
    baseline: float
    baseline_pss: float
    baseline_rss: float
    cloudacct_pss: float
    cloudacct_cpu: float
    baseline_cpu: float


def bench_cold_start(runs: int, work: Path) -> ColdStart:
    say(f"cold start: {runs} runs each (after one warm-up), alternating")
    home = work / "cold-home"
    env = terminal_env(home)
    # warm-up: compiles the bytecode, creates the database, keeps the parsed CSS (it settles
    # 0.3 s after its first screen before being killed: a person's last session was longer)
    time_to_welcome(CLOUDACCT_ARGV, env)
    time_to_welcome(BASELINE_ARGV, env)
    ours: list[Started] = []
    bare: list[Started] = []
    for _ in range(runs):
        ours.append(time_to_welcome(CLOUDACCT_ARGV, env))
        bare.append(time_to_welcome(BASELINE_ARGV, env))
    result = ColdStart(median([r.seconds for r in ours]), median([r.seconds for r in bare]),
                       median([r.pss for r in bare]), median([r.rss for r in bare]),
                       median([r.pss for r in ours]), median([r.cpu for r in ours]),
                       median([r.cpu for r in bare]))

    def spread(values: list[float]) -> str:
        return f"{ms(median(values))} ({ms(min(values))}-{ms(max(values))})"

    pairs = [o.seconds / b.seconds for o, b in zip(ours, bare, strict=True)]
    section(f"cold start (process start -> Welcome screen, median of {runs} interleaved "
            "pairs)", [
        Row("bare Textual app, same widgets (min-max)", spread([r.seconds for r in bare])),
        Row("cloudacct (min-max)", spread([r.seconds for r in ours]),
            result.cloudacct / result.baseline, 1.0, "<= 1.0x"),
        Row("  median of the pairs' ratios (min-max)",
            f"{median(pairs):.2f}x ({min(pairs):.2f}-{max(pairs):.2f})"),
        Row("  CPU to the first screen: cloudacct / bare", f"{ms(result.cloudacct_cpu)} / "
            f"{ms(result.baseline_cpu)}", result.cloudacct_cpu / result.baseline_cpu, None,
            "(info)"),
        Row("memory: bare app PSS / RSS", f"{mib(result.baseline_pss)} / "
            f"{mib(result.baseline_rss)}"),
        Row("memory: local cloudacct PSS", mib(result.cloudacct_pss),
            result.cloudacct_pss / result.baseline_pss, None, "(info)"),
    ])
    return result


# --- the core, in-process ------------------------------------------------------------------

@contextlib.contextmanager
def data_home(home: Path, **env: str) -> Iterator[None]:
    """Point core at `home` (and these CLOUDACCT_* settings) with a stood-still clock."""
    from core import clock
    from core.config import reset_settings
    from core.db import close_database, init_database
    from core.delivery.phone import set_phone_provider
    from core.hashing import forget_secret_key

    saved = {k: v for k, v in os.environ.items() if k.startswith("CLOUDACCT_")}
    for key in saved:
        del os.environ[key]
    os.environ.update(CLOUDACCT_HOME=str(home), CLOUDACCT_HASH_PROFILE="test",
                      CLOUDACCT_SESSION_IDLE_MINUTES=str(10 * 366 * 24 * 60),
                      CLOUDACCT_SESSION_ABSOLUTE_HOURS=str(10 * 366 * 24))
    os.environ.update(env)
    reset_settings()
    forget_secret_key()
    close_database()
    set_phone_provider(None)
    clock.set_now(START)
    try:
        from core.config import settings

        init_database(settings().database_url)
        yield
    finally:
        close_database()
        clock.set_now(None)
        for key in [k for k in os.environ if k.startswith("CLOUDACCT_")]:
            del os.environ[key]
        os.environ.update(saved)
        reset_settings()
        forget_secret_key()


class Harness:
    """Time spent by the benchmark itself (reading codes back from the outbox), to subtract."""

    spent = 0.0

    @classmethod
    def code(cls, to: str) -> str:
        from core.delivery import read_outbox

        started = time.perf_counter()
        messages = read_outbox(to)
        match = re.search(r"(?<!\d)\d{6}(?!\d)", messages[0].body) if messages else None
        cls.spent += time.perf_counter() - started
        if not match:
            raise RuntimeError(f"no code delivered to {to}")
        return match.group()


_serial = iter(range(10**9))


def unique_email() -> str:
    return f"bench{os.getpid()}.{next(_serial)}@example.com"


def unique_phone() -> str:
    return f"+65 81{random.randrange(10**6):06d}"  # a valid Singapore mobile number


def _core_call() -> Callable[[], contextlib.AbstractContextManager]:
    """How the console's seam runs each core call: in core.db.core_call where it exists (the
    memo of one call, issue 16), else as it is."""
    from core import db

    return getattr(db, "core_call", contextlib.nullcontext)


class Flows:
    """Seconds spent in each core flow of the lifecycle, by name (the harness's reads of the
    outbox are not in them). Each flow runs a second after the one before (a person takes at
    least that), so a session is touched as in real use, and as the console's seam runs it."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.scope = _core_call()

    def __call__(self, name: str, fn: Callable, *args, **kwargs):
        from core import clock

        clock.advance(timedelta(seconds=1))
        started = time.perf_counter()
        try:
            with self.scope():
                return fn(*args, **kwargs)
        finally:
            self.times.setdefault(name, []).append(time.perf_counter() - started)


def up_to_release(*, card: str = LATER_DECLINED_CARD, flows: Flows | None = None
                  ) -> tuple[str, int]:
    """sign up -> verify (email) -> second channel (SMS) -> address -> card -> buy -> release."""
    from core import clock
    from core.accounts import sign_up
    from core.billing_address import save_billing_address
    from core.payments import save_card
    from core.products import place_order, release_resource
    from core.sessions import require_account
    from core.verify_account import confirm_code, send_code

    f = flows or Flows()
    email, phone = unique_email(), unique_phone()
    token = f("sign up", sign_up, "SG", email, PASSWORD, PASSWORD, True).token
    f("send code (email)", send_code, token, "signup", "email")
    f("confirm code (email)", confirm_code, token, "signup", "email", Harness.code(email))
    f("send code (SMS)", send_code, token, "second_channel", "sms", phone)
    f("confirm code (SMS)", confirm_code, token, "second_channel", "sms", Harness.code(phone),
      phone)
    f("save billing address", save_billing_address, token, **ADDRESS)
    f("save card", save_card, token, card, "12/30", "123", "Alice Tan")
    resource = f("place order", place_order, token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=1))
    f("release resource", release_resource, token, resource.id)
    return token, require_account(token).id


def lifecycle(flows: Flows | None = None) -> None:
    """The whole lifecycle; the first card declines the bill so that paying it is real work."""
    from core import clock
    from core.billing_run import pay_outstanding, run_billing
    from core.deletion import request_deletion
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.step_up import step_up

    f = flows or Flows()
    token, account_id = up_to_release(flows=f)
    clock.advance(timedelta(hours=49))  # usage is billed 48 hours after release
    report = f("billing run (the account)", run_billing, account_id=account_id)
    assert report.events, "the billing run billed nothing"
    f("step up (password)", step_up, token, PASSWORD)  # two days later: prove it is you
    f("save card", save_card, token, GOOD_CARD, "12/30", "123", "Alice Tan")
    good = next(m for m in f("list payment methods", list_payment_methods, token)
                if m.last4 == "4242")
    f("set default method", set_default_method, token, good.id)
    assert f("pay outstanding", pay_outstanding, token).paid, "nothing was paid"
    result = f("delete account", request_deletion, token, PASSWORD, True)
    assert result.status == "deleted", result


@contextlib.contextmanager
def timed_hashing() -> Iterator[list[float]]:
    """Wrap hash_password/verify_password wherever core imported them; yields [seconds]."""
    import core.hashing as hashing

    spent = [0.0, 0.0]  # wall seconds, CPU seconds (all threads: argon2id uses 4)
    originals = {"hash_password": hashing.hash_password,
                 "verify_password": hashing.verify_password}

    def wrap(fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started
                spent[1] += time.process_time() - cpu
        return timed

    wrapped = {name: wrap(fn) for name, fn in originals.items()}
    patched: list[tuple[object, str, Callable]] = []
    for name, module in list(sys.modules.items()):
        if not (name == "core" or name.startswith("core.")) or module is None:
            continue
        for attr, original in originals.items():
            if getattr(module, attr, None) is original:
                setattr(module, attr, wrapped[attr])
                patched.append((module, attr, original))
    try:
        yield spent
    finally:
        for module, attr, original in patched:
            setattr(module, attr, original)


def import_core() -> None:
    import importlib
    import pkgutil

    import core

    for info in pkgutil.walk_packages(core.__path__, "core."):
        with contextlib.suppress(Exception):
            importlib.import_module(info.name)


@dataclass
class Statements:
    """What the database was asked, counted on the bound Database object."""

    queries: int = 0
    commits: int = 0
    session_by_token: int = 0
    account_by_id: int = 0
    unsynced_commits: int = 0
    """Of the commits, those made with synchronous=NORMAL (no fsync; core.db.lightly_durable)."""


@contextlib.contextmanager
def counted_statements() -> Iterator[Statements]:
    from core.db import database

    db = database.obj
    counts = Statements()
    execute_sql, commit = db.execute_sql, db.commit
    light = [False]

    def counting_execute(sql, params=None, *args, **kwargs):
        if sql.startswith("PRAGMA synchronous"):
            light[0] = sql.rstrip().endswith("NORMAL")
            return execute_sql(sql, params, *args, **kwargs)
        counts.queries += 1
        if sql.startswith("SELECT") and 'FROM "session" AS "t1" WHERE ("t1"."token_hash" = ' \
                in sql:
            counts.session_by_token += 1
        if sql.startswith("SELECT") and 'FROM "account" AS "t1" WHERE ("t1"."id" = ' in sql:
            counts.account_by_id += 1
        return execute_sql(sql, params, *args, **kwargs)

    def counting_commit(*args, **kwargs):
        counts.commits += 1
        counts.unsynced_commits += light[0]
        return commit(*args, **kwargs)

    db.execute_sql, db.commit = counting_execute, counting_commit
    try:
        yield counts
    finally:
        del db.execute_sql, db.commit


LAST_CPU_OUTSIDE = [0.0]
"""CPU seconds per lifecycle outside password hashing, of the last run_lifecycles: steadier
than wall time on a machine others share (it leaves out waiting for the CPU and the disk)."""


def run_lifecycles(count: int) -> tuple[float, float, Flows, Statements]:
    """(seconds per lifecycle, hashing share, each flow's times, statements per lifecycle)
    over `count` lifecycles."""
    lifecycle()  # warm-up (first queries, dummy hashes, gateway)
    Harness.spent = 0.0
    flows = Flows()
    with timed_hashing() as hashing, counted_statements() as counts:
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            lifecycle(flows)
        total = time.perf_counter() - started - Harness.spent
        cpu_total = time.process_time() - cpu
    LAST_CPU_OUTSIDE[0] = (cpu_total - hashing[1]) / count
    per = Statements(*(round(v / count) for v in (counts.queries, counts.commits,
                                                  counts.session_by_token,
                                                  counts.account_by_id,
                                                  counts.unsynced_commits)))
    return total / count, hashing[0] / total, flows, per


OUTSIDE_HASHING_BEFORE_MS = 171.0
"""Issue 16's figure for main before this work: a lifecycle's time outside password hashing
with argon2id (171 of 513 ms). The target is half of it."""


def bench_lifecycle(work: Path, quick: bool) -> float:
    import_core()
    fast_n, slow_n = (20, 3) if quick else (200, 10)
    say(f"core lifecycle: {fast_n} with test hashing, {slow_n} with production argon2id")
    with data_home(work / "life-test"):
        per, share_test, _, stmts = run_lifecycles(fast_n)
    with data_home(work / "life-prod", CLOUDACCT_HASH_PROFILE="production"):
        per_prod, share, _, _ = run_lifecycles(slow_n)
    outside_ms = per_prod * (1 - share) * 1000
    cpu_outside_ms = LAST_CPU_OUTSIDE[0] * 1000
    section("core lifecycle in-process, SQLite (sign up ... delete)", [
        Row(f"test hashing: lifecycles/s (n={fast_n})", f"{1 / per:.1f}/s ({ms(per)} each, "
            f"{share_test:.1%} hashing)"),
        Row("  statements per lifecycle: queries / commits (of them not synced)",
            f"{stmts.queries} / {stmts.commits} ({stmts.unsynced_commits})"),
        Row("  reads of the session by token / of the account by id",
            f"{stmts.session_by_token} / {stmts.account_by_id}"),
        Row(f"production argon2id: one lifecycle (n={slow_n})", ms(per_prod)),
        Row(f"  time outside password hashing (vs {OUTSIDE_HASHING_BEFORE_MS:.0f} ms before)",
            f"{outside_ms:.0f} ms ({1 - share:.0%})", outside_ms / OUTSIDE_HASHING_BEFORE_MS,
            0.5, "<= 0.50x"),
        Row("  the same in CPU time (the harness's outbox reads included)",
            f"{cpu_outside_ms:.0f} ms"),
    ])
    return per


# --- scale ---------------------------------------------------------------------------------

# One resource per bulk account, in the states a real database holds and none of them due in
# the measured runs (at START and at START + 49 h), with the paid bill it had:
# (billing_method, period_months, auto_renew, state, created_at, period_end, released_at,
#  billed_until, bill kind or None)
BULK_RESOURCES = (
    # Pay-As-You-Go started today: nothing to bill before the month's end + 48 h
    ("payg", None, 0, "running", "2026-12-01 05:00:00", None, None, "2026-12-01 05:00:00",
     None),
    # Pay-As-You-Go released last month and billed up to its release
    ("payg", None, 0, "released", "2026-10-01 00:00:00", None, "2026-11-10 00:00:00",
     "2026-11-10 00:00:00", "usage"),
    # a 3-month subscription with auto-renewal, paid up front
    ("subscription", 3, 1, "running", "2026-11-15 00:00:00", "2027-02-15 00:00:00", None, None,
     "subscription"),
    # a subscription that expired
    ("subscription", 1, 0, "expired", "2026-08-01 00:00:00", "2026-09-01 00:00:00",
     "2026-09-01 00:00:00", None, "subscription"),
)


def bulk_load(db_path: Path, count: int, password_hash: str, label: str) -> None:
    """`count` active accounts straight into the account table, each with one resource (of
    BULK_RESOURCES, in turn) and its paid bill, in big transactions."""
    from core.db import close_database

    close_database()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    assert conn.execute("SELECT COUNT(*) FROM account").fetchone()[0] == 0
    created = START.strftime("%Y-%m-%d %H:%M:%S")
    batch = 100_000
    started = time.perf_counter()
    sql = ("INSERT INTO account (id, email, email_key, country, password_hash, status, "
           "verified_channel, email_verified_at, created_at) VALUES (?, ?, ?, 'SG', ?, 'active', "
           "'email', ?, ?)")
    resource_sql = ("INSERT INTO resource (id, account_id, product, region, billing_method, "
                    "period_months, auto_renew, state, hourly_cents, monthly_cents, created_at, "
                    "period_end, released_at, billed_until) VALUES "
                    "(?, ?, 'ecs', 'us-west-1', ?, ?, ?, ?, 10, 5000, ?, ?, ?, ?)")
    bill_sql = ("INSERT INTO bill (account_id, resource_id, kind, description, amount_cents, "
                "period_start, period_end, issued_at, status, paid_at) VALUES "
                "(?, ?, ?, 'bulk', 5000, ?, ?, ?, 'paid', ?)")
    for first in range(1, count + 1, batch):
        ids = range(first, min(count, first + batch - 1) + 1)
        rows = [(i, f"user{i - 1}@bulk.example", f"user{i - 1}@bulk.example", password_hash,
                 created, created) for i in ids]
        resources, bills = [], []
        for i in ids:
            method, months, renew, state, made, end, released, billed, kind = \
                BULK_RESOURCES[i % len(BULK_RESOURCES)]
            resources.append((i, i, method, months, renew, state, made, end, released, billed))
            if kind:
                until = end or released
                bills.append((i, i, kind, made, until, until if kind == "usage" else made,
                              until if kind == "usage" else made))
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.executemany(resource_sql, resources)
        conn.executemany(bill_sql, bills)
        conn.execute("COMMIT")
        done = ids[-1]
        rate = done / (time.perf_counter() - started)
        print(f"\r  {label}: loaded {done:,}/{count:,} accounts with a resource each "
              f"({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(file=sys.stderr)


def db_bytes(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))


def build_scale_home(work: Path, label: str, count: int) -> tuple[Path, float]:
    """A data directory with `count` bulk accounts; (its path, database bytes per account)."""
    from core.config import settings
    from core.db import init_database
    from core.hashing import hash_password

    home = work / f"scale-{label}"
    with data_home(home):
        cfg = settings()
        db_path = Path(cfg.database_url.split(":///", 1)[1])
        bulk_load(db_path, count, hash_password(PASSWORD), label)
        init_database(cfg.database_url)
        size = db_bytes(db_path)
    return home, size / count


def scale_round(home: Path, count: int, rng: random.Random, logons: int, lifecycles: int,
                times: dict[str, list[float]]) -> None:
    """One round at one size: log-ons of bulk accounts, billing runs with nothing due, and
    whole lifecycles (each of their flows timed)."""
    from core.accounts import log_on
    from core.billing_run import run_billing

    with data_home(home):
        for _ in range(logons):
            email = f"user{rng.randrange(count)}@bulk.example"
            started = time.perf_counter()
            log_on(email, PASSWORD)
            times.setdefault("log on (bulk account)", []).append(time.perf_counter() - started)
        for _ in range(BILLING_RUNS_PER_ROUND):
            started = time.perf_counter()
            run_billing()
            times.setdefault("billing run, nothing due", []).append(
                time.perf_counter() - started)
        flows = Flows()
        for _ in range(lifecycles):
            lifecycle(flows)
        for name, values in flows.times.items():
            times.setdefault(name, []).extend(values)


SCALE_TARGET = 1.2
BILLING_RUNS_PER_ROUND = 25
"""A billing run with nothing due is ~1 ms (seven indexed reads and the SQL Peewee builds for
them, the same at both sizes): with 5 a round its median swung by 1.2-1.6x between runs."""


def bench_scale(work: Path, large: int, quick: bool) -> None:
    small = 1_000
    rounds, logons, lifecycles = (3, 30, 5) if quick else (5, 80, 12)
    say(f"scale: {small:,} vs {large:,} accounts, {rounds} interleaved rounds of {logons} "
        f"log-ons and {lifecycles} lifecycles at each size")
    small_home, small_bytes = build_scale_home(work, "small", small)
    large_home, large_bytes = build_scale_home(work, "large", large)
    with data_home(small_home):
        lifecycle()  # warm-up: first queries, the gateway, the dummy hash
    times: dict[str, dict[str, list[float]]] = {"small": {}, "large": {}}
    rngs = {"small": random.Random(8), "large": random.Random(8)}
    for number in range(rounds):
        say(f"  round {number + 1}/{rounds}")
        order = (("small", small_home, small), ("large", large_home, large))
        for label, home, count in order if number % 2 == 0 else order[::-1]:
            scale_round(home, count, rngs[label], logons, lifecycles, times[label])
    rows = []
    for name, values in times["small"].items():
        x, y = median(values), median(times["large"].get(name, []))
        rows.append(Row(name, f"{ms(x)} -> {ms(y)}", y / x, SCALE_TARGET,
                        f"<= {SCALE_TARGET}x"))
    rows.append(Row("database bytes per account (one resource and bill each)",
                    f"{large_bytes:,.0f} B at {large:,} ({small_bytes:,.0f} B at {small:,})"))
    section(f"scale: {small:,} -> {large:,} accounts (SQLite, test hashing, medians of "
            f"{rounds} interleaved rounds)", rows)
    shutil.rmtree(small_home, ignore_errors=True)
    shutil.rmtree(large_home, ignore_errors=True)


# --- SSH -----------------------------------------------------------------------------------

def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                found.append(int(entry.name))
    return found


@dataclass
class SshSession:
    seconds: float
    echo: list[float]


async def ssh_session(port: int, ready: asyncio.Event | None = None,
                      hold: asyncio.Event | None = None,
                      echo_when: asyncio.Event | None = None,
                      echo_done: asyncio.Event | None = None) -> SshSession:
    """Connect, ask for a PTY, and time until the Welcome screen shows (found in the raw
    bytes, no emulator: the client's CPU stays out of the figure); with `echo_when`, once it is
    set, open the log-on screen and time each of ECHO_KEYS to its echo; then (with `hold`)
    keep the session open until `hold` is set."""
    import asyncssh

    started = time.perf_counter()
    conn = await asyncssh.connect("127.0.0.1", port, username="bench", known_hosts=None,
                                  client_keys=[], password="", agent_path=None,
                                  preferred_auth="publickey,keyboard-interactive")
    screen = RawScreen()
    try:
        process = await conn.create_process(None, term_type="xterm-256color",
                                            term_size=(COLS, ROWS), encoding=None)

        async def wait_for(text: str, since: float) -> float:
            while not screen.seen(text):
                data = await asyncio.wait_for(process.stdout.read(65536), 120)
                if not data:
                    raise RuntimeError(f"the SSH session closed before {text!r}")
                screen.feed(data)
            return time.perf_counter() - since

        elapsed = await wait_for(WELCOME_TEXT, started)
        if ready is not None:
            ready.set()
        echoes: list[float] = []
        if echo_when is not None:
            await echo_when.wait()
            process.stdin.write(b"l")
            await wait_for(LOG_ON_TEXT, time.perf_counter())
            await _drain_for(process, 0.5)
            for key in ECHO_KEYS:
                screen.clear()
                pressed = time.perf_counter()
                process.stdin.write(key.encode())
                echoes.append(await wait_for(key, pressed))
                await _drain_for(process, 0.05)
            if echo_done is not None:
                echo_done.set()
        if hold is not None:
            reader = asyncio.create_task(_drain(process))
            await hold.wait()
            reader.cancel()
        return SshSession(elapsed, echoes)
    finally:
        conn.close()
        with contextlib.suppress(Exception):
            await conn.wait_closed()


async def _drain(process) -> None:
    with contextlib.suppress(Exception):
        while await process.stdout.read(65536):
            pass


async def _drain_for(process, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(_drain(process), seconds)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@dataclass
class Consoles:
    """Every console process under the server (spawned ones, or the zygote's children), and
    the zygote (0 when sessions were spawned). PSS splits each shared page among the processes
    mapping it, so consoles + zygote add up to what the sessions really cost, counted once."""

    pids: list[int]
    zygote: int = 0


def find_consoles(server_pid: int) -> Consoles:
    found = Consoles([])
    for pid in children_of(server_pid):
        cmdline = _cmdline(pid)
        if b"tui.ssh.session" in cmdline:
            found.pids.append(pid)
        elif b"tui.ssh.zygote" in cmdline:
            found.zygote = pid
            found.pids += children_of(pid)
    return found


@dataclass
class Crowd:
    """One crowd of sessions opened at once."""

    times: list[float]
    echo: list[float]
    cpu: list[float]
    """Each console's CPU seconds once every session showed its Welcome screen."""
    client_cpu: float
    """The benchmark's own CPU seconds (SSH clients) for the whole crowd."""
    server_cpu: float
    """The server's CPU seconds (SSH, bridging; the zygote's forks apart) for the crowd."""
    pss: list[int]
    private: list[int]
    zygote_pss: int
    spares: int = 0
    """Spare consoles (tui/ssh/spare.py) waiting when the crowd came."""

    def pss_per_session(self) -> float:
        return (sum(self.pss) + self.zygote_pss) / len(self.pss) if self.pss else float("nan")


async def open_sessions(port: int, server_pid: int, count: int, *, echo: bool = False
                        ) -> Crowd:
    """`count` sessions at once: each one's time to the Welcome screen; the CPU of every
    console process once all of them show it, their memory a moment later; with `echo`, the
    echo of keys in one session while all `count` are open."""
    spares = spares_waiting(server_pid)
    hold, echo_when, echo_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    readies = [asyncio.Event() for _ in range(count)]
    client_started = time.process_time()
    server_started = _cpu_or_zero(server_pid)
    tasks = [asyncio.create_task(ssh_session(port, ready, hold,
                                             echo_when if echo and i == 0 else None,
                                             echo_done))
             for i, ready in enumerate(readies)]
    waiting = asyncio.gather(*(ready.wait() for ready in readies))
    done, _ = await asyncio.wait([waiting, *tasks], timeout=300,
                                 return_when=asyncio.FIRST_COMPLETED)
    if waiting not in done:
        hold.set()
        echo_when.set()
        await asyncio.gather(*tasks)  # raises what went wrong
    client_cpu = time.process_time() - client_started
    server_cpu = _cpu_or_zero(server_pid) - server_started
    consoles = find_consoles(server_pid)
    cpu = []
    for pid in consoles.pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            cpu.append(cpu_seconds(pid))
    await asyncio.sleep(1.0)
    pss, private = [], []
    for pid in consoles.pids:
        with contextlib.suppress(OSError):
            values = memory_kib(pid)
            pss.append(values["Pss"])
            private.append(values["Private"])
    zygote = 0
    if consoles.zygote:
        with contextlib.suppress(OSError):
            zygote = memory_kib(consoles.zygote)["Pss"]
    echo_when.set()
    if echo:
        await asyncio.wait([asyncio.ensure_future(echo_done.wait()), tasks[0]], timeout=120,
                           return_when=asyncio.FIRST_COMPLETED)
    hold.set()
    results = await asyncio.gather(*tasks)
    await asyncio.sleep(0.5)  # let the server reap the console processes
    return Crowd([r.seconds for r in results], results[0].echo if echo else [], cpu,
                 client_cpu, server_cpu, pss, private, zygote, spares)


def spare_target() -> int:
    """How many spare consoles serve-ssh keeps by default (0 before it had any)."""
    try:
        from tui.cli import DEFAULT_SPARES
    except ImportError:
        return 0
    return DEFAULT_SPARES


def wait_for_rest(server_pids: list[int], timeout: float = 20.0) -> None:
    """Until every server has its spare consoles and the machine is quiet (a quarter of a
    second under 25% busy): a crowd comes to servers at rest, as a burst after a quiet moment
    does, not to one still building spares for the crowd before (the table says how many were
    waiting)."""
    target = spare_target()
    deadline = time.monotonic() + timeout

    def machine() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        total = sum(fields[:8])
        return total - fields[3] - fields[4], total

    while time.monotonic() < deadline:
        before = machine()
        time.sleep(0.25)
        after = machine()
        quiet = (after[0] - before[0]) <= 0.25 * max(1, after[1] - before[1])
        if quiet and all(spares_waiting(pid) >= target for pid in server_pids):
            return


def spares_waiting(server_pid: int) -> int:
    """The zygote's children still named as spares (built, or being built)."""
    zygote = find_consoles(server_pid).zygote
    count = 0
    for pid in children_of(zygote) if zygote else []:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().strip() == "cloudacct-spare":
                count += 1
    return count


def _cpu_or_zero(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return 0.0


def started_at_once(argv: list[str], env: dict[str, str], count: int) -> list[float]:
    """`count` processes started together, each on its own PTY: each one's time to Welcome."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lambda _: time_to_welcome(argv, env, timeout=300,
                                                          memory=False), range(count)))
    return [r.seconds for r in results]


@contextlib.contextmanager
def ssh_server(env: dict[str, str], *extra: str) -> Iterator[tuple[int, int]]:
    """`serve-ssh` on a free port with limits that let the crowds in: (port, pid)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve-ssh", "--port", "0", "--per-minute", "10000",
         "--per-address", "128", "--max-sessions", "128", *extra], cwd=REPO, env=env,
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        port = None
        deadline = time.monotonic() + 60
        assert server.stderr is not None
        while time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            match = re.search(r" port (\d+)", line)
            if match:
                port = int(match.group(1))
                break
        if port is None:
            raise RuntimeError("serve-ssh did not say which port it listens on")
        # keep draining the server's log so it never blocks on a full pipe
        import threading

        threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
        asyncio.run(ssh_session(port))  # warm-up (and waits until the zygote is ready)
        yield port, server.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def has_start_queue() -> bool:
    """Does this serve-ssh take --start-at-once (the admission queue)? (Not before issue 16.)"""
    return "start-at-once" in Path(REPO / "tui" / "cli.py").read_text()


def bench_ssh(work: Path, cold: ColdStart, quick: bool) -> None:
    rounds = 2 if quick else 3
    alone_runs = 3
    home = work / "ssh-home"
    env = terminal_env(home)
    queue = has_start_queue()
    servers = {"queued": ("--start-at-once", str(len(os.sched_getaffinity(0)))),
               "all at once": ("--start-at-once", "0")} if queue else {"all at once": ()}
    say(f"SSH: {rounds} rounds, each: a local cold start, then per server "
        f"({', '.join(servers)}) 20 and 50 at once; echo with 20 open")
    locals_: list[float] = [cold.cloudacct]
    local_echo_times: list[float] = []
    alone: dict[str, list[float]] = {}
    crowds: dict[tuple[str, int], list[Crowd]] = {}
    with contextlib.ExitStack() as stack:
        ports = {name: stack.enter_context(ssh_server(env, *args))
                 for name, args in servers.items()}
        for name, (port, pid) in ports.items():
            for _ in range(alone_runs):
                alone.setdefault(name, []).append(
                    asyncio.run(open_sessions(port, pid, 1)).times[0])
        for number in range(rounds):
            say(f"  round {number + 1}/{rounds}")
            locals_.append(time_to_welcome(CLOUDACCT_ARGV, env, memory=False).seconds)
            local_echo_times += local_echo(CLOUDACCT_ARGV, env)
            names = list(ports) if number % 2 == 0 else list(ports)[::-1]
            for count in (20, 50):
                for name in names:
                    port, pid = ports[name]
                    wait_for_rest([p for _, p in ports.values()])
                    crowd = asyncio.run(open_sessions(port, pid, count, echo=count == 20))
                    crowds.setdefault((name, count), []).append(crowd)
            locals_.append(time_to_welcome(CLOUDACCT_ARGV, env, memory=False).seconds)
    local = median(locals_)
    rows = [Row(f"local cold start, cloudacct (median of {len(locals_)}, the reference)",
                ms(local))]
    for name in servers:
        one = median(alone[name])
        rows.append(Row(f"{name}: connect -> Welcome, alone (median of {alone_runs})",
                        ms(one), one / local, None, "(info)"))
        for count in (20, 50):
            runs = crowds[(name, count)]
            mid = median([median(c.times) for c in runs])
            worst = median([max(c.times) for c in runs])
            cpu = median([median(c.cpu) for c in runs if c.cpu])
            client = median([c.client_cpu / count for c in runs])
            server = median([c.server_cpu / count for c in runs])
            if count == 20:
                rows += [Row(f"{name}: {count} at once, median first screen", ms(mid),
                             mid / local, 0.75, "<= 0.75x"),
                         Row(f"{name}: {count} at once, slowest", ms(worst), worst / local,
                             1.0, "<= 1.0x")]
            else:
                rows += [Row(f"{name}: {count} at once, median first screen", ms(mid),
                             mid / local, 1.5, "<= 1.5x"),
                         Row(f"{name}: {count} at once, slowest", ms(worst), worst / local,
                             None, "(info)")]
            rows += [Row(f"  spare consoles waiting when the {count} came (each round)",
                         " / ".join(str(c.spares) for c in runs)),
                     Row(f"  console CPU per session to the first screen ({count} at once)",
                         ms(cpu), cpu / cold.cloudacct_cpu, None, "(vs local)"),
                     Row(f"  the server's CPU per session ({count} at once)", ms(server)),
                     Row(f"  the bench's SSH client CPU per session ({count}, not in the "
                         "figure's CPU)", ms(client))]
    first = crowds[(next(iter(servers)), 20)]
    private = median([median(c.private) for c in first if c.private])
    pss = median([c.pss_per_session() for c in first if c.pss])
    zygote = max(c.zygote_pss for c in first)
    echo_ssh = median([t for c in first for t in c.echo])
    echo_local = median(local_echo_times)
    rows += [
        Row("memory: private per extra session (20 open, median console)", mib(private),
            private / 1024 / 10, 1.0, "<= 10 MiB"),
        Row("memory: PSS per session, 20 open (consoles + zygote) / 20", mib(pss),
            pss / cold.baseline_pss, 0.5, "<= 0.50x"),
        Row("  the zygote's PSS (shared out above)", mib(zygote)),
        Row(f"keystroke echo over SSH, 20 open (median of {len(ECHO_KEYS) * rounds})",
            ms(echo_ssh), echo_ssh / echo_local, 1.2, "<= 1.2x"),
        Row("  keystroke echo, local", ms(echo_local)),
    ]
    if not quick:
        say("  reference: 20 bare apps, then 20 local cloudacct consoles, at once")
        bare_crowd = started_at_once(BASELINE_ARGV, env, 20)
        local_crowd = started_at_once(CLOUDACCT_ARGV, env, 20)
        rows += [Row("  reference: 20 bare apps at once on local PTYs, median",
                     ms(median(bare_crowd)), median(bare_crowd) / cold.baseline, None,
                     "(info)"),
                 Row("  reference: 20 local cloudacct at once, median",
                     ms(median(local_crowd)), median(local_crowd) / local, None, "(info)")]
    section(f"SSH (asyncssh clients, raw-byte detection; medians of {rounds} interleaved "
            "rounds; ratios vs a local cold start / bare app PSS)", rows)


# --- PostgreSQL ----------------------------------------------------------------------------

def bench_pg(work: Path, sqlite_per: float, quick: bool) -> None:
    url = os.environ.get("CLOUDACCT_BENCH_PG_URL", "").strip()
    if not url:
        section("PostgreSQL vs SQLite", [Row("core lifecycle",
                                             "skipped: set CLOUDACCT_BENCH_PG_URL")])
        return
    count = 20 if quick else 200
    say(f"PostgreSQL: {count} lifecycles with test hashing")
    try:
        with data_home(work / "life-pg", CLOUDACCT_DATABASE_URL=url):
            per, _, _, _ = run_lifecycles(count)
    except Exception as exc:  # noqa: BLE001 (reported in the table)
        section("PostgreSQL vs SQLite", [Row("core lifecycle", f"failed: {exc!r}"[:100])])
        return
    section("PostgreSQL vs SQLite (core lifecycle, test hashing)", [
        Row(f"PostgreSQL lifecycles/s (n={count})", f"{1 / per:.1f}/s ({ms(per)} each)",
            per / sqlite_per, None, "(PG/SQLite time)"),
    ])


# --- main ----------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs, and 100 000 accounts for the scale part")
    parser.add_argument("--accounts-large", type=int, default=None, metavar="N",
                        help="accounts in the large database (1 000 000; --quick: 100 000)")
    parser.add_argument("--skip-ssh", action="store_true", help="leave out the SSH figures")
    parser.add_argument("--skip-pg", action="store_true", help="leave out PostgreSQL")
    parser.add_argument("--skip-scale", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=("ssh", "scale", "cold", "lifecycle"), default=None,
                        help="only the SSH figures (and the cold start they are compared to), "
                             "or only the scale part")
    args = parser.parse_args()
    large = args.accounts_large or (100_000 if args.quick else 1_000_000)
    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="cloudacct-bench-"))
    try:
        if args.only == "scale":
            bench_scale(work, large, args.quick)
        elif args.only == "cold":
            bench_cold_start(5 if args.quick else 15, work)
        elif args.only == "lifecycle":
            bench_lifecycle(work, args.quick)
        elif args.only == "ssh":
            bench_ssh(work, bench_cold_start(5 if args.quick else 15, work), args.quick)
        else:
            cold = bench_cold_start(5 if args.quick else 15, work)
            sqlite_per = bench_lifecycle(work, args.quick)
            if not args.skip_scale:
                bench_scale(work, large, args.quick)
            if not args.skip_ssh:
                bench_ssh(work, cold, args.quick)
            if not args.skip_pg:
                bench_pg(work, sqlite_per, args.quick)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("cloudacct benchmark" + (" (--quick)" if args.quick else ""))
    for line in machine():
        print(line)
    print()
    print_table()
    print(f"\n(run took {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
