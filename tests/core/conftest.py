"""Helpers shared by the core tests: row counts, capturing deliverers, a local SMTP server."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.conftest import STRONG_PASSWORD

CODE_RUN = re.compile(r"(?<!\d)\d{6}(?!\d)")


def rows(model) -> int:
    return model.select().count()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Captured:
    """A `deliver` callable for issue_code that keeps every code it is handed."""

    codes: list[str] = field(default_factory=list)

    def __call__(self, code: str) -> None:
        self.codes.append(code)

    @property
    def last(self) -> str:
        return self.codes[-1]


@pytest.fixture
def captured() -> Captured:
    return Captured()


@pytest.fixture
def account_id(signed_up) -> int:
    from core.models import Account

    _, email = signed_up
    return Account.get(Account.email == email).id


def query_elsewhere(sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of `sql` (`?` placeholders) read over a second, independent connection to this
    test's database, SQLite or PostgreSQL."""
    from core.config import settings

    url = settings().database_url
    if url.startswith("sqlite:"):
        import sqlite3

        conn = sqlite3.connect(url.split(":///", 1)[1])
    else:
        import psycopg2

        conn = psycopg2.connect(url)
        sql = sql.replace("?", "%s")
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        return [tuple(row) for row in cur.fetchall()]
    finally:
        conn.close()


def make_account(email: str, country: str = "SG", password: str = STRONG_PASSWORD,
                 origin: str = "local"):
    from core.accounts import sign_up

    return sign_up(country, email, password, password, True, origin=origin)


def make_verified_account(email: str, country: str = "SG", password: str = STRONG_PASSWORD,
                          origin: str = "local"):
    """An account that verified its email (F2 by email): a sign-up with this email is then a
    decoy, not an email claim. Returns the SignUpResult (its token is logged on)."""
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    result = make_account(email, country, password, origin)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(email))
    return result


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list = field(default_factory=list)  # (envelope, session had TLS)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


class _Collect:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.server.messages.append((envelope, session.ssl is not None))
        return "250 Message accepted for delivery"


def start_smtp(port: int | None = None, **controller_args):
    """A real aiosmtpd server on 127.0.0.1; returns (controller, SmtpServer)."""
    from aiosmtpd.controller import Controller

    server = SmtpServer("127.0.0.1", port or free_port())
    controller = Controller(_Collect(server), hostname=server.host, port=server.port,
                            **controller_args)
    controller.start()
    return controller, server


@pytest.fixture
def smtp_server(monkeypatch) -> Iterator[SmtpServer]:
    """A plain SMTP server; CLOUDACCT_SMTP_URL points at it."""
    from core.config import reset_settings

    controller, server = start_smtp()
    monkeypatch.setenv("CLOUDACCT_SMTP_URL", server.url)
    reset_settings()
    try:
        yield server
    finally:
        controller.stop()
