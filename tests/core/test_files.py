"""An account's file space (SPEC F16, core.files): checked uploads, names that never become
paths, the licence over SSH taken only from the account's uploads, exports where SFTP finds
them, and everything erased with the account."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import STRONG_PASSWORD

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
SSH = "203.0.113.5"


def ssh_session(email: str, fingerprint: str | None = None) -> str:
    from core.accounts import log_on

    return log_on(email, STRONG_PASSWORD, origin=SSH, key_fingerprint=fingerprint).token


def account_id(token: str) -> int:
    from core.sessions import require_account

    return require_account(token).id


def upload(account: int, name: str, data: bytes) -> None:
    from core.files import NewUpload

    new = NewUpload(account, name)
    new.write(0, data)
    new.finish()


def test_an_upload_is_checked_when_complete_and_never_replaces_a_file(active):
    from core.errors import ValidationError
    from core.files import NewUpload, account_files, list_uploads

    token, _ = active
    aid = account_id(token)
    upload(aid, "licence.png", PNG)
    assert [f.name for f in list_uploads(aid)] == ["licence.png"]
    folder = account_files(aid).uploads
    assert (folder / "licence.png").read_bytes() == PNG
    assert os.stat(folder).st_mode & 0o777 == 0o700
    with pytest.raises(FileExistsError):
        NewUpload(aid, "licence.png")
    text = NewUpload(aid, "fake.png")
    text.write(0, b"just some text, not a picture")
    with pytest.raises(ValidationError, match="PDF, PNG or JPEG"):
        text.finish()
    assert [f.name for f in list_uploads(aid)] == ["licence.png"]
    assert sorted(os.listdir(folder)) == ["licence.png"]  # no partial file left


def test_an_upload_cannot_grow_past_10_mb_even_for_a_moment(active):
    from core.errors import ValidationError
    from core.files import UPLOAD_MAX_BYTES, NewUpload, account_files

    aid = account_id(active[0])
    big = NewUpload(aid, "big.pdf")
    big.write(0, b"%PDF-" + b"x" * (UPLOAD_MAX_BYTES - 5))
    with pytest.raises(ValidationError, match="at most 10 MB"):
        big.write(UPLOAD_MAX_BYTES, b"y")
    assert os.listdir(account_files(aid).uploads) == []
    sparse = NewUpload(aid, "sparse.pdf")
    with pytest.raises(ValidationError, match="at most 10 MB"):
        sparse.write(UPLOAD_MAX_BYTES * 100, b"z")


@pytest.mark.parametrize("name", ["../x.png", "a/b.png", "/etc/passwd", ".hidden.png", "..",
                                  "", "x\x00.png", "x\x1b[2J.png", "é" * 150])
def test_a_name_with_a_path_or_control_characters_is_refused(active, name):
    from core.errors import ValidationError
    from core.files import NewUpload

    with pytest.raises(ValidationError):
        NewUpload(account_id(active[0]), name)


def test_a_link_put_into_uploads_is_never_followed(active, tmp_path):
    from core.errors import NotFound
    from core.files import ensure_account_files, list_uploads, open_in_folder

    aid = account_id(active[0])
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    (ensure_account_files(aid).uploads / "link.png").symlink_to(secret)
    assert list_uploads(aid) == ()
    with pytest.raises(NotFound):
        open_in_folder(aid, "uploads", "link.png")


def test_over_ssh_the_licence_is_a_name_in_the_accounts_uploads(active, tmp_path):
    from core.models import RealNameRegistration
    from core.real_name import credit_code_check_char, submit_enterprise

    token, email = active
    remote = ssh_session(email)
    first17 = "91350100MA2XY3QK1"
    code = first17 + credit_code_check_char(first17)
    upload(account_id(token), "licence.png", PNG)
    view = submit_enterprise(remote, "ACME Ltd", code, "Li Lei", "licence.png")
    assert view.status == "pending"
    stored = RealNameRegistration.get().licence_path
    assert Path(stored).read_bytes() == PNG  # a copy, kept with the registration


def test_over_ssh_a_server_path_is_never_read_nor_told_apart(active, tmp_path):
    """The oracle of issue 11: over SSH an existing server file and a missing one give the
    same answer, and neither is copied."""
    from core.config import settings
    from core.errors import ValidationError
    from core.real_name import credit_code_check_char, submit_enterprise

    token, email = active
    remote = ssh_session(email)
    exists = tmp_path / "server-secret.png"
    exists.write_bytes(PNG)
    code = "91350100MA2XY3QK1" + credit_code_check_char("91350100MA2XY3QK1")
    answers = []
    for path in (str(exists), str(tmp_path / "missing.png"), "/etc/passwd",
                 "../../" + exists.name, "~/x.png"):
        with pytest.raises(ValidationError) as refused:
            submit_enterprise(remote, "ACME Ltd", code, "Li Lei", path)
        assert refused.value.field == "rn-licence"
        assert path not in refused.value.message
        answers.append(refused.value.message)
    assert answers[0] == answers[1] == answers[2]  # exists or not: the same words
    assert not settings().uploads_dir.exists() or not any(settings().uploads_dir.iterdir())
    # Locally the path field stays (F16).
    assert submit_enterprise(token, "ACME Ltd", code, "Li Lei", str(exists)).status == "pending"


def test_the_export_goes_to_the_accounts_exports_and_says_how_to_fetch_it(active, monkeypatch):
    from core.config import reset_settings
    from core.files import account_files, export_notice
    from core.security import export_data

    token, email = active
    path = export_data(token)
    assert path.parent == account_files(account_id(token)).exports
    assert export_notice(token, path) == f"Your data was exported to {path}"
    monkeypatch.setenv("CLOUDACCT_SSH_ADDRESS", "console.example:2200")
    reset_settings()
    remote = ssh_session(email)
    notice = export_notice(remote, path)
    assert f"scp -P 2200 console.example:exports/{path.name} ." in notice
    assert str(path.parent) not in notice  # no server path over SSH
    assert "trusted" in notice  # this connection's key is not trusted yet


def test_sftp_is_for_a_key_trusted_by_an_active_account_only(active, clock):
    from core.accounts import sign_up
    from core.files import file_space_for_key
    from core.models import Account, TrustedKey
    from core.security import trust_current_key

    token, email = active
    assert file_space_for_key("SHA256:nobody") is None
    keyed = ssh_session(email, "SHA256:mykey")
    trust_current_key(keyed)
    assert file_space_for_key("SHA256:mykey") == account_id(token)
    # An unverified account's key (however it came to be trusted) opens nothing.
    other = sign_up("SG", "unverified@example.com", STRONG_PASSWORD, STRONG_PASSWORD, True)
    TrustedKey.create(account=account_id(other.token), fingerprint="SHA256:theirs",
                      created_at=clock.now())
    assert file_space_for_key("SHA256:theirs") is None
    # Nor a deleted one's.
    Account.update(status="deleted").where(Account.id == account_id(token)).execute()
    assert file_space_for_key("SHA256:mykey") is None


def test_deleting_the_account_erases_its_file_space(active):
    from core.deletion import request_deletion
    from core.files import account_files
    from core.security import export_data

    token, _ = active
    aid = account_id(token)
    upload(aid, "licence.png", PNG)
    export = export_data(token)
    root = account_files(aid).root
    assert root.exists() and export.exists()
    assert request_deletion(token, STRONG_PASSWORD, True).deleted
    assert not root.exists()
