"""SFTP into an account's own file space (SPEC F16) over a real SSH connection: asyncssh's
client first, then OpenSSH's own `sftp` and `scp` as a person would type them."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import asyncssh
import pytest

from tests.conftest import STRONG_PASSWORD
from tests.ssh.conftest import open_connection, trusted_account

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def account_id(email: str) -> int:
    from core.models import Account

    return Account.get(Account.email == email).id


def export_for(email: str, key: asyncssh.SSHKey) -> Path:
    """The person's data export, made as the console makes it over SSH."""
    from core.accounts import log_on
    from core.security import export_data

    session = log_on(email, STRONG_PASSWORD, origin="127.0.0.1",
                     key_fingerprint=key.get_fingerprint("sha256"))
    return export_data(session.token)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def person(db) -> tuple[str, asyncssh.SSHKey]:
    email = "files@example.com"
    return email, trusted_account(email)


async def test_a_trusted_key_uploads_a_licence_and_reads_its_export(ssh_server, person,
                                                                   tmp_path, cloudacct_home):
    from core.files import account_files

    email, key = person
    export = export_for(email, key)
    port = await ssh_server()
    licence = tmp_path / "licence.png"
    licence.write_bytes(PNG)
    conn = await open_connection(port, key=key)
    async with conn, conn.start_sftp_client() as sftp:
        assert sorted(await sftp.listdir("/")) == [".", "..", "exports", "statements",
                                                    "uploads"]
        assert await sftp.realpath("../../..") == "/"
        await sftp.put(str(licence), "uploads/licence.png")
        assert await sftp.listdir("uploads") == [".", "..", "licence.png"]
        assert (await sftp.stat("uploads/licence.png")).size == len(PNG)
        # New files only.
        with pytest.raises(asyncssh.SFTPError):
            await sftp.put(str(licence), "uploads/licence.png")
        for change in (sftp.remove("uploads/licence.png"),
                       sftp.rename("uploads/licence.png", "uploads/other.png"),
                       sftp.posix_rename("uploads/licence.png", "uploads/other.png"),
                       sftp.mkdir("uploads/folder"), sftp.chmod("uploads/licence.png", 0o777),
                       sftp.symlink("/etc/passwd", "uploads/passwd"),
                       sftp.link("uploads/licence.png", "uploads/hard.png")):
            with pytest.raises(asyncssh.SFTPError):
                await change
        # Its export, read only.
        got = tmp_path / "export.json"
        await sftp.get(f"exports/{export.name}", str(got))
        assert got.read_bytes() == export.read_bytes()
        with pytest.raises(asyncssh.SFTPError):
            await sftp.put(str(licence), "exports/licence.png")
        with pytest.raises(asyncssh.SFTPError):
            async with sftp.open(f"exports/{export.name}", "r+b") as handle:
                await handle.write(b"x")
        assert await sftp.listdir("statements") == [".", ".."]
    uploads = account_files(account_id(email)).uploads
    assert sorted(os.listdir(uploads)) == ["licence.png"]
    assert (uploads / "licence.png").read_bytes() == PNG
    assert export.read_bytes() == got.read_bytes()


async def test_every_billing_document_is_under_statements(ssh_server, person, tmp_path):
    """F16/F17: a card's hold makes this month's statement; the first look at statements/
    publishes every document there, and it downloads as the PDF it is."""
    from core.accounts import log_on
    from core.billing_address import save_billing_address
    from core.payments import save_card
    from core.verify_account import confirm_code, send_code
    from tests.conftest import latest_code

    email, key = person
    token = log_on(email, STRONG_PASSWORD).token
    send_code(token, "second_channel", "sms", "8123 4567")
    confirm_code(token, "second_channel", "sms", latest_code("+6581234567"), "8123 4567")
    save_billing_address(token, account_type="individual", full_name="Mei Lin", country="SG",
                         region="SG-01", city="Singapore", street="1 Raffles Place",
                         postal_code="048616")
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Mei Lin")
    stem = f"cloudacct-statement-{account_id(email)}-2026-12"
    port = await ssh_server()
    conn = await open_connection(port, key=key)
    async with conn, conn.start_sftp_client() as sftp:
        names = await sftp.listdir("statements")
        assert {f"{stem}.pdf", f"{stem}.csv"} <= set(names)
        await sftp.get(f"statements/{stem}.pdf", str(tmp_path / "statement.pdf"))
        with pytest.raises(asyncssh.SFTPError):
            await sftp.remove(f"statements/{stem}.pdf")
    assert (tmp_path / "statement.pdf").read_bytes().startswith(b"%PDF-")


