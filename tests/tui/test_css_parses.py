"""The parsed CSS kept between local starts (tui/css_parses.py, issue 16): a second start
parses no CSS, a changed stylesheet is parsed anew, and a file that is not what the console
wrote (torn, of another Textual or Python, or built to run code when unpickled) is ignored."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tui import css_parses

REPO = Path(__file__).resolve().parents[2]

START_AND_COUNT_PARSES = """
import asyncio, sys
from pathlib import Path
from textual.css.stylesheet import Stylesheet

parses = []
parse_rules = Stylesheet._parse_rules
def counted(self, css, *args, **kwargs):
    parses.append(css)
    return parse_rules(self, css, *args, **kwargs)
Stylesheet._parse_rules = counted

from tui.app import CloudAcctApp
from tui.css_parses import load_css_parses

print(load_css_parses(Path(sys.argv[1])))

async def first_screen():
    app = CloudAcctApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#free-account")

asyncio.run(first_screen())
print(len(parses))
"""


def _start(home: Path) -> tuple[int, int]:
    """A console started to its Welcome screen in its own process: (parses loaded, parsed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDACCT_")}
    env.update(CLOUDACCT_HOME=str(home), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", START_AND_COUNT_PARSES, str(home)], env=env,
                          cwd=REPO, timeout=120, capture_output=True, text=True, check=True)
    loaded, parsed = done.stdout.split()
    return int(loaded), int(parsed)


def test_a_second_start_parses_no_css(tmp_path):
    loaded, parsed = _start(tmp_path)
    assert (loaded, parsed > 10) == (0, True)
    kept = tmp_path / css_parses.FILE_NAME
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    loaded, parsed = _start(tmp_path)
    assert loaded > 10 and parsed == 0


def test_a_foreign_file_is_ignored_and_the_console_still_starts(tmp_path):
    marker = tmp_path / "ran"

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / css_parses.FILE_NAME).write_bytes(
        pickle.dumps((css_parses._stamp(), {("css", None, False, 0, "", ()): RunsCode()})))
    loaded, parsed = _start(tmp_path)
    assert (loaded, parsed > 10, marker.exists()) == (0, True, False)


@pytest.fixture
def shared_parses(monkeypatch):
    """This process's Stylesheets share parses for the test only (and its table is its own)."""
    from textual.css.stylesheet import Stylesheet

    monkeypatch.setattr(Stylesheet, "_parse_rules", Stylesheet._parse_rules)
    monkeypatch.setattr(Stylesheet, "_cloudacct_shared", False, raising=False)
    monkeypatch.setattr(css_parses, "_SHARED", {})
    monkeypatch.setattr(css_parses, "_loaded_count", -1)
    css_parses.share_css_parses()
    return Stylesheet


def test_kept_parses_are_found_and_changed_css_is_parsed_anew(tmp_path, shared_parses,
                                                             monkeypatch):
    css_parses.load_css_parses(tmp_path)
    rules = shared_parses()._parse_rules("Static { color: red; }", ("test", ""))
    assert css_parses.save_css_parses(tmp_path)
    assert not css_parses.save_css_parses(tmp_path)  # nothing new since it was written
    monkeypatch.setattr(css_parses, "_SHARED", {})
    assert css_parses.load_css_parses(tmp_path) == 1
    again = shared_parses()._parse_rules("Static { color: red; }", ("test", ""))
    assert [rule.selectors for rule in again] == [rule.selectors for rule in rules]
    assert again[0].styles.color == rules[0].styles.color
    shared_parses()._parse_rules("Static { color: blue; }", ("test", ""))
    assert len(css_parses._SHARED) == 2  # the changed CSS was parsed, not taken from the file
    assert css_parses.save_css_parses(tmp_path)


def test_nothing_new_is_not_written_again(tmp_path, shared_parses):
    css_parses.load_css_parses(tmp_path)
    shared_parses()._parse_rules("Static { color: red; }", ("test", ""))
    assert css_parses.save_css_parses(tmp_path)
    css_parses.load_css_parses(tmp_path)
    assert not css_parses.save_css_parses(tmp_path)


@pytest.mark.parametrize("content", [
    b"",
    b"not a pickle at all",
    pickle.dumps(((0, "another textual"), {})),
    pickle.dumps("just a string"),
])
def test_a_torn_or_stale_file_loads_nothing(tmp_path, shared_parses, content):
    (tmp_path / css_parses.FILE_NAME).write_bytes(content)
    assert css_parses.load_css_parses(tmp_path) == 0
    assert css_parses._SHARED == {}


def test_a_console_that_did_not_load_writes_nothing(tmp_path, shared_parses):
    shared_parses()._parse_rules("Static { color: red; }", ("test", ""))
    assert not css_parses.save_css_parses(tmp_path)  # SSH children and tests never loaded
    assert not (tmp_path / css_parses.FILE_NAME).exists()
