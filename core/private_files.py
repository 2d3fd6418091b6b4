"""The data directory is its owner's alone: every directory 0700, every file 0600.

It holds ID numbers, addresses, live codes, the host key and secret.key, so no file in it may
be readable by the group or others, whatever the umask of whoever started cloudacct. Three
layers, so that no single forgotten call leaves a file open:

- `keep_files_private()` sets the process umask to 0o077 at the start of every entry point (the
  `cloudacct` command, `CloudAcctApp()` through `core.db.init_database`); whatever creates a
  file after it (SQLite's -wal/-shm, logging, asyncssh, a library) makes it private, and the
  SSH server's forked consoles inherit it;
- the stores create what they own with explicit modes (`private_dir`, `private_file`), which
  hold even under a loose umask;
- `secure_home()` tightens a data directory an older version left open (0755, files 0644).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600

# What cloudacct keeps in its data directory. Only these are tightened when an older home is
# found open: CLOUDACCT_HOME may be a directory that holds other things too.
OWN_DIRECTORIES = frozenset({"Maildir", "outbox", "delivered", "uploads", "exports",
                             "statements", "files"})
OWN_FILE_PREFIXES = ("cloudacct", "sandbox-gateway", "secret.key", "ssh_host_")
LOG_NAME = "cloudacct.log"


def keep_files_private() -> None:
    """Make every file this process creates from now on private to its user."""
    old = os.umask(PRIVATE_UMASK)
    if old | PRIVATE_UMASK != PRIVATE_UMASK:
        os.umask(old | PRIVATE_UMASK)  # keep any stricter bits the operator chose


def private_dir(path: Path) -> Path:
    """`path` as a directory, created (with any missing parents) mode 0700."""
    if path.is_dir():
        return path
    missing: list[Path] = []
    at = path
    while not at.exists() and at != at.parent:
        missing.append(at)
        at = at.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it is missing; tighten it if it is open.

    Made before SQLite opens a database file, because SQLite gives the -wal and -shm files
    the mode of the database file."""
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        info = os.fstat(fd)
        if info.st_mode & 0o077 and info.st_uid == os.geteuid():
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & ~0o077)
    finally:
        os.close(fd)
    return path


def secure_home(home: Path) -> Path:
    """The data directory, created 0700 (with the log file 0600), or tightened when an older
    version left it or its files open to others. Raises OSError when it cannot be made."""
    keep_files_private()
    private_dir(home)
    _tighten(home, walk=False)
    with os.scandir(home) as entries:
        for entry in entries:
            if _is_own(entry.name, entry.is_dir(follow_symlinks=False)):
                _tighten(Path(entry.path))
    log = home / LOG_NAME
    if not log.exists():
        os.close(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE))
    return home


def _tighten(path: Path, *, walk: bool = True) -> None:
    """Remove group/other bits from `path` and, if it was an open directory, from what it
    holds (a directory already 0700 is not walked: what cloudacct made in it is private).

    Never follows a symbolic link, and leaves alone what belongs to another user or a shared
    sticky directory (a home of /tmp keeps /tmp's mode)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    mode = stat.S_IMODE(info.st_mode)
    if not mode & 0o077 or mode & stat.S_ISVTX:
        return
    os.chmod(path, mode & ~0o077)
    if walk and stat.S_ISDIR(info.st_mode):
        with os.scandir(path) as entries:
            for entry in entries:
                _tighten(Path(entry.path))


def _is_own(name: str, is_dir: bool) -> bool:
    if is_dir:
        return name in OWN_DIRECTORIES
    return name.startswith(OWN_FILE_PREFIXES)
