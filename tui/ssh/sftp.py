"""SFTP into one account's file space (SPEC F16), on asyncssh's SFTP server.

asyncssh's `SFTPServer` does the protocol (and OpenSSH's `sftp` and `scp`, which speaks SFTP
since OpenSSH 9.0); this subclass decides every operation itself instead of mapping paths onto
the server's disk. The client sees a small virtual tree:

    /               read only: uploads/, exports/, statements/ and nothing else
    /uploads/NAME   new files only: created, written (at most 10 MB, refused while writing),
                    checked once closed (PDF/PNG/JPEG by their first bytes, core.files) and
                    removed with an error to the client if they fail; never overwritten,
                    removed, renamed, linked or changed
    /exports/NAME, /statements/NAME   read only

A path is parsed, never resolved on disk: `..` cannot climb above `/`, an absolute path is one
inside this tree, a name with anything but a plain file name in it does not exist, and every
file is opened without following links. Nothing outside the account's folders is reachable.
What the person may do is asked again of the database (the key still trusted by a live account)
before every file is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import posixpath
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncssh

from core.errors import DomainError, NotFound
from core.files import FOLDERS, NewUpload, account_files, check_file_name, open_in_folder

log = logging.getLogger("cloudacct.ssh")

MAX_OPEN_FILES = 2
"""Files one SFTP session may hold open at once (a client transfers one at a time): with the
connection's socket, what the descriptor budget of tui/ssh/limits.py counts per connection."""
READ_ONLY = "exports/ and statements/ are read only; new files go in uploads/."
NO_CHANGES = ("Files here cannot be removed, renamed, linked or changed; new files go in "
              "uploads/.")


class ReadHandle:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """For asyncssh's ranges extension (which asks where a file's data is)."""
        return os.lseek(self.fd, offset, whence)


class UploadHandle:
    def __init__(self, upload: NewUpload) -> None:
        self.upload = upload
        self.failure: str | None = None

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        raise OSError(errno.EACCES, "Files being uploaded cannot be read.")


def upload_name(handle: UploadHandle) -> str:
    return handle.upload.name


