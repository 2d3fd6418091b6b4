"""`cloudacct outbox` (CONTRACT.md "Command line"): filtering, order, the JSON shape, exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.delivery import place_call, send_email, send_sms
from tui.cli import main

ROOT = Path(__file__).resolve().parents[1]
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def delivered(cloudacct_home):
    send_email("Alice@Example.com", "Your code", "Your code is 123456.")
    send_sms("+6581234567", "Code 234567")
    place_call("+6581234567", "Your code is 345678")
    send_sms("+447400123456", "Code 456789")
    send_email("bob@example.com", "Hello", "No code here.")


def test_json_lists_everything_newest_first(capsys, delivered):
    code, out, err = run(capsys, "outbox", "--json")
    assert code == 0 and err == ""
    items = json.loads(out)
    assert [i["body"] for i in items] == ["No code here.", "Code 456789", "Your code is 345678",
                                         "Code 234567", "Your code is 123456."]
    for item in items:
        assert {"channel", "to", "subject", "body", "sent_at"} <= set(item)
        assert item["channel"] in ("email", "sms", "voice")
        assert ISO.fullmatch(item["sent_at"]), item["sent_at"]
        assert (item["subject"] is None) == (item["channel"] != "email")
    assert items[2] == {"channel": "voice", "to": "+6581234567", "subject": None,
                        "body": "Your code is 345678", "sent_at": "2026-12-01T10:00:00Z"}


@pytest.mark.parametrize("query", ["alice@example.com", "ALICE@EXAMPLE.COM"])
def test_to_matches_emails_case_insensitively(capsys, delivered, query):
    code, out, _ = run(capsys, "outbox", "--to", query, "--json")
    items = json.loads(out)
    assert code == 0
    assert [(i["channel"], i["to"], i["subject"]) for i in items] == [
        ("email", "Alice@Example.com", "Your code")]
    assert re.search(r"(?<!\d)\d{6}(?!\d)", items[0]["body"]).group() == "123456"


@pytest.mark.parametrize("query", ["+65 8123-4567", "6581234567", "+6581234567",
                                   "(+65) 8123 4567"])
def test_to_matches_phones_in_any_formatting(capsys, delivered, query):
    code, out, _ = run(capsys, "outbox", "--to", query, "--json")
    assert code == 0
    assert [(i["channel"], i["body"]) for i in json.loads(out)] == [
        ("voice", "Your code is 345678"), ("sms", "Code 234567")]


def test_text_output_and_empty_outbox(capsys, delivered):
    code, out, _ = run(capsys, "outbox", "--to", "+6581234567")
    assert code == 0
    assert "voice" in out and "Your code is 345678" in out and "Alice" not in out
    code, out, _ = run(capsys, "outbox", "--to", "nobody@example.com")
    assert code == 0 and "Nothing was delivered to nobody@example.com" in out
    code, out, _ = run(capsys, "outbox", "--to", "nobody@example.com", "--json")
    assert code == 0 and json.loads(out) == []


def test_empty_outbox_with_no_data_directory(capsys, cloudacct_home):
    assert not cloudacct_home.exists()
    code, out, _ = run(capsys, "outbox", "--json")
    assert code == 0 and json.loads(out) == []


def test_limit(capsys, delivered):
    code, out, _ = run(capsys, "outbox", "--json", "-n", "2")
    assert code == 0 and len(json.loads(out)) == 2


@pytest.mark.parametrize("argv", [["outbox", "--bogus"], ["outbox", "--to"],
                                  ["outbox", "-n", "many"], ["frobnicate"]])
def test_bad_usage_exits_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    _, err = capsys.readouterr()
    assert err.strip()


def test_help_exits_0(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["outbox", "--help"])
    assert exit_.value.code == 0
    assert "--to" in capsys.readouterr().out


def _cli(home: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDACCT_")}
    env["CLOUDACCT_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "tui.cli", *argv], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_outbox_in_a_subprocess(delivered, cloudacct_home):
    done = _cli(cloudacct_home, "outbox", "--to", "+65 8123-4567", "--json")
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert [i["channel"] for i in items] == ["voice", "sms"]
    assert all(i["to"] == "+6581234567" for i in items)
    bad = _cli(cloudacct_home, "outbox", "--nope")
    assert bad.returncode == 2
    assert bad.stderr.strip()
