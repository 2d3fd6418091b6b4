"""The data directory is its owner's alone (issue 11, item 7): every directory 0700 and every
file 0600 after a whole lifecycle, whatever the umask; a home an older version left open is
tightened on start; what is not cloudacct's is left alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.billing_address import save_billing_address
from core.config import settings
from core.db import close_database, init_database
from core.verify_account import confirm_code, send_code
from tests.conftest import latest_code

PHONE = "+65 8123 4567"
PDF = b"%PDF-1.4\n" + b"x" * 200


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The umask of a careless shell (files 0644, directories 0755), restored after."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def open_to_others(home: Path) -> list[str]:
    """Every path under `home` (and `home` itself) with a group or other permission bit."""
    found = []
    for path in [home, *sorted(home.rglob("*"))]:
        mode = path.lstat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            found.append(f"{path.relative_to(home.parent)} {stat.filemode(mode)}")
    return found


def kinds(home: Path) -> set[str]:
    """What the lifecycle left, by kind, so the test knows it looked at each store."""
    names = {str(p.relative_to(home)) for p in home.rglob("*")}
    # an account's own file space (core.files): files/<id>/exports/..., files/<id>/uploads/...
    names |= {"/".join(n.split("/")[2:]) for n in names if n.startswith("files/")}
    seen = set()
    for wanted in ("cloudacct.db", "sandbox-gateway.db", "secret.key", "cloudacct.log",
                   "Maildir/new", "outbox", "exports", "uploads"):
        if any(n == wanted or n.startswith(wanted + "/") or n.startswith(wanted + "-")
               for n in names):
            seen.add(wanted)
    if any(n.startswith("Maildir/new/") for n in names):
        seen.add("a Maildir message")
    if any(n.startswith("outbox/") and n.endswith(".json") for n in names):
        seen.add("an outbox message")
    if any(n.endswith(("-wal", "-shm")) for n in names):
        seen.add("a -wal or -shm")
    return seen


def lifecycle(tmp_path: Path, *, with_licence: bool = False) -> None:
    """Sign up, a code by email, a code by SMS, a billing address, a card, an export (and an
    enterprise licence upload)."""
    from core.accounts import sign_up
    from core.payments import save_card
    from core.security import export_data
    from tests.conftest import STRONG_PASSWORD

    email = "mei@example.com"
    result = sign_up("SG", email, STRONG_PASSWORD, STRONG_PASSWORD, True)
    token = result.token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))
    send_code(token, "second_channel", "sms", PHONE)
    confirm_code(token, "second_channel", "sms", latest_code(PHONE), PHONE)
    save_billing_address(token, account_type="individual", full_name="Mei Lin", country="SG",
                         region="SG-01", city="Singapore", street="1 Raffles Place",
                         postal_code="048616")
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Mei Lin")
    export_data(token)
    if with_licence:
        from core.real_name import submit_enterprise

        source = tmp_path / "licence.pdf"
        source.write_bytes(PDF)
        submit_enterprise(token, "Acme Trading", "91350100M000100Y43", "Li Lei", str(source))


@pytest.fixture
def gateway():
    from core.gateway import set_payment_gateway

    set_payment_gateway(None)
    yield
    set_payment_gateway(None)


@pytest.mark.sqlite_only
def test_explicit_modes_hold_under_a_loose_umask(cloudacct_home, tmp_path, loose_umask,
                                                 gateway):
    """The umask is loosened AFTER start (init_database set it to 0o077): only the modes each
    store gives its files explicitly keep them private here."""
    init_database(settings().database_url)
    os.umask(0o022)
    lifecycle(tmp_path)
    assert kinds(cloudacct_home) >= {"cloudacct.db", "sandbox-gateway.db", "secret.key",
                                     "cloudacct.log", "a Maildir message", "an outbox message",
                                     "exports", "a -wal or -shm"}
    assert open_to_others(cloudacct_home) == []


def test_start_makes_the_whole_lifecycle_private(cloudacct_home, tmp_path, loose_umask,
                                                 gateway):
    """Started under umask 0o022: the start sets the umask, so whatever creates a file later
    (a licence upload included) makes it private."""
    init_database(settings().database_url)
    assert os.umask(0o077) == 0o077  # what start set, read back
    lifecycle(tmp_path, with_licence=True)
    assert {"uploads", "exports", "a Maildir message"} <= kinds(cloudacct_home)
    assert open_to_others(cloudacct_home) == []


@pytest.mark.sqlite_only
def test_a_home_an_older_version_left_open_is_tightened_on_start(cloudacct_home, tmp_path,
                                                                 loose_umask, gateway):
    init_database(settings().database_url)
    lifecycle(tmp_path)
    close_database()
    from core.gateway import payment_gateway

    payment_gateway().close()
    # What an older version made: 0755 directories, 0644 files.
    for path in [cloudacct_home, *cloudacct_home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert open_to_others(cloudacct_home)
    init_database(settings().database_url)
    assert open_to_others(cloudacct_home) == []


def test_what_is_not_cloudacct_s_is_left_alone(cloudacct_home, loose_umask):
    """CLOUDACCT_HOME may hold other things: only cloudacct's own files are tightened, and a
    symbolic link is never followed."""
    cloudacct_home.mkdir(mode=0o755)
    cloudacct_home.chmod(0o755)
    notes = cloudacct_home / "notes.txt"
    notes.write_text("mine")
    notes.chmod(0o644)
    target = cloudacct_home.parent / "elsewhere.txt"
    target.write_text("not cloudacct's")
    target.chmod(0o644)
    (cloudacct_home / "cloudacct.log.1").symlink_to(target)
    outbox = cloudacct_home / "outbox"
    outbox.mkdir(mode=0o755)
    outbox.chmod(0o755)
    old = outbox / "1-old-sms.json"
    old.write_text("{}")
    old.chmod(0o644)
    init_database(settings().database_url)
    assert stat.S_IMODE(cloudacct_home.stat().st_mode) == 0o700
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert stat.S_IMODE(notes.stat().st_mode) == 0o644
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_shared_sticky_home_keeps_its_mode(tmp_path, monkeypatch, loose_umask):
    """A home like /tmp (world-writable, sticky) is never chmod-ed; cloudacct's files in it are
    private all the same."""
    from core.config import reset_settings

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setenv("CLOUDACCT_HOME", str(shared))
    monkeypatch.delenv("CLOUDACCT_DATABASE_URL", raising=False)
    reset_settings()
    close_database()
    init_database(settings().database_url)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert open_to_others(shared) == [f"shared {stat.filemode(shared.stat().st_mode)}"]


def test_private_dir_makes_every_missing_parent_0700(tmp_path, loose_umask):
    from core.private_files import private_dir

    private_dir(tmp_path / "a" / "b" / "c")
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
