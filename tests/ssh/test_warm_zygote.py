"""The zygote warms one headless console before forking (issue 16) and is still safe to fork
from: no thread, no database, no settings, no log file of the warm-up's left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_after_the_warm_up_the_zygote_may_fork(tmp_path):
    code = (
        "import logging, os, threading\n"
        "from tui.ssh import zygote\n"
        "zygote.preload()\n"
        "from tui import css_parses\n"
        "print(zygote.unsafe_to_fork(), threading.active_count(), len(css_parses._SHARED) > 0,\n"
        "      logging.getLogger('cloudacct').handlers,\n"
        "      [k for k in os.environ if k.startswith('CLOUDACCT_')])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDACCT_")}
    env.update(PYTHONPATH=str(REPO), TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, timeout=120,
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "None 1 True [] []", done.stderr
    assert "not warmed" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # the warm-up's data directory is gone


def test_apps_share_their_css_parses(monkeypatch):
    from textual.css.stylesheet import Stylesheet

    from tui.css_parses import _SHARED, share_css_parses

    # undone after the test: only the zygote's process shares parses
    monkeypatch.setattr(Stylesheet, "_parse_rules", Stylesheet._parse_rules)
    monkeypatch.setattr(Stylesheet, "_cloudacct_shared", False, raising=False)
    share_css_parses()
    first, second = Stylesheet(), Stylesheet()
    css = "Static { color: red; }"
    rules = first._parse_rules(css, ("test", ""))
    assert second._parse_rules(css, ("test", "")) is rules
    assert any(key[0] == css for key in _SHARED)
    other = Stylesheet(variables={"primary": "blue"})
    assert other._parse_rules(css, ("test", "")) is not rules  # other variables: parsed anew