async def test_nothing_outside_the_file_space_can_be_reached(ssh_server, person, tmp_path,
                                                            cloudacct_home):
    email, key = person
    port = await ssh_server()
    licence = tmp_path / "licence.png"
    licence.write_bytes(PNG)
    passwd = Path("/etc/passwd").read_bytes()
    before = tree(cloudacct_home)
    conn = await open_connection(port, key=key)
    async with conn, conn.start_sftp_client() as sftp:
        for target in ("../x.png", "/etc/passwd", "/x.png", "uploads/../../x.png",
                       "../../../../../../tmp/x.png", "uploads/sub/x.png", "x.png",
                       "uploads/.hidden.png", "statements/x.png"):
            with pytest.raises(asyncssh.SFTPError):
                await sftp.put(str(licence), target)
        for source in ("/etc/passwd", "../../cloudacct.db", "/cloudacct.db",
                       "../ssh_host_ed25519_key", "uploads/../../../etc/passwd",
                       f"../{account_id(email)}/uploads"):
            with pytest.raises(asyncssh.SFTPError):
                await sftp.get(source, str(tmp_path / "stolen"))
        with pytest.raises(asyncssh.SFTPError):
            await sftp.listdir("/etc")
        assert await sftp.listdir("/uploads/../..") == await sftp.listdir("/")
        # An absolute path is one inside the tree.
        await sftp.put(str(licence), "/uploads/absolute.png")
    assert Path("/etc/passwd").read_bytes() == passwd
    assert not (tmp_path / "stolen").exists()
    after = tree(cloudacct_home)
    assert {p for p in after - before if not p.startswith("files")} <= {
        p for p in after if p.startswith(("cloudacct.db", "cloudacct.log"))}
    assert f"files/{account_id(email)}/uploads/absolute.png" in after


async def test_an_upload_past_10_mb_or_not_a_document_is_refused_and_removed(
        ssh_server, person, tmp_path, ssh_log):
    from core.files import account_files

    email, key = person
    port = await ssh_server()
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024))
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"this is text pretending to be a picture\n" * 10)
    conn = await open_connection(port, key=key)
    async with conn, conn.start_sftp_client() as sftp:
        with pytest.raises(asyncssh.SFTPError, match="at most 10 MB"):
            await sftp.put(str(big), "uploads/big.pdf")
        with pytest.raises(asyncssh.SFTPError, match="PDF, PNG or JPEG"):
            await sftp.put(str(fake), "uploads/fake.png")
        assert await sftp.listdir("uploads") == [".", ".."]
        # The names stay free for a proper file.
        good = tmp_path / "good.png"
        good.write_bytes(PNG)
        await sftp.put(str(good), "uploads/fake.png")
    assert os.listdir(account_files(account_id(email)).uploads) == ["fake.png"]
    assert [r for r in ssh_log if "refused" in r.getMessage() and "fake.png" in r.getMessage()]


async def test_an_untrusted_key_or_no_key_gets_no_sftp(ssh_server, person, ssh_log):
    port = await ssh_server(per_address_per_minute=20)
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    for key in (stranger, None):
        conn = await open_connection(port, key=key)
        async with conn:
            with pytest.raises(asyncssh.Error):
                await conn.start_sftp_client()
    assert len([r for r in ssh_log if "sftp for an untrusted key" in r.getMessage()]) == 1


async def test_a_key_removed_meanwhile_opens_nothing_more(ssh_server, person, tmp_path):
    from core.accounts import log_on
    from core.security import remove_trusted_key, trusted_keys

    email, key = person
    port = await ssh_server()
    licence = tmp_path / "licence.png"
    licence.write_bytes(PNG)
    conn = await open_connection(port, key=key)
    async with conn, conn.start_sftp_client() as sftp:
        await sftp.put(str(licence), "uploads/one.png")
        token = log_on(email, STRONG_PASSWORD).token
        remove_trusted_key(token, trusted_keys(token)[0].id)
        with pytest.raises(asyncssh.SFTPError, match="no longer"):
            await sftp.put(str(licence), "uploads/two.png")


