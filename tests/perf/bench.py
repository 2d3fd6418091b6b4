"""cloudacct benchmark (issue 8): every figure as a ratio measured in this same run.

    python tests/perf/bench.py                 # full run (1 000 000 accounts for the scale part)
    python tests/perf/bench.py --quick         # a few minutes: fewer runs, 100 000 accounts
    python tests/perf/bench.py --skip-ssh --skip-pg --accounts-large 200000
    python tests/perf/bench.py --quick --only ssh   # the SSH figures and the cold start alone
    python tests/perf/bench.py --quick --only scale # log-on, sign-up and billing runs at scale

Not part of the test suite (pyproject's addopts ignore tests/perf). Everything runs in
temporary data directories; nothing outside them is touched. PostgreSQL is measured only when
CLOUDACCT_BENCH_PG_URL names a database the benchmark may fill and empty.

Figures (target in brackets):
- cold start: process start -> Welcome screen shown ("Free Account" on a pyte screen fed from a
  real PTY), cloudacct vs a bare Textual app with the same widgets [<= 1.25x]
- core lifecycle sign up -> verify -> address -> card -> buy -> release -> bill -> pay -> delete,
  in-process: lifecycles/s with test hashing; with production argon2id, the share of the
  lifecycle's time spent outside hash_password/verify_password [<= 10%]
- scale: log-on, sign-up and a billing run at 1 000 and at N accounts (each with a resource and
  a paid bill, none of them due) [<= 1.5x]; bytes/account
- SSH: connect -> first screen, alone and 20 at once, vs local cold start [<= 1.5x]; PSS of a
  session's console process vs a bare Textual app's process [<= 1.5x]
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

WELCOME_TEXT = "Free Account"
COLS, ROWS = 100, 32
START = datetime(2026, 12, 1, 10, 0, 0)
PASSWORD = "correct horse battery staple 9"
GOOD_CARD = "4242 4242 4242 4242"
LATER_DECLINED_CARD = "4000 0000 0000 0341"  # saves fine, every later charge is declined
ADDRESS = dict(account_type="individual", full_name="Alice Tan", country="SG", region="SG-01",
               city="Singapore", street="1 Raffles Place", street_2="#20-01",
               postal_code="048616")


# --- the baseline: a bare Textual app with the Welcome screen's widgets ----------------------

def run_baseline_app() -> None:
    """A Screen with the same Static/Button/Footer widgets as tui/screens/welcome.py."""
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.containers import Center, Horizontal, Vertical
    from textual.screen import Screen
    from textual.widgets import Button, Footer, Static

    class BareWelcome(Screen):
        BINDINGS = [Binding("l", "noop", "Log on"), Binding("f", "noop", "Free account")]

        def compose(self) -> ComposeResult:
            yield Static("Alibaba Cloud", id="bar")
            with Center(), Vertical():
                yield Static("Alibaba Cloud", id="brand")
                yield Static("Your Alibaba Cloud account console: sign up, verify, add billing "
                             "and payment details, buy products and manage your account.")
                yield Static("", id="welcome-message")
                with Horizontal():
                    yield Button("Log on", id="log-on", variant="primary", compact=True)
                    yield Button("Free Account", id="free-account", variant="success",
                                 compact=True)
                yield Static("New here? Choose Free Account to sign up.")
            yield Footer()

        def action_noop(self) -> None:
            pass

    class BareApp(App[None]):
        ENABLE_COMMAND_PALETTE = False

        def on_mount(self) -> None:
            self.push_screen(BareWelcome())

    BareApp().run()


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
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Pss:", "Rss:"):
            values[parts[0]] = int(parts[1])
    return values.get("Pss:", 0), values.get("Rss:", 0)


def _controlling_terminal() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def time_to_welcome(argv: list[str], env: dict[str, str],
                    timeout: float = 60.0) -> tuple[float, int, int]:
    """Start `argv` on a fresh PTY; seconds until WELCOME_TEXT is on the emulated screen, and
    the process's (Pss, Rss) KiB once it is."""
    import pyte

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    screen = pyte.Screen(COLS, ROWS)
    stream = pyte.ByteStream(screen)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
                            start_new_session=True, preexec_fn=_controlling_terminal)
    os.close(slave)
    elapsed = None
    try:
        deadline = started + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            stream.feed(data)
            if WELCOME_TEXT in "\n".join(screen.display):
                elapsed = time.perf_counter() - started
                break
        if elapsed is None:
            raise RuntimeError(f"{argv} showed no {WELCOME_TEXT!r} within {timeout}s:\n"
                               + "\n".join(screen.display))
        pss, rss = 0, 0
        with contextlib.suppress(OSError):
            time.sleep(0.3)  # let it settle before measuring memory
            pss, rss = pss_kib(proc.pid)
        return elapsed, pss, rss
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        os.close(master)


