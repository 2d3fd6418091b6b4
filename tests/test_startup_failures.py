"""Start-up failures are one line (CONTRACT.md "Command line", issue 11 item 7): every command
exits 1 with one line on stderr, and no traceback, when the data directory cannot be made or
written, or the database cannot be opened or migrated. Run as the real `cloudacct` command.

Root ignores file modes, so "cannot write" is a path through a regular file (NotADirectoryError)
and a database URL naming a directory; "full" is a real 64 KiB tmpfs where a user namespace can
mount one, and a file-size limit (RLIMIT_FSIZE) everywhere."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [["billing", "run"], ["review", "list"], ["review", "approve", "a@example.com"],
            ["review", "reject", "a@example.com", "--reason", "blurred"], ["outbox"],
            ["serve-ssh", "--port", "0"], []]
DATABASE_COMMANDS = [c for c in COMMANDS if c != ["outbox"]]


def cloudacct() -> str:
    found = Path(sys.executable).with_name("cloudacct")
    return str(found) if found.exists() else shutil.which("cloudacct") or "cloudacct"


def run(env_over: dict[str, str], argv: list[str], *, shell: str | None = None,
        **kwargs) -> subprocess.CompletedProcess:
    """`cloudacct ARGV` (or, with `shell`, that script in a user and mount namespace of its
    own, where it may mount a tmpfs)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDACCT_")}
    env.update(CLOUDACCT_HASH_PROFILE="test", **env_over)
    command = [cloudacct(), *argv] if shell is None else ["unshare", "-rm", "sh", "-c", shell]
    return subprocess.run(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, **kwargs)


def assert_one_line(done: subprocess.CompletedProcess, *words: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith("cloudacct: "), line
    for word in words:
        assert word in line, line
    return line


@pytest.fixture
def under_a_file(tmp_path) -> Path:
    (tmp_path / "file").write_text("a regular file, not a directory")
    return tmp_path / "file" / "home"


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a) or "console")
def test_a_data_directory_that_cannot_be_made(under_a_file, argv):
    line = assert_one_line(run({"CLOUDACCT_HOME": str(under_a_file)}, argv),
                           str(under_a_file), "Not a directory", "CLOUDACCT_HOME")
    assert ("cannot read" if argv == ["outbox"] else "cannot write") in line


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda a: " ".join(a) or "console")
def test_a_database_url_naming_a_directory(tmp_path, argv):
    (tmp_path / "db").mkdir()
    done = run({"CLOUDACCT_HOME": str(tmp_path / "home"),
                "CLOUDACCT_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"}, argv)
    assert_one_line(done, "cannot open the database", str(tmp_path / "db"),
                    "CLOUDACCT_DATABASE_URL")


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=lambda a: " ".join(a) or "console")
def test_a_corrupt_database_file(tmp_path, argv):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cloudacct.db").write_bytes(os.urandom(8192))
    done = run({"CLOUDACCT_HOME": str(home)}, argv)
    assert_one_line(done, "is damaged or is not a cloudacct database", "backup")
    assert (home / "cloudacct.db").stat().st_size == 8192  # left as it was, for recovery


def test_an_unreachable_postgresql_hides_the_password(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://cloudacct:s3cret-pw@127.0.0.1:{port}/cloudacct"
    for argv in (["billing", "run"], []):
        done = run({"CLOUDACCT_HOME": str(tmp_path / "home"), "CLOUDACCT_DATABASE_URL": url},
                   argv)
        line = assert_one_line(done, "cannot open the database", "PostgreSQL")
        assert "s3cret-pw" not in line and "cloudacct:***@127.0.0.1" in line


@pytest.mark.parametrize("url", ["mysql://localhost/x", "postgresql://host:notaport/x"])
def test_a_bad_database_url(tmp_path, url):
    done = run({"CLOUDACCT_HOME": str(tmp_path / "home"), "CLOUDACCT_DATABASE_URL": url},
               ["billing", "run"])
    assert_one_line(done, "CLOUDACCT_DATABASE_URL" if url.startswith("mysql") else "port")


def _file_size_limit(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("limit", [0, 60_000])
def test_a_file_size_limit_is_a_disk_that_is_full(tmp_path, limit):
    """With RLIMIT_FSIZE, writes past the limit fail (EFBIG; Python ignores SIGXFSZ): at once,
    or half-way through the first migration."""
    done = run({"CLOUDACCT_HOME": str(tmp_path / "home")}, ["billing", "run"],
               preexec_fn=_file_size_limit(limit))
    assert_one_line(done, "cannot be written", "free some disk space")


def _user_namespaces() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10)
    return probe.returncode == 0


@pytest.mark.skipif(not _user_namespaces(), reason="cannot mount a tmpfs in a user namespace")
@pytest.mark.parametrize("argv", [["billing", "run"], []], ids=["billing run", "console"])
def test_a_full_disk(tmp_path, argv):
    """A real full file system: a 64 KiB tmpfs (in a user and mount namespace of its own)."""
    mount = tmp_path / "small"
    mount.mkdir()
    home = mount / "home"
    script = (f"mount -t tmpfs -o size=64k tmpfs {mount} && exec {cloudacct()} "
              + " ".join(argv))
    done = run({"CLOUDACCT_HOME": str(home)}, [], shell=script)
    assert_one_line(done, "the disk is full", "free some disk space")


def test_a_full_disk_before_the_data_directory(tmp_path):
    if not _user_namespaces():
        pytest.skip("cannot mount a tmpfs in a user namespace")
    mount = tmp_path / "small"
    mount.mkdir()
    script = (f"mount -t tmpfs -o size=4k,nr_inodes=2 tmpfs {mount} && "
              f"mkdir {mount}/taken && exec {cloudacct()} billing run")
    done = run({"CLOUDACCT_HOME": str(mount / "home")}, [], shell=script)
    assert_one_line(done, f"the data directory {mount / 'home'} is full")


def test_a_damaged_secret_key_is_a_clear_refusal(cloudacct_home):
    from core.errors import StorageError
    from core.hashing import keyed_hash

    cloudacct_home.mkdir(parents=True)
    (cloudacct_home / "secret.key").write_text("not hex at all")
    with pytest.raises(StorageError) as info:
        keyed_hash("code", "1")
    assert "secret.key" in info.value.message and "backup" in info.value.message


def test_a_console_that_cannot_be_built_is_one_line(capsys, monkeypatch):
    """`CloudAcctApp()` raising anything at construction ends `cloudacct` with one line."""
    import tui.app
    from tui.cli import main

    class Broken:
        def __init__(self) -> None:
            raise RuntimeError("the terminal went away\nsecond line of detail")

    monkeypatch.setattr(tui.app, "CloudAcctApp", Broken)
    assert main([]) == 1
    out, err = capsys.readouterr()
    assert err == "cloudacct: the console could not start (RuntimeError: the terminal went " \
        "away)\n" and out == ""


def test_every_command_sets_a_private_umask(tmp_path):
    """Started under umask 0o022, a command leaves the data directory 0700 and its files 0600
    (the log, the databases and their -wal/-shm, the key)."""
    home = tmp_path / "home"
    done = run({"CLOUDACCT_HOME": str(home)}, ["billing", "run"],
               preexec_fn=lambda: os.umask(0o022))
    assert done.returncode == 0, done.stderr
    files = [home, *home.rglob("*")]
    assert any(p.name == "cloudacct.db" for p in files)
    assert [p for p in files if stat.S_IMODE(p.stat().st_mode) & 0o077] == []
