"""Which delivered file went to whom, so erasing a person's messages reads only theirs.

The local Maildir and the SMS/voice outbox are stores of their own: F10 erases what they hold
for a deleted account. Parsing every message of everyone to find a person's costs 0.86 ms a
message (90 s per deletion at 100k accounts), so each delivery also appends its file to an index
of the recipient: `<home>/delivered/<keyed hash of the address>`, one path (relative to the home)
a line. The name is a keyed hash, so the index does not list the addresses it serves. Messages
stored before the index existed are indexed once, by the first erasure that finds no index yet.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from core.config import settings

_COMPLETE = ".complete"  # every stored message is in the index (written once, at first use)


def _index_dir() -> Path:
    return settings().home / "delivered"


def recipient_key(address: str) -> str:
    """One name for an address however it was written: an email casefolded with its domain as
    A-label, a phone number as its digits."""
    from core.hashing import keyed_hash

    text = address.strip()
    if "@" in text:
        from core.delivery.email import ascii_address

        normal = ascii_address(text.casefold()).casefold()
    else:
        normal = re.sub(r"\D", "", text)
    return keyed_hash("delivered-to", normal)[:40]


def _append(key: str, relative: str) -> None:
    from core.private_files import private_dir

    directory = private_dir(_index_dir())
    fd = os.open(directory / key, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, (relative + "\n").encode("utf-8"))
    finally:
        os.close(fd)


def note_delivery(addresses: Iterable[str], path: Path) -> None:
    """Record that the file at `path` (under the home) went to `addresses`. Called before the
    file is put in place, so a crash in between leaves a line to nothing, never a message
    nobody could erase."""
    _ensure_index()
    relative = path.relative_to(settings().home).as_posix()
    for key in {recipient_key(a) for a in addresses if a.strip()}:
        _append(key, relative)


def _stored_files() -> Iterable[tuple[Path, list[str]]]:
    """Every message stored today and its recipients (the one full read, for the backfill)."""
    import email
    import email.policy
    import json

    home = settings()
    for folder in ("new", "cur"):
        directory = home.maildir / folder
        if not directory.is_dir():
            continue
        for item in directory.iterdir():
            try:
                with item.open("rb") as handle:
                    headers = email.message_from_binary_file(handle, policy=email.policy.default)
                yield item, [a for a in str(headers["To"] or "").split(",") if a.strip()]
            except (OSError, ValueError):
                continue
    if home.outbox_dir.is_dir():
        for item in home.outbox_dir.glob("*.json"):
            try:
                yield item, [str(json.loads(item.read_text(encoding="utf-8")).get("to", ""))]
            except (OSError, ValueError, AttributeError):
                continue


def _ensure_index() -> None:
    """Index what was stored before the index existed (once per home)."""
    from core.private_files import private_dir

    marker = _index_dir() / _COMPLETE
    if marker.exists():
        return
    private_dir(_index_dir())
    home = settings().home
    for path, addresses in _stored_files():
        relative = path.relative_to(home).as_posix()
        for key in {recipient_key(a) for a in addresses}:
            _append(key, relative)
    marker.touch(mode=0o600)


def _remove_delivered(relative: str) -> bool:
    """Remove one delivered file; a Maildir message a mail client moved to `cur/` (with its
    `:2,` flags) is found by its unique name."""
    home = settings().home
    path = home / relative
    if ".." in Path(relative).parts:
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
        return True
    if path.parent.name == "new":
        moved = path.parent.parent / "cur"
        with contextlib.suppress(OSError):
            for entry in os.scandir(moved):
                if entry.name.split(":", 1)[0] == path.name:
                    os.unlink(entry.path)
                    return True
    return False


def erase_deliveries(addresses: Iterable[str]) -> int:
    """Remove every stored message to `addresses` and their index; the number removed."""
    wanted = {recipient_key(a) for a in addresses if a.strip()}
    if not wanted:
        return 0
    _ensure_index()
    removed = 0
    for key in wanted:
        index = _index_dir() / key
        try:
            lines = index.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            continue
        for relative in dict.fromkeys(line for line in lines if line):
            removed += _remove_delivered(relative)
        with contextlib.suppress(FileNotFoundError):
            index.unlink()
    return removed
