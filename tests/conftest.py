"""Every test gets its own data directory, a real SQLite file, fast password hashing and a
clock that stands still until the test moves it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

# Set to a PostgreSQL URL (its role may CREATE DATABASE) to run the suite on PostgreSQL: each test
# then gets a fresh database of its own, created from template0 and dropped afterwards.
TEST_POSTGRES_URL = os.environ.get("CLOUDACCT_TEST_POSTGRES_URL", "").strip()

START = datetime(2026, 12, 1, 10, 0, 0)  # naive UTC, like everything in core


@pytest.fixture(autouse=True)
def cloudacct_home(tmp_path, monkeypatch) -> Iterator:
    from core import clock
    from core.config import reset_settings
    from core.db import close_database
    from core.delivery.phone import set_phone_provider
    from core.hashing import forget_secret_key
    from core.i18n import use_language

    home = tmp_path / "home"
    monkeypatch.setenv("CLOUDACCT_HOME", str(home))
    monkeypatch.setenv("CLOUDACCT_HASH_PROFILE", "test")
    for name in ("CLOUDACCT_DATABASE_URL", "CLOUDACCT_SMTP_URL", "CLOUDACCT_NOW",
                 "CLOUDACCT_BRAND", "CLOUDACCT_SECRET_KEY", "CLOUDACCT_LANG",
                 "CLOUDACCT_CLIENT_LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # English unless a test asks for another language
    use_language("en")
    reset_settings()
    forget_secret_key()
    close_database()
    set_phone_provider(None)
    clock.set_now(START)
    if TEST_POSTGRES_URL:
        name = create_postgres_database()
        monkeypatch.setenv("CLOUDACCT_DATABASE_URL", with_database(TEST_POSTGRES_URL, name))
    yield home
    use_language("en")
    clock.set_now(None)
    close_database()
    if TEST_POSTGRES_URL:
        drop_postgres_database(name)
    reset_settings()
    forget_secret_key()
    set_phone_provider(None)


def pytest_collection_modifyitems(config, items) -> None:
    if not TEST_POSTGRES_URL:
        return
    skip = pytest.mark.skip(reason="SQLite only (pragmas, WAL, the database file itself); "
                            "CLOUDACCT_TEST_POSTGRES_URL runs the suite on PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


def with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _admin_connection():
    import psycopg2

    conn = psycopg2.connect(TEST_POSTGRES_URL)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return conn


def create_postgres_database() -> str:
    name = f"cloudacct_t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    conn = _admin_connection()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    finally:
        conn.close()
    return name


def drop_postgres_database(name: str) -> None:
    conn = _admin_connection()
    try:
        with conn.cursor() as cur:
            # Threads or child processes of the test may still hold a connection.
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


@pytest.fixture
def db(cloudacct_home):
    """The database of this test's data directory, migrated."""
    from core.config import settings
    from core.db import init_database

    return init_database(settings().database_url)


@pytest.fixture
def chinese():
    """The console's language is Simplified Chinese for this test (English again after)."""
    from core.i18n import use_language

    use_language("zh-Hans")
    yield "zh-Hans"
    use_language("en")


@pytest.fixture
def clock():
    """The movable clock: `clock.advance(timedelta(...))`, `clock.set_now(...)`."""
    from core import clock as core_clock

    return core_clock


STRONG_PASSWORD = "correct horse battery staple 9"


def stepped_up(token: str, proof: str = STRONG_PASSWORD) -> str:
    """Step the session up now (F13: the password, or the authenticator code with MFA on), so
    that a sensitive action called next is allowed; returns the token. For tests that call a
    sensitive action long after the log-on (whose proof counts for 5 minutes)."""
    from core.step_up import step_up

    step_up(token, proof)
    return token


def latest_code(to: str) -> str:
    """The 6-digit code in the newest message delivered to `to`."""
    import re

    from core.delivery import read_outbox

    messages = read_outbox(to)
    assert messages, f"nothing delivered to {to}"
    match = re.search(r"(?<!\d)\d{6}(?!\d)", messages[0].body)
    assert match, messages[0].body
    return match.group()


@pytest.fixture
def signed_up(db):
    """A new, unverified account: returns (SignUpResult, email)."""
    from core.accounts import sign_up

    email = "alice@example.com"
    return sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True), email


@pytest.fixture
def active(signed_up):
    """An active account verified by email: returns (token, email)."""
    from core.verify_account import confirm_code, send_code

    result, email = signed_up
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    return result.token, email


def svg_screen_lines(svg: str) -> list[str]:
    """The text rows of a Textual SVG screenshot, top to bottom, as a terminal shows them."""
    import html
    import re

    rows: dict[float, list[tuple[float, str]]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>',
                             svg):
        x, y, text = float(match[1]), float(match[2]), html.unescape(match[3])
        rows.setdefault(y, []).append((x, text))
    return ["".join(text for _, text in sorted(row)) for _, row in sorted(rows.items())]


@pytest.fixture
def snap_compare(snap_compare, request):
    """The snapshot plugin's comparison, which on a mismatch also prints the rows that differ
    as text: a CI log shows what changed, not only where the HTML report was left."""

    def compare(*args, **kwargs) -> bool:
        import difflib
        import pickle

        from pytest_textual_snapshot import node_to_report_path

        matched = snap_compare(*args, **kwargs)
        if not matched:
            # The plugin's own record of this comparison, written just now for its report.
            _, expected, actual, *_rest = pickle.loads(
                node_to_report_path(request.node).read_bytes())
            diff = "\n".join(difflib.unified_diff(
                svg_screen_lines(expected), svg_screen_lines(actual), "expected", "actual",
                lineterm=""))
            print(diff or "Every row's text is the same: the pictures differ in colour or "
                  "style (focus, hover, a button's flash, a cursor).")
        return matched

    return compare