async def test_one_sftp_session_per_connection(ssh_server, person):
    email, key = person
    port = await ssh_server()
    conn = await open_connection(port, key=key)
    async with conn, conn.start_sftp_client() as sftp:
        assert "uploads" in await sftp.listdir("/")
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.start_sftp_client()
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_process(term_type="xterm", encoding=None)


# -- OpenSSH's own clients, as a person types them -----------------------------------------------

def openssh(tool: str, key_file: Path, port: int) -> list[str]:
    return [f"/usr/bin/{tool}", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-i", str(key_file), "-P", str(port)]


async def run(*command: str, cwd: Path | None = None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode("utf-8", "replace")


@pytest.mark.skipif(not Path("/usr/bin/scp").exists(), reason="needs OpenSSH's scp and sftp")
async def test_an_ssh_user_uploads_a_licence_and_downloads_the_export_with_scp(
        ssh_server, person, tmp_path):
    from core.files import account_files

    email, key = person
    key_file = tmp_path / "id_ed25519"
    key.write_private_key(str(key_file))
    key_file.chmod(0o600)
    export = export_for(email, key)
    port = await ssh_server(per_address_per_minute=20)
    work = tmp_path / "work"
    work.mkdir()
    (work / "licence.png").write_bytes(PNG)

    code, output = await run(*openssh("scp", key_file, port), "licence.png",
                             "x@127.0.0.1:uploads/", cwd=work)
    assert code == 0, output
    assert (account_files(account_id(email)).uploads / "licence.png").read_bytes() == PNG
    code, output = await run(*openssh("scp", key_file, port),
                             f"x@127.0.0.1:exports/{export.name}", ".", cwd=work)
    assert code == 0, output
    assert hashlib.sha256((work / export.name).read_bytes()).digest() == \
        hashlib.sha256(export.read_bytes()).digest()
    # Uploading it again is refused: files there are never replaced. OpenSSH shows its own
    # word for the status ("Failure"); the server's reason comes on the session's stderr.
    code, output = await run(*openssh("scp", key_file, port), "licence.png",
                             "x@127.0.0.1:uploads/", cwd=work)
    assert code != 0 and "licence.png already exists in uploads/" in output, output
    (work / "notes.png").write_text("not a picture\n")
    code, output = await run(*openssh("scp", key_file, port), "notes.png",
                             "x@127.0.0.1:uploads/", cwd=work)
    assert code != 0 and "notes.png: Only PDF, PNG or JPEG files" in output, output
    assert not (account_files(account_id(email)).uploads / "notes.png").exists()
    # Legacy scp (-O: the old protocol, an exec request) is refused with a hint.
    code, output = await run(*openssh("scp", key_file, port), "-O", "licence.png",
                             "x@127.0.0.1:uploads/other.png", cwd=work)
    assert code != 0
    # sftp in batch mode: list, fetch.
    batch = work / "batch"
    batch.write_text(f"ls uploads\nget exports/{export.name} again.json\n")
    code, output = await run(*openssh("sftp", key_file, port), "-b", str(batch),
                             "x@127.0.0.1", cwd=work)
    assert code == 0, output
    assert "licence.png" in output
    assert (work / "again.json").read_bytes() == export.read_bytes()


@pytest.mark.skipif(not Path("/usr/bin/sftp").exists(), reason="needs OpenSSH's sftp")
async def test_openssh_sftp_with_an_untrusted_key_is_told_why(ssh_server, tmp_path):
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_ed25519"
    key.write_private_key(str(key_file))
    key_file.chmod(0o600)
    port = await ssh_server()
    batch = tmp_path / "batch"
    batch.write_text("ls\n")
    code, output = await run(*openssh("sftp", key_file, port), "-b", str(batch),
                             "x@127.0.0.1")
    assert code != 0
    assert "trusted" in output, output
