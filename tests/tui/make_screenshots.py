"""Make the README's screenshots: docs/screenshots/overview.svg, signup.svg and
overview-zh-Hans.svg (the same Overview with the console in Simplified Chinese).

Run from the repository root: `python tests/tui/make_screenshots.py`. It uses a throw-away data
directory and a clock standing still, so the pictures only change when the console does.
(Not collected by pytest: the name does not start with `test_`.)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
SIZE = (100, 32)
PASSWORD = "correct horse battery staple 9"


def _prepare_environment(home: str) -> None:
    os.environ["CLOUDACCT_HOME"] = home
    os.environ["CLOUDACCT_NOW"] = "2026-12-01T10:00:00Z"
    os.environ["CLOUDACCT_HASH_PROFILE"] = "test"
    for name in ("CLOUDACCT_DATABASE_URL", "CLOUDACCT_SMTP_URL", "CLOUDACCT_BRAND",
                 "CLOUDACCT_LANG", "LC_ALL", "LC_MESSAGES"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))


def _active_account(email: str) -> None:
    import re

    from core.accounts import sign_up
    from core.config import settings
    from core.db import init_database
    from core.delivery import read_outbox
    from core.verify_account import confirm_code, send_code

    init_database(settings().database_url)
    result = sign_up("SG", email, PASSWORD, PASSWORD, True)
    send_code(result.token, "signup", "email")
    code = re.search(r"\b\d{6}\b", read_outbox(email)[0].body).group()
    confirm_code(result.token, "signup", "email", code)


async def _settle(pilot) -> None:
    from textual.widgets import Input

    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def _overview(path: Path, email: str) -> None:
    from tui.app import CloudAcctApp

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#log-on")
        await pilot.pause()
        app.screen.query_one("#email").value = email
        app.screen.query_one("#password").value = PASSWORD
        await pilot.click("#log-on")
        await _settle(pilot)
        app.save_screenshot(path.name, path=str(path.parent))


async def _sign_up(path: Path) -> None:
    from tui.app import CloudAcctApp

    app = CloudAcctApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#free-account")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#country").value = "SG"
        screen.query_one("#email").value = "alice@example.com"
        screen.query_one("#password").value = "correct horse"
        await pilot.pause(0.5)  # the strength meter waits for a pause in typing
        await _settle(pilot)
        screen.query_one("#password").focus()
        await _settle(pilot)
        app.save_screenshot(path.name, path=str(path.parent))


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        _prepare_environment(home)
        _active_account("alice@example.com")
        asyncio.run(_overview(OUT / "overview.svg", "alice@example.com"))
        asyncio.run(_sign_up(OUT / "signup.svg"))
        os.environ["CLOUDACCT_LANG"] = "zh-Hans"  # read when the console starts (F18)
        asyncio.run(_overview(OUT / "overview-zh-Hans.svg", "alice@example.com"))
    for name in ("overview.svg", "signup.svg", "overview-zh-Hans.svg"):
        print(OUT / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