class AccountFilesSFTP(asyncssh.SFTPServer):
    """One SFTP session, jailed to the file space of `account_id`."""

    def __init__(self, chan: asyncssh.SSHServerChannel, account_id: int, *,
                 still_allowed: Callable[[], Awaitable[bool]],
                 client_gone: Callable[[], bool], address: str,
                 on_exit: Callable[[AccountFilesSFTP], None] | None = None,
                 publish_documents: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__(chan)
        self._publish_documents = publish_documents
        self._published = False
        self.account_id = account_id
        self.space = account_files(account_id)
        self._still_allowed = still_allowed
        self._client_gone = client_gone
        self._on_exit = on_exit
        self.address = address
        self.open_files = 0
        self.last_activity = time.monotonic()
        self.uploads = 0
        self.downloads = 0

    def _tell(self, message: str) -> str:
        """Say why on the channel's stderr too: OpenSSH's sftp and scp show only their own word
        for a status ("Failure"), while ssh prints the session's stderr to the person."""
        with contextlib.suppress(Exception):
            self.channel.write_stderr(f"cloudacct: {message}\n".encode())
        return message

    # -- paths -------------------------------------------------------------------------------

    def _parts(self, path: bytes) -> list[str]:
        """The path as a list of names in the virtual tree (`..` never climbs above `/`)."""
        self.last_activity = time.monotonic()
        normal = posixpath.normpath(posixpath.join(b"/", path))
        try:
            return [part.decode("utf-8") for part in normal.split(b"/") if part]
        except UnicodeDecodeError:
            raise asyncssh.SFTPNoSuchFile("No such file") from None

    def _file(self, path: bytes) -> tuple[str, str]:
        """(folder, name) of a file path, or the SFTP error saying why it is none."""
        parts = self._parts(path)
        if not parts or (len(parts) == 1 and parts[0] in FOLDERS):
            raise asyncssh.SFTPFileIsADirectory("That is a folder")
        if len(parts) != 2 or parts[0] not in FOLDERS:
            raise asyncssh.SFTPNoSuchFile("No such file: the folders here are " +
                                          ", ".join(f"{f}/" for f in FOLDERS))
        try:
            name = check_file_name(parts[1])
        except DomainError as exc:
            raise asyncssh.SFTPNoSuchFile(exc.message) from None
        return parts[0], name

    async def _check_allowed(self, folder: str | None = None) -> None:
        if not await self._still_allowed():
            raise asyncssh.SFTPPermissionDenied(
                "This key no longer opens an active account's files.")
        if folder == "statements" and not self._published and self._publish_documents:
            self._published = True  # once a session: the documents as they are now
            await self._publish_documents()

    # -- attributes --------------------------------------------------------------------------

    @staticmethod
    def _dir_attrs(writable: bool = False) -> asyncssh.SFTPAttrs:
        mode = stat.S_IFDIR | (0o700 if writable else 0o500)
        return asyncssh.SFTPAttrs(type=asyncssh.FILEXFER_TYPE_DIRECTORY, permissions=mode,
                                  size=0, nlink=2)

    @staticmethod
    def _file_attrs(info: os.stat_result) -> asyncssh.SFTPAttrs:
        # Sizes and times only: never the server's user and group ids.
        return asyncssh.SFTPAttrs(type=asyncssh.FILEXFER_TYPE_REGULAR, size=info.st_size,
                                  permissions=stat.S_IFREG | 0o400, nlink=1,
                                  atime=int(info.st_atime), mtime=int(info.st_mtime))

    def _stat_file(self, folder: str, name: str) -> asyncssh.SFTPAttrs:
        try:
            info = os.lstat(self.space.folder(folder) / name)
        except OSError:
            raise asyncssh.SFTPNoSuchFile("No such file") from None
        if not stat.S_ISREG(info.st_mode):
            raise asyncssh.SFTPNoSuchFile("No such file")
        return self._file_attrs(info)

    async def stat(self, path: bytes) -> asyncssh.SFTPAttrs:
        parts = self._parts(path)
        if not parts:
            return self._dir_attrs()
        if len(parts) == 1 and parts[0] in FOLDERS:
            return self._dir_attrs(writable=parts[0] == "uploads")
        folder, name = self._file(path)
        if folder == "statements":  # scp looks before it reads: publish first
            await self._check_allowed(folder)
        return self._stat_file(folder, name)

    lstat = stat  # there are no links in this tree

    def fstat(self, file_obj: object) -> asyncssh.SFTPAttrs:
        if isinstance(file_obj, ReadHandle):
            return self._file_attrs(os.fstat(file_obj.fd))
        if isinstance(file_obj, UploadHandle):
            return asyncssh.SFTPAttrs(type=asyncssh.FILEXFER_TYPE_REGULAR,
                                      size=file_obj.upload.size,
                                      permissions=stat.S_IFREG | 0o600)
        raise asyncssh.SFTPNoSuchFile("No such file")

    def realpath(self, path: bytes) -> bytes:
        return ("/" + "/".join(self._parts(path))).encode("utf-8")

    def format_user(self, uid: int | None) -> str:
        return "-"

    def format_group(self, gid: int | None) -> str:
        return "-"

    async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
        """A folder's listing, read at once (no descriptor stays open between requests)."""
        parts = self._parts(path)
        if not parts:
            names = [asyncssh.SFTPName(b".", attrs=self._dir_attrs()),
                     asyncssh.SFTPName(b"..", attrs=self._dir_attrs())]
            names += [asyncssh.SFTPName(f.encode(), attrs=self._dir_attrs(f == "uploads"))
                      for f in FOLDERS]
        elif len(parts) == 1 and parts[0] in FOLDERS:
            await self._check_allowed(parts[0])
            from core.files import list_folder

            names = [asyncssh.SFTPName(b".", attrs=self._dir_attrs(parts[0] == "uploads")),
                     asyncssh.SFTPName(b"..", attrs=self._dir_attrs())]
            for item in list_folder(self.account_id, parts[0]):
                with contextlib.suppress(asyncssh.SFTPError):
                    names.append(asyncssh.SFTPName(item.name.encode("utf-8"),
                                                   attrs=self._stat_file(parts[0], item.name)))
        else:
            self._file(path)  # raises the right error
            raise asyncssh.SFTPNotADirectory("Not a folder")
        for name in names:
            yield name

    # -- files -------------------------------------------------------------------------------

    async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        folder, name = self._file(path)
        writing = bool(pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT
                                 | asyncssh.FXF_TRUNC))
        if writing and folder != "uploads":
            raise asyncssh.SFTPPermissionDenied(self._tell(READ_ONLY))
        if self.open_files >= MAX_OPEN_FILES:
            raise asyncssh.SFTPFailure(f"At most {MAX_OPEN_FILES} files open at once.")
        await self._check_allowed(folder)
        if writing:
            try:
                upload = NewUpload(self.account_id, name)
            except FileExistsError as exc:
                raise asyncssh.SFTPFileAlreadyExists(self._tell(str(exc))) from None
            except DomainError as exc:
                raise asyncssh.SFTPFailure(self._tell(exc.message)) from None
            except OSError:
                raise asyncssh.SFTPFailure("The upload could not be started.") from None
            self.open_files += 1
            return UploadHandle(upload)
        try:
            fd = open_in_folder(self.account_id, folder, name)
        except NotFound:
            raise asyncssh.SFTPNoSuchFile("No such file") from None
        self.open_files += 1
        self.downloads += 1
        return ReadHandle(fd)

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        self.last_activity = time.monotonic()
        if not isinstance(file_obj, ReadHandle):
            raise asyncssh.SFTPPermissionDenied("Files being uploaded cannot be read.")
        return os.pread(file_obj.fd, size, offset)

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        self.last_activity = time.monotonic()
        if not isinstance(file_obj, UploadHandle):
            raise asyncssh.SFTPPermissionDenied(READ_ONLY)
        if file_obj.failure:
            raise asyncssh.SFTPFailure(file_obj.failure)
        try:
            return file_obj.upload.write(offset, data)
        except DomainError as exc:
            file_obj.failure = exc.message  # the partial file is gone already
            raise asyncssh.SFTPFailure(self._tell(f"{upload_name(file_obj)}: {exc.message}")) \
                from None
        except OSError:
            file_obj.upload.abandon()
            file_obj.failure = "The upload could not be written."
            raise asyncssh.SFTPFailure(file_obj.failure) from None

    def close(self, file_obj: object) -> None:
        if isinstance(file_obj, ReadHandle):
            self.open_files -= 1
            os.close(file_obj.fd)
            return
        if not isinstance(file_obj, UploadHandle):
            return
        self.open_files -= 1
        upload = file_obj.upload
        if file_obj.failure:
            raise asyncssh.SFTPFailure(file_obj.failure)
        if self._client_gone():
            upload.abandon()  # cut off mid-way: a prefix that looks like a PNG is no upload
            log.info("sftp %s account=%s upload of %r cut off: removed", self.address,
                     self.account_id, upload.name[:80])
            return
        try:
            stored = upload.finish()
        except FileExistsError as exc:
            raise asyncssh.SFTPFileAlreadyExists(self._tell(str(exc))) from None
        except DomainError as exc:
            log.info("sftp %s account=%s upload of %r refused: %s", self.address,
                     self.account_id, upload.name[:80], exc.message)
            raise asyncssh.SFTPFailure(self._tell(
                f"{upload.name}: {exc.message} It was removed.")) from None
        except OSError:
            upload.abandon()
            raise asyncssh.SFTPFailure("The upload could not be completed.") from None
        self.uploads += 1
        log.info("sftp %s account=%s uploaded %r (%d bytes)", self.address, self.account_id,
                 stored.name[:80], stored.size)

    def fsync(self, file_obj: object) -> None:
        if isinstance(file_obj, UploadHandle) and file_obj.upload.fd is not None:
            os.fsync(file_obj.upload.fd)

    # -- everything else is refused ----------------------------------------------------------

    def _refuse(self, *_args: object) -> None:
        raise asyncssh.SFTPPermissionDenied(self._tell(NO_CHANGES))

    def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        """An upload's mode or times, which OpenSSH's scp always sends: accepted and not
        applied (every file here is the server's 0600, with the time it arrived)."""
        if not isinstance(file_obj, UploadHandle):
            self._refuse()

    setstat = lsetstat = remove = rename = posix_rename = _refuse
    mkdir = rmdir = symlink = link = _refuse

    def readlink(self, path: bytes) -> bytes:
        raise asyncssh.SFTPNoSuchFile("There are no links here.")

    def statvfs(self, path: bytes) -> object:
        raise asyncssh.SFTPOpUnsupported("Not available.")

    def fstatvfs(self, file_obj: object) -> object:
        raise asyncssh.SFTPOpUnsupported("Not available.")

    def exit(self) -> None:
        if self._on_exit is not None:
            self._on_exit(self)


async def watch_idle(server: AccountFilesSFTP, chan: asyncssh.SSHServerChannel,
                     idle_timeout_s: float) -> None:
    """Close an SFTP session that has asked for nothing for `idle_timeout_s`."""
    while not chan.is_closing():
        remaining = server.last_activity + idle_timeout_s - time.monotonic()
        if remaining <= 0:
            with contextlib.suppress(Exception):
                chan.write_stderr(b"Disconnected after a long time without activity.\r\n")
            chan.close()
            return
        await asyncio.sleep(min(remaining, 30.0))
