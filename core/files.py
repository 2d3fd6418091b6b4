"""An account's own file space (SPEC F16): what a person reaches over SFTP, and nothing more.

Layout: `<data directory>/files/<account id>/` with three folders:
- `uploads/`: files the person sent (new files only, at most 10 MB each, PDF/PNG/JPEG by their
  first bytes); the real-name form offers them for the business licence.
- `exports/`: the data export of F9 (read only for the person).
- `statements/`: the documents of F17 (read only for the person).

This module owns those folders: their paths, the listing of uploads, the checked writing of
a new upload (`NewUpload`: the size is enforced while writing, the type once it is complete, and
a file that fails is removed), opening an upload by name for the real-name flow, and erasing
an account's files when the account is deleted. It never follows a symbolic link and never
accepts a name with a path in it, so no name a person gives reaches outside their own folder.

Whether a session is local or over SSH comes from the session's origin, which the console
records from what the SSH server established (never from anything the client sends).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.config import settings
from core.errors import NotFound, Refused, ValidationError
from core.i18n import N_, phrase
from core.wording import verbatim

FOLDERS = ("uploads", "exports", "statements")
UPLOAD_MAX_BYTES = 10 * 1024 * 1024
UPLOADS_MAX_FILES = 50
"""Uploads cannot be deleted by the person (new files only): a bound on what one account can
leave on the server's disk (50 × 10 MB)."""
NAME_MAX_BYTES = 200
PARTIAL_PREFIX = ".partial-"
"""Hidden names hold uploads still being written; they are never listed nor offered."""

DOCUMENT_KINDS = (  # (magic bytes, extension, label)
    (b"%PDF-", "pdf", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "png", "PNG"),
    (b"\xff\xd8\xff", "jpg", "JPEG"),
)
TOO_LARGE = N_("The file is too large: at most 10 MB.")
NOT_A_DOCUMENT = N_("Only PDF, PNG or JPEG files can be uploaded (checked by their first "
                    "bytes).")


def document_kind(head: bytes) -> tuple[str, str] | None:
    """(extension, label) of a PDF, PNG or JPEG by its first bytes, else None."""
    for magic, ext, label in DOCUMENT_KINDS:
        if head.startswith(magic):
            return ext, label
    return None


@dataclass(frozen=True)
class AccountFiles:
    """The folders of one account's file space."""

    account_id: int
    root: Path

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def statements(self) -> Path:
        return self.root / "statements"

    def folder(self, name: str) -> Path:
        if name not in FOLDERS:
            raise NotFound("There is no such folder.")
        return self.root / name


def files_root() -> Path:
    return settings().home / "files"


def account_files(account_id: int) -> AccountFiles:
    return AccountFiles(int(account_id), files_root() / str(int(account_id)))


def _make_private_dir(path: Path) -> None:
    """A directory of ours, mode 0700, never a symbolic link (one put there is refused)."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(f"{path} is not a directory")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)


def ensure_account_files(account_id: int) -> AccountFiles:
    """The account's folders, created (0700) when missing."""
    from core.private_files import private_dir

    space = account_files(account_id)
    private_dir(settings().home)
    _make_private_dir(files_root())
    _make_private_dir(space.root)
    for name in FOLDERS:
        _make_private_dir(space.folder(name))
    return space


def check_file_name(name: str | bytes | None, field: str = "file") -> str:
    """A plain file name as a person gives it: no folder in it, not hidden, printable, at most
    200 bytes. Never a path: a name with `/` is refused rather than resolved."""
    if isinstance(name, bytes):
        try:
            name = name.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("File names must be UTF-8 text.", field) from None
    value = name or ""
    if not value or value in (".", ".."):
        raise ValidationError("Give the file a name.", field)
    if "/" in value or "\\" in value:
        raise ValidationError("Give a file name without folders in it.", field)
    if value.startswith("."):
        raise ValidationError("File names cannot start with a dot.", field)
    if not value.isprintable():
        raise ValidationError("File names cannot contain control or invisible characters.",
                              field)
    if len(value.encode("utf-8")) > NAME_MAX_BYTES:
        raise ValidationError(phrase("File names are at most {most} bytes long.",
                                   most=NAME_MAX_BYTES), field)
    return value


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    modified_at: datetime  # naive UTC, like everything in core


