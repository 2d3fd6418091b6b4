"""Failing dependencies (issue 7, item 4): a mail server that refuses, a full database, a
read-only database, an outbox that cannot be written. Each gives a clear DomainError, records
nothing partial, and the same process works again once the fault is gone.

(The mail server being down, a Maildir that cannot be written and failing SMS providers are
in test_delivery.py.)

How the faults are made, in a test run that may be root:
- *Full*: `PRAGMA max_page_count` pins the database to the pages it has; filler rows then use
  up the room on the pages the next sign-up must write to (SQLite cannot lower the limit below
  the current size, and an empty table's page has room for a row).
- *Read-only*: root ignores file permissions, so chmod 0444 on the database (and its -wal/-shm)
  does not stop root from writing. `PRAGMA query_only = ON` on the connection makes SQLite
  refuse every write with the same error a read-only file gives ("attempt to write a readonly
  database"); it is set `permanent` so that every connection opened afterwards (each console
  worker thread opens its own) has it too.
- *Outbox not writable*: for the same reason a directory's permissions do not stop root, so a
  plain FILE stands where the outbox directory should be.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from core.db import transaction
from core.errors import DeliveryError, StorageError
from core.models import Account, Code, Session
from core.verify_account import confirm_code, send_code, verify_state
from tests.conftest import START, STRONG_PASSWORD, latest_code
from tests.core.conftest import CODE_RUN, SmtpServer, free_port, rows

# --- a mail server that refuses ----------------------------------------------------------------


class _Refusing:
    """An aiosmtpd handler that refuses at RCPT or DATA while `refuse` is set."""

    def __init__(self, server: SmtpServer, at: str) -> None:
        self.server = server
        self.at = at
        self.refuse = True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse and self.at == "rcpt":
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.refuse and self.at == "data":
            return "550 5.7.1 Message rejected as spam"
        self.server.messages.append((envelope, session.ssl is not None))
        return "250 Message accepted for delivery"


@contextmanager
def refusing_smtp(monkeypatch, at: str) -> Iterator[tuple[_Refusing, SmtpServer]]:
    from aiosmtpd.controller import Controller

    from core.config import reset_settings

    server = SmtpServer("127.0.0.1", free_port())
    handler = _Refusing(server, at)
    controller = Controller(handler, hostname=server.host, port=server.port)
    controller.start()
    monkeypatch.setenv("CLOUDACCT_SMTP_URL", server.url)
    reset_settings()
    try:
        yield handler, server
    finally:
        controller.stop()


@pytest.mark.parametrize("at", ["rcpt", "data"])
def test_refusing_mail_server_records_nothing_and_a_retry_works(signed_up, monkeypatch, at):
    result, _ = signed_up
    with refusing_smtp(monkeypatch, at) as (handler, server):
        with pytest.raises(DeliveryError) as err:
            send_code(result.token, "signup", "email")
        assert "550" in err.value.message and "try again" in err.value.message
        assert rows(Code) == 0  # the code was not recorded, so not consumed
        status = verify_state(result.token, "signup", "email").status
        assert not status.sent and status.resend_in == 0  # the cooldown was not spent
        assert server.messages == []
        # The server accepts again: the retry, at the same instant, goes through.
        handler.refuse = False
        send_code(result.token, "signup", "email")
    envelope, _ = server.messages[0]
    code = CODE_RUN.search(envelope.content.decode().split("\r\n\r\n", 1)[1]).group()
    assert confirm_code(result.token, "signup", "email", code).status == "active"


# --- a full database ----------------------------------------------------------------------------

def _fill(prefix: str) -> int:
    """Insert filler accounts (keys of the same length as the one to come, and larger ones, so
    every row lands on the last page of each tree) until SQLite says the database is full."""
    n = 0
    while True:
        n += 1
        key = f"{prefix}{n:06d}@example.com"
        try:
            with transaction():
                Account.create(email=key, email_key=key, country="SG", password_hash="x" * 60,
                               status="unverified", created_at=START)
        except StorageError as exc:
            assert "database is full" in exc.message
            return n - 1
        assert n < 100_000


@contextmanager
def database_full() -> Iterator[None]:
    from core.db import database

    db = database.obj
    before = db.pragma("max_page_count")
    db.pragma("max_page_count", db.pragma("page_count"), permanent=True)
    try:
        assert _fill("filler-") > 0
        yield
    finally:
        db.pragma("max_page_count", before, permanent=True)


@pytest.mark.sqlite_only
def test_full_database_sign_up_is_a_clear_message_and_stores_nothing(db):
    from core.accounts import sign_up

    email = "zz-last0001@example.com"  # sorts after the fillers, the same length
    with database_full():
        accounts, sessions = rows(Account), rows(Session)
        with pytest.raises(StorageError) as err:
            sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True)
        assert err.value.message == ("The database is full: nothing was saved. Free some disk "
                                     "space and try again.")
        assert (rows(Account), rows(Session)) == (accounts, sessions)
        assert not Account.select().where(Account.email_key == email).exists()
    # The limit is raised (space freed): the same process signs up at once.
    result = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    assert Account.get(Account.email_key == email).status == "unverified"
    assert result.token


# --- a read-only database ------------------------------------------------------------------

@contextmanager
def read_only() -> Iterator[None]:
    from core.db import database

    database.obj.pragma("query_only", 1, permanent=True)
    try:
        yield
    finally:
        database.obj.pragma("query_only", 0, permanent=True)


READ_ONLY = ("The database is read-only: nothing was saved. Check the data directory's "
             "permissions.")


@pytest.mark.sqlite_only
def test_read_only_database_sign_up_and_log_on_are_clear_messages(signed_up):
    from core.accounts import log_on, sign_up

    _, email = signed_up
    accounts, sessions = rows(Account), rows(Session)
    with read_only():
        with pytest.raises(StorageError) as err:
            sign_up("SG", "new@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
        assert err.value.message == READ_ONLY
        with pytest.raises(StorageError) as err:
            log_on(email, STRONG_PASSWORD)
        assert err.value.message == READ_ONLY
        assert (rows(Account), rows(Session)) == (accounts, sessions)  # reads still work
    assert log_on(email, STRONG_PASSWORD).account.email == email


@pytest.mark.sqlite_only
def test_read_only_database_code_send_records_nothing(signed_up):
    result, email = signed_up
    with read_only():
        with pytest.raises(StorageError) as err:
            send_code(result.token, "signup", "email")
        assert err.value.message == READ_ONLY
    assert rows(Code) == 0
    send_code(result.token, "signup", "email")
    assert confirm_code(result.token, "signup", "email", latest_code(email)).status == "active"


# --- an outbox that cannot be written -------------------------------------------------------

def test_unwritable_outbox_is_a_delivery_error_and_records_nothing(active, cloudacct_home):
    token, _ = active
    outbox = cloudacct_home / "outbox"
    outbox.write_text("not a directory")
    codes = rows(Code)
    with pytest.raises(DeliveryError) as err:
        send_code(token, "second_channel", "sms", "8123 4567")
    assert err.value.message.startswith("The text message could not be sent (")
    assert "Nothing was recorded; please try again." in err.value.message
    assert rows(Code) == codes
    assert verify_state(token, "second_channel", "sms", "8123 4567").status.resend_in == 0
    outbox.unlink()  # the directory can be made again
    send_code(token, "second_channel", "sms", "8123 4567")
    view = confirm_code(token, "second_channel", "sms", latest_code("+6581234567"), "8123 4567")
    assert view.phone == "+6581234567"
