"""A read-only database under a running console (issue 7, item 4): the person sees the clear
message in the form, nothing else breaks, and the console works again once writes are back.

Read-only is simulated with `PRAGMA query_only = ON` (permanent, so each worker thread's new
connection has it too): tests may run as root, whom file permissions do not stop. SQLite
refuses the write exactly as for a read-only file ("attempt to write a readonly database").
"""

from __future__ import annotations

from tests.conftest import STRONG_PASSWORD
from tests.core.conftest import make_account
from tests.tui.helpers import log_on, settle, shown
from tui.app import CloudAcctApp
from tui.screens.log_on import LogOnScreen
from tui.screens.verify import VerifyScreen

SIZE = (100, 40)
READ_ONLY = ("The database is read-only: nothing was saved. Check the data directory's "
             "permissions.")


async def test_read_only_database_shows_the_message_in_the_log_on_form(db):
    from core.db import database

    make_account("carol@example.com")
    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        database.obj.pragma("query_only", 1, permanent=True)
        try:
            await log_on(pilot, "carol@example.com", STRONG_PASSWORD)
            assert isinstance(app.screen, LogOnScreen)
            assert shown(pilot, "#log-on-error") == READ_ONLY
            assert not any(n.title == "Unexpected error" for n in app._notifications)
            assert not app.screen.query_one("#log-on").disabled  # ready for another try
            # Still responsive: a second try gives the same message, not a crash.
            await log_on(pilot, "carol@example.com", STRONG_PASSWORD)
            assert shown(pilot, "#log-on-error") == READ_ONLY
        finally:
            database.obj.pragma("query_only", 0, permanent=True)
        # Writes are back: the same console logs on.
        await log_on(pilot, "carol@example.com", STRONG_PASSWORD)
        assert isinstance(app.screen, VerifyScreen)  # unverified: F2 resumes
        assert app.token