def terminal_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDACCT_", "TEXTUAL"))}
    env.update(CLOUDACCT_HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor",
               LANG=env.get("LANG", "C.UTF-8") or "C.UTF-8", PYTHONPATH=str(REPO))
    return env


CLOUDACCT_ARGV = [sys.executable, "-m", "tui.cli"]
BASELINE_ARGV = [sys.executable, str(Path(__file__).resolve()), "--baseline-app"]


@dataclass
class ColdStart:
    cloudacct: float
    baseline: float
    baseline_pss: float
    baseline_rss: float
    cloudacct_pss: float


def bench_cold_start(runs: int, work: Path) -> ColdStart:
    say(f"cold start: {runs} runs each (after one warm-up), alternating")
    home = work / "cold-home"
    env = terminal_env(home)
    time_to_welcome(CLOUDACCT_ARGV, env)  # warm-up: creates the database, fills caches
    time_to_welcome(BASELINE_ARGV, env)
    ours, bare, bare_pss, bare_rss, our_pss = [], [], [], [], []
    for _ in range(runs):
        t, pss, _rss = time_to_welcome(CLOUDACCT_ARGV, env)
        ours.append(t)
        our_pss.append(pss)
        t, pss, rss = time_to_welcome(BASELINE_ARGV, env)
        bare.append(t)
        bare_pss.append(pss)
        bare_rss.append(rss)
    result = ColdStart(median(ours), median(bare), median(bare_pss), median(bare_rss),
                       median(our_pss))

    def spread(values: list[float]) -> str:
        return f"{ms(median(values))} ({ms(min(values))}-{ms(max(values))})"

    section(f"cold start (process start -> Welcome screen, median of {runs})", [
        Row("bare Textual app, same widgets (min-max)", spread(bare)),
        Row("cloudacct (min-max)", spread(ours), result.cloudacct / result.baseline, 1.25,
            "<= 1.25x"),
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


def up_to_release(*, card: str = LATER_DECLINED_CARD) -> tuple[str, int]:
    """sign up -> verify (email) -> second channel (SMS) -> address -> card -> buy -> release."""
    from core import clock
    from core.accounts import sign_up
    from core.billing_address import save_billing_address
    from core.payments import save_card
    from core.products import place_order, release_resource
    from core.sessions import require_account
    from core.verify_account import confirm_code, send_code

    email, phone = unique_email(), unique_phone()
    token = sign_up("SG", email, PASSWORD, PASSWORD, True).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", Harness.code(email))
    send_code(token, "second_channel", "sms", phone)
    confirm_code(token, "second_channel", "sms", Harness.code(phone), phone)
    save_billing_address(token, **ADDRESS)
    save_card(token, card, "12/30", "123", "Alice Tan")
    resource = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=1))
    release_resource(token, resource.id)
    return token, require_account(token).id


def lifecycle() -> None:
    """The whole lifecycle; the first card declines the bill so that paying it is real work."""
    from core import clock
    from core.billing_run import pay_outstanding, run_billing
    from core.deletion import request_deletion
    from core.payments import list_payment_methods, save_card, set_default_method

    token, account_id = up_to_release()
    clock.advance(timedelta(hours=49))  # usage is billed 48 hours after release
    report = run_billing(account_id=account_id)
    assert report.events, "the billing run billed nothing"
    save_card(token, GOOD_CARD, "12/30", "123", "Alice Tan")
    good = next(m for m in list_payment_methods(token) if m.last4 == "4242")
    set_default_method(token, good.id)
    assert pay_outstanding(token).paid, "nothing was paid"
    result = request_deletion(token, PASSWORD, True)
    assert result.status == "deleted", result