def list_folder(account_id: int, folder: str) -> tuple[StoredFile, ...]:
    """The regular files of one folder, by name (hidden, partial and linked entries left out)."""
    directory = account_files(account_id).folder(folder)
    found = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return ()
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        found.append(StoredFile(entry.name, info.st_size, datetime.fromtimestamp(
            info.st_mtime, UTC).replace(tzinfo=None)))
    return tuple(sorted(found, key=lambda f: f.name))


def list_uploads(account_id: int) -> tuple[StoredFile, ...]:
    return list_folder(account_id, "uploads")


def open_in_folder(account_id: int, folder: str, name: str, field: str = "file") -> int:
    """A read-only descriptor of a regular file in one of the account's folders, opened
    without following links; NotFound when there is no such file there."""
    clean = check_file_name(name, field)
    directory = account_files(account_id).folder(folder)
    try:
        dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        raise NotFound(phrase("There is no file {name} in {folder}/.", name=clean, folder=folder),
                       field) from None
    try:
        fd = os.open(clean, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
    except OSError:
        raise NotFound(phrase("There is no file {name} in {folder}/.", name=clean, folder=folder),
                       field) from None
    finally:
        os.close(dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotFound(phrase("There is no file {name} in {folder}/.", name=clean, folder=folder),
                       field)
    os.set_blocking(fd, True)
    return fd


class NewUpload:
    """One file being uploaded into `uploads/`: written under a hidden name, at most 10 MB
    (a write past that is refused, so the file never grows beyond it), and only once complete
    checked and given its name — without replacing anything (a link, which fails if the name
    exists). A file that fails any check is removed."""

    def __init__(self, account_id: int, name: str | bytes) -> None:
        self.name = check_file_name(name)
        self.space = ensure_account_files(account_id)
        self.final = self.space.uploads / self.name
        if os.path.lexists(self.final):
            raise FileExistsError(f"{self.name} already exists in uploads/ (files there "
                                  "cannot be replaced: upload it under another name).")
        if len(list_uploads(account_id)) >= UPLOADS_MAX_FILES:
            raise Refused(phrase("uploads/ already holds {most} files, the most it can.",
                                most=UPLOADS_MAX_FILES))
        self.partial = self.space.uploads / f"{PARTIAL_PREFIX}{secrets.token_hex(8)}"
        self.fd: int | None = os.open(
            self.partial, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self.size = 0

    def write(self, offset: int, data: bytes) -> int:
        if self.fd is None:
            raise Refused("This upload has already ended.")
        if offset < 0 or offset + len(data) > UPLOAD_MAX_BYTES:
            self.abandon()
            raise ValidationError(TOO_LARGE, "file")
        written = os.pwrite(self.fd, data, offset)
        self.size = max(self.size, offset + written)
        return written

    def finish(self) -> StoredFile:
        """The upload is complete: check it and give it its name (or remove it and say why)."""
        if self.fd is None:
            raise Refused("This upload has already ended.")
        fd, self.fd = self.fd, None
        try:
            os.fsync(fd)
            head = os.pread(fd, 16, 0)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        try:
            if size > UPLOAD_MAX_BYTES:
                raise ValidationError(TOO_LARGE, "file")
            if document_kind(head) is None:
                raise ValidationError(NOT_A_DOCUMENT, "file")
            try:
                os.link(self.partial, self.final, follow_symlinks=False)
            except FileExistsError:
                raise FileExistsError(f"{self.name} already exists in uploads/.") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.partial)
        info = os.lstat(self.final)
        return StoredFile(self.name, info.st_size, datetime.fromtimestamp(
            info.st_mtime, UTC).replace(tzinfo=None))

    def abandon(self) -> None:
        """Throw the partial file away (a refused write, a client that went away)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.partial)


def remove_partial_uploads(account_id: int) -> int:
    """Partial files left by a server that stopped mid-upload."""
    removed = 0
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(account_files(account_id).uploads):
            if entry.name.startswith(PARTIAL_PREFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def erase_account_files(account_id: int) -> int:
    """Remove the account's whole file space (F10); returns how many files were removed."""
    root = account_files(account_id).root
    count = 0
    for _dirpath, _dirs, names in os.walk(root):
        count += len(names)
    shutil.rmtree(root, ignore_errors=True)
    return count


# --- who may open a file space over SFTP ------------------------------------------------------

def file_space_for_key(fingerprint: str | None) -> int | None:
    """The account whose file space an SSH connection with this key may open over SFTP (F16):
    an `active` (or `deletion_pending`, which may still fetch its export) account trusting the
    key, and only when exactly one does; else None. The same rule as a log-on by key (F11)."""
    from core.models import Account, TrustedKey

    if not fingerprint or len(fingerprint) > 100:
        return None
    # One read, no write lock: it is asked for every key a client offers.
    owners = {row.account_id for row in
              TrustedKey.select(TrustedKey.account).join(Account)
              .where(TrustedKey.fingerprint == fingerprint,
                     Account.status.in_(("active", "deletion_pending")))}
    return owners.pop() if len(owners) == 1 else None


# --- where a session is, and what it tells the person -----------------------------------------

def session_is_remote(token: str | None) -> bool:
    """True unless the session is a local console. The origin is what the console recorded
    when the session started: "local", or the SSH peer address `serve-ssh` passed it."""
    from core.sessions import resolve_session

    return resolve_session(token, touch=False).origin != "local"


def _ssh_target() -> tuple[str, int] | None:
    """Host and port people connect to, as `serve-ssh` told this console (None if unknown)."""
    raw = settings().ssh_address
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _scp_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def fetch_command(folder: str, name: str) -> str:
    """The scp command that copies `folder/name` from this server to the current directory."""
    target = _ssh_target()
    host, port = target if target else ("HOST", 2222)
    return f"scp -P {port} {_scp_host(host)}:{folder}/{name} ."


def upload_command(name: str = "licence.pdf") -> str:
    target = _ssh_target()
    host, port = target if target else ("HOST", 2222)
    return f"scp -P {port} {name} {_scp_host(host)}:uploads/"


def sftp_command() -> str:
    target = _ssh_target()
    host, port = target if target else ("HOST", 2222)
    return f"sftp -P {port} {_scp_host(host)}"


def _key_is_trusted(token: str | None) -> bool:
    """The current session's SSH key is trusted by its account (SFTP is open to it)."""
    from core.models import TrustedKey
    from core.sessions import resolve_session

    info = resolve_session(token, touch=False)
    if not info.key_fingerprint or info.account_id is None:
        return False
    return TrustedKey.select().where(TrustedKey.account == info.account_id,
                                     TrustedKey.fingerprint == info.key_fingerprint).exists()


def files_over_ssh_hint(token: str | None) -> str:
    """How a person over SSH reaches their file space, or what they must do first."""
    if _key_is_trusted(token):
        # Translators: completes "Fetch it {how}:" / "Upload a PDF, PNG or JPEG {how}:".
        return N_("with the key you connected with")
    # Translators: completes "Fetch it {how}:" / "Upload a PDF, PNG or JPEG {how}:".
    return N_("once this connection's key is trusted (Security settings, Trust this key; "
              "SFTP is open only to trusted keys)")


def export_notice(token: str | None, path: Path) -> str:
    """What the Security screen says after an export: locally where the file is; over SSH
    (no server path is of use there) the command that fetches it."""
    if not session_is_remote(token):
        return phrase("Your data was exported to {path}", path=verbatim(path))
    return phrase("Your data was exported to exports/{name}.\nFetch it {how}:\n  {fetch}\n"
                  "or: {sftp}, then: get exports/{name}", name=verbatim(path.name),
                  how=files_over_ssh_hint(token),
                  fetch=verbatim(fetch_command("exports", path.name)),
                  sftp=verbatim(sftp_command()))


@dataclass(frozen=True)
class UploadsView:
    """What the real-name form offers over SSH: the files uploaded, and how to add one."""

    files: tuple[StoredFile, ...]
    how_to_upload: str


def uploads_view(token: str | None) -> UploadsView:
    from core.sessions import require_account

    account = require_account(token)
    return UploadsView(list_uploads(account.id),
                       phrase("Upload a PDF, PNG or JPEG {how}:\n  {command}",
                              how=files_over_ssh_hint(token),
                              command=verbatim(upload_command())))
