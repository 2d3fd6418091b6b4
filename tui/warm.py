"""Warming the SSH zygote: one headless console run to its Welcome screen before any fork.

A forked console used to spend ~190 ms of CPU to its first screen, much of it on work every
console does identically: parsing the same CSS, filling Textual's and Rich's caches (selectors,
scalars, styles, segments), first calls of code paths. Done once in the zygote, the children
inherit the results copy-on-write (tui/ssh/zygote.py).

Textual keeps its parsed CSS per Stylesheet (one per app) and empties that cache whenever the
theme's variables are set, so inheriting it is not enough: the zygote shares the parses
process-wide first (tui/css_parses.py), so a child's app finds the rules the warm-up parsed.

The warm-up runs the real CloudAcctApp in a throwaway data directory, then undoes everything
that must not cross a fork (tui/ssh/zygote.py `unsafe_to_fork`): the database, the settings,
the secret key, the log file handler, the payment gateway, and any thread it started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import threading


def warm_console(cols: int = 80, rows: int = 24) -> None:
    """Run a console headless to its Welcome screen and leave nothing of it open."""
    import asyncio

    saved = {k: v for k, v in os.environ.items() if k.startswith("CLOUDACCT_")}
    home = tempfile.mkdtemp(prefix="cloudacct-warm-")
    cloudacct_log = logging.getLogger("cloudacct")
    handlers, level, propagate = (list(cloudacct_log.handlers), cloudacct_log.level,
                                  cloudacct_log.propagate)
    for key in saved:
        del os.environ[key]
    os.environ.update(CLOUDACCT_HOME=home, CLOUDACCT_DATABASE_URL=f"sqlite:///{home}/warm.db",
                      CLOUDACCT_HASH_PROFILE="test")
    try:
        asyncio.run(_run_to_welcome(cols, rows))
    finally:
        _forget_everything()
        for thread in threading.enumerate():
            if thread is not threading.main_thread():
                thread.join(5.0)
        for handler in list(cloudacct_log.handlers):
            if handler not in handlers:
                cloudacct_log.removeHandler(handler)
                with contextlib.suppress(Exception):
                    handler.close()
        cloudacct_log.setLevel(level)
        cloudacct_log.propagate = propagate
        for key in [k for k in os.environ if k.startswith("CLOUDACCT_")]:
            del os.environ[key]
        os.environ.update(saved)
        shutil.rmtree(home, ignore_errors=True)


async def _run_to_welcome(cols: int, rows: int) -> None:
    from tui.app import CloudAcctApp
    from tui.screens.welcome import WelcomeScreen

    app = CloudAcctApp()
    async with app.run_test(size=(cols, rows)) as pilot:
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, WelcomeScreen):
                break
        await pilot.pause()
        # Let the first-screen background work (the payment reconciliation) finish, so no
        # thread of it outlives the warm-up.
        await app.workers.wait_for_complete()


def _forget_everything() -> None:
    """What the warm console opened or read, closed and forgotten."""
    from core import gateway
    from core.config import reset_settings
    from core.db import close_database
    from core.hashing import forget_secret_key

    close_database()
    opened = getattr(gateway, "_gateway", None)
    if opened is not None:
        with contextlib.suppress(Exception):
            close = getattr(opened, "close", None)
            if callable(close):
                close()
        gateway._gateway = None
    reset_settings()
    forget_secret_key()
    with contextlib.suppress(Exception):
        from core.delivery.phone import set_phone_provider

        set_phone_provider(None)
    sys.stdout.flush()