@contextlib.contextmanager
def timed_hashing() -> Iterator[list[float]]:
    """Wrap hash_password/verify_password wherever core imported them; yields [seconds]."""
    import core.hashing as hashing

    spent = [0.0]
    originals = {"hash_password": hashing.hash_password,
                 "verify_password": hashing.verify_password}

    def wrap(fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started
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


def run_lifecycles(count: int) -> tuple[float, float, float]:
    """(seconds per lifecycle, hashing share, harness seconds) over `count` lifecycles."""
    lifecycle()  # warm-up (first queries, dummy hashes, gateway)
    Harness.spent = 0.0
    with timed_hashing() as hashing:
        started = time.perf_counter()
        for _ in range(count):
            lifecycle()
        total = time.perf_counter() - started - Harness.spent
    return total / count, hashing[0] / total, Harness.spent


def bench_lifecycle(work: Path, quick: bool) -> float:
    import_core()
    fast_n, slow_n = (20, 3) if quick else (200, 10)
    say(f"core lifecycle: {fast_n} with test hashing, {slow_n} with production argon2id")
    with data_home(work / "life-test"):
        per, share_test, _ = run_lifecycles(fast_n)
    with data_home(work / "life-prod", CLOUDACCT_HASH_PROFILE="production"):
        per_prod, share, _ = run_lifecycles(slow_n)
    outside = 1 - share
    section("core lifecycle in-process, SQLite (sign up ... delete)", [
        Row(f"test hashing: lifecycles/s (n={fast_n})", f"{1 / per:.1f}/s ({ms(per)} each, "
            f"{share_test:.1%} hashing)"),
        Row(f"production argon2id: one lifecycle (n={slow_n})", ms(per_prod)),
        Row("  time outside password hashing", ms(per_prod * outside), outside, 0.10,
            "<= 10%"),
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


@dataclass
class Scale:
    log_on: float
    sign_up: float
    billing_empty: float
    billing_due: float
    bytes_per_account: float


def measure_scale(work: Path, label: str, count: int, ops: int) -> Scale:
    from core import clock
    from core.accounts import log_on, sign_up
    from core.billing_run import run_billing
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
        rng = random.Random(8)
        times: list[float] = []
        for _ in range(ops):
            email = f"user{rng.randrange(count)}@bulk.example"
            started = time.perf_counter()
            log_on(email, PASSWORD)
            times.append(time.perf_counter() - started)
        logon = median(times)
        times = []
        for _ in range(ops):
            email = unique_email()
            started = time.perf_counter()
            sign_up("SG", email, PASSWORD, PASSWORD, True)
            times.append(time.perf_counter() - started)
        signup = median(times)
        times = []
        for _ in range(max(25, ops // 8)):  # a few ms each: many, so the median holds still
            started = time.perf_counter()
            run_billing()
            times.append(time.perf_counter() - started)
        empty = median(times)
        due_accounts = 10
        times = []
        for _ in range(3 if ops <= 100 else 5):  # rounds: 10 new usages due in each
            for _ in range(due_accounts):
                up_to_release()
            clock.advance(timedelta(hours=49))
            started = time.perf_counter()
            report = run_billing()
            times.append(time.perf_counter() - started)
            assert report.bills_issued == due_accounts, report.events
        due = median(times)
    shutil.rmtree(home, ignore_errors=True)
    return Scale(logon, signup, empty, due, size / count)


def bench_scale(work: Path, large: int, quick: bool) -> None:
    small = 1_000
    ops = 100 if quick else 400
    say(f"scale: {small:,} vs {large:,} accounts, {ops} log-ons and sign-ups each")
    a = measure_scale(work, "small", small, ops)
    b = measure_scale(work, "large", large, ops)

    def pair(name: str, x: float, y: float) -> Row:
        return Row(name, f"{ms(x)} -> {ms(y)}", y / x, 1.5, "<= 1.5x")

    section(f"scale: {small:,} -> {large:,} accounts (SQLite, test hashing, median)", [
        pair("log-on (lookup + verify + session)", a.log_on, b.log_on),
        pair("sign-up", a.sign_up, b.sign_up),
        pair("billing run, nothing due", a.billing_empty, b.billing_empty),
        pair("billing run, 10 usages due", a.billing_due, b.billing_due),
        Row("database bytes per account (one resource and bill each)",
            f"{b.bytes_per_account:,.0f} B at {large:,} "
            f"({a.bytes_per_account:,.0f} B at {small:,})"),
    ])


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


async def ssh_session_time(port: int, ready: asyncio.Event | None = None,
                           hold: asyncio.Event | None = None) -> float:
    """Connect, ask for a PTY, and time until the Welcome screen shows; then (with `hold`)
    keep the session open until `hold` is set."""
    import asyncssh
    import pyte

    started = time.perf_counter()
    conn = await asyncssh.connect("127.0.0.1", port, username="bench", known_hosts=None,
                                  client_keys=[], password="", agent_path=None,
                                  preferred_auth="publickey,keyboard-interactive")
    try:
        process = await conn.create_process(None, term_type="xterm-256color",
                                            term_size=(COLS, ROWS), encoding=None)
        screen = pyte.Screen(COLS, ROWS)
        stream = pyte.ByteStream(screen)
        while True:
            data = await asyncio.wait_for(process.stdout.read(65536), 120)
            if not data:
                raise RuntimeError("the SSH session closed before the Welcome screen")
            stream.feed(data)
            if WELCOME_TEXT in "\n".join(screen.display):
                elapsed = time.perf_counter() - started
                break
        if ready is not None:
            ready.set()
        if hold is not None:
            reader = asyncio.create_task(_drain(process))
            await hold.wait()
            reader.cancel()
        return elapsed
    finally:
        conn.close()
        with contextlib.suppress(Exception):
            await conn.wait_closed()


async def _drain(process) -> None:
    with contextlib.suppress(Exception):
        while await process.stdout.read(65536):
            pass


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@dataclass
class SessionMemory:
    """PSS (KiB) of every console process, and of the zygote they were forked from (0 when
    sessions were spawned). PSS splits each shared page among the processes mapping it, so
    consoles + zygote add up to what the sessions really cost, counted once."""

    consoles: list[int]
    zygote: int = 0

    def per_session(self) -> float:
        """(consoles + zygote) / sessions: the zygote's whole cost shared out."""
        if not self.consoles:
            return float("nan")
        return (sum(self.consoles) + self.zygote) / len(self.consoles)


def session_pss(server_pid: int) -> SessionMemory:
    """PSS of the console processes under the server: spawned ones (its children running
    `tui.ssh.session`) and forked ones (children of its zygote, `tui.ssh.zygote`)."""
    memory = SessionMemory([])
    for pid in children_of(server_pid):
        with contextlib.suppress(OSError):
            cmdline = _cmdline(pid)
            if b"tui.ssh.session" in cmdline:
                memory.consoles.append(pss_kib(pid)[0])
            elif b"tui.ssh.zygote" in cmdline:
                memory.zygote += pss_kib(pid)[0]
                for child in children_of(pid):
                    with contextlib.suppress(OSError):
                        memory.consoles.append(pss_kib(child)[0])
    return memory


async def open_sessions(port: int, server_pid: int,
                        count: int) -> tuple[list[float], SessionMemory]:
    """`count` sessions at once: each one's time to the Welcome screen, and the PSS of every
    console process once all of them show it (and have settled for a moment)."""
    hold = asyncio.Event()
    readies = [asyncio.Event() for _ in range(count)]
    tasks = [asyncio.create_task(ssh_session_time(port, ready, hold)) for ready in readies]
    waiting = asyncio.gather(*(ready.wait() for ready in readies))
    done, _ = await asyncio.wait([waiting, *tasks], timeout=300,
                                 return_when=asyncio.FIRST_COMPLETED)
    if waiting not in done:
        hold.set()
        await asyncio.gather(*tasks)  # raises what went wrong
    await asyncio.sleep(1.0)
    pss = session_pss(server_pid)
    hold.set()
    times = await asyncio.gather(*tasks)
    await asyncio.sleep(0.5)  # let the server reap the console processes
    return list(times), pss


async def ssh_measure(port: int, server_pid: int, alone_runs: int, crowd: int
                      ) -> tuple[list[float], list[SessionMemory], list[float], SessionMemory]:
    await ssh_session_time(port)  # warm-up (and, with a zygote, waits until it is ready)
    alone: list[float] = []
    alone_pss: list[SessionMemory] = []
    for _ in range(alone_runs):
        times, pss = await open_sessions(port, server_pid, 1)
        alone += times
        alone_pss.append(pss)
    crowd_times, crowd_pss = await open_sessions(port, server_pid, crowd)
    return alone, alone_pss, crowd_times, crowd_pss


def started_at_once(argv: list[str], env: dict[str, str], count: int) -> list[float]:
    """`count` processes started together, each on its own PTY: each one's time to Welcome."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(lambda _: time_to_welcome(argv, env, timeout=300),
                                range(count)))
    return [r[0] for r in results]


def bench_ssh(work: Path, cold: ColdStart, quick: bool) -> None:
    crowd = 20
    alone_runs = 3 if quick else 5
    say(f"SSH: {alone_runs} sessions alone, then {crowd} at once")
    home = work / "ssh-home"
    env = terminal_env(home)
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve-ssh", "--port", "0", "--per-minute", "1000",
         "--per-address", "64",
         "--max-sessions", "64"], cwd=REPO, env=env, stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True, start_new_session=True)
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
        alone, alone_pss, crowd_times, crowd_pss = asyncio.run(
            ssh_measure(port, server.pid, alone_runs, crowd))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    # The floor on this machine: the same number of processes started at once on local PTYs
    # (no SSH), so CPU contention shows apart from what SSH adds.
    say(f"  reference: {crowd} bare apps, then {crowd} local cloudacct consoles, at once")
    bare_crowd = started_at_once(BASELINE_ARGV, terminal_env(home), crowd)
    local_crowd = started_at_once(CLOUDACCT_ARGV, terminal_env(home), crowd)
    local = cold.cloudacct
    one = median(alone)
    many, worst = median(crowd_times), max(crowd_times)
    alone_found = [m for m in alone_pss if m.consoles]
    pss_one = median([m.per_session() for m in alone_found])
    console_one = median([float(m.consoles[0]) for m in alone_found])
    zygote = max([m.zygote for m in [*alone_pss, crowd_pss]])
    pss_many = crowd_pss.per_session()
    console_many = statistics.mean(crowd_pss.consoles) if crowd_pss.consoles else float("nan")
    counted = "consoles + zygote" if zygote else "consoles"
    memory_rows = [
        Row(f"PSS per session, alone ({counted})", mib(pss_one),
            pss_one / cold.baseline_pss, 1.5, "<= 1.5x"),
        Row(f"PSS per session, {crowd} open ({len(crowd_pss.consoles)} found; {counted}, "
            "/ sessions)", mib(pss_many), pss_many / cold.baseline_pss, 1.5, "<= 1.5x"),
    ]
    if zygote:
        memory_rows += [
            Row("  a console process alone, without the zygote", mib(console_one),
                console_one / cold.baseline_pss, None, "(info)"),
            Row(f"  a console process, {crowd} open, without the zygote", mib(console_many),
                console_many / cold.baseline_pss, None, "(info)"),
            Row("  the zygote (once per server)", mib(zygote)),
        ]
    section("SSH (asyncssh client + pyte; target vs local cold start / bare app PSS)", [
        Row(f"connect -> Welcome, alone (median of {alone_runs})", ms(one), one / local, 1.5,
            "<= 1.5x"),
        Row(f"connect -> Welcome, {crowd} at once: median", ms(many), many / local, 1.5,
            "<= 1.5x"),
        Row(f"connect -> Welcome, {crowd} at once: slowest", ms(worst), worst / local, 1.5,
            "<= 1.5x"),
        Row(f"  reference: {crowd} bare apps at once on local PTYs, median",
            ms(median(bare_crowd)), median(bare_crowd) / cold.baseline, None, "(info)"),
        Row(f"  reference: {crowd} local cloudacct at once, median",
            ms(median(local_crowd)), median(local_crowd) / local, None, "(info)"),
        *memory_rows,
    ])


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
            per, _, _ = run_lifecycles(count)
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
    parser.add_argument("--only", choices=("ssh", "scale"), default=None,
                        help="only the SSH figures (and the cold start they are compared to), "
                             "or only the scale part")
    parser.add_argument("--baseline-app", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_app:
        run_baseline_app()
        return 0
    large = args.accounts_large or (100_000 if args.quick else 1_000_000)
    began = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="cloudacct-bench-"))
    try:
        if args.only == "scale":
            bench_scale(work, large, args.quick)
        elif args.only == "ssh":
            bench_ssh(work, bench_cold_start(5 if args.quick else 9, work), args.quick)
        else:
            cold = bench_cold_start(5 if args.quick else 9, work)
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
