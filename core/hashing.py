"""Keyed hashes and password hashing.

Codes, PayPal/Paytm fingerprints and the audit hash of a deleted email are HMAC-SHA256 under a
key kept in the data directory (created once, mode 0600) or given by `CLOUDACCT_SECRET_KEY`
(hex) so that several machines sharing one database agree. Card fingerprints are the gateway's
(core.payments), never made under this key. Passwords are argon2id hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import unicodedata
from functools import lru_cache

from core.config import settings
from core.i18n import phrase
from core.wording import verbatim

_key_lock = threading.Lock()
_key: bytes | None = None
_key_settings: object = None
"""The settings `_key` was read under: new settings (another home) mean another key."""


def secret_key() -> bytes:
    """The key of every keyed hash: CLOUDACCT_SECRET_KEY, or secret.key in the data directory
    (made once, 0600, in a 0700 directory). A damaged one is a StorageError saying so."""
    global _key, _key_settings
    current = settings()
    if _key is not None and _key_settings is current:
        return _key
    with _key_lock:
        if _key is not None and _key_settings is current:
            return _key
        _key, _key_settings = None, current
        if current.secret_key_hex:
            _key = _key_from_hex(current.secret_key_hex, "CLOUDACCT_SECRET_KEY")
            return _key
        from core.private_files import private_dir

        path = current.secret_key_path
        private_dir(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            _key = _key_from_hex(path.read_text(errors="replace").strip(), str(path))
        else:
            key = secrets.token_bytes(32)
            with os.fdopen(fd, "w") as handle:
                handle.write(key.hex())
                handle.flush()
                os.fsync(handle.fileno())
            _key = key
        return _key


def _key_from_hex(text: str, where: str) -> bytes:
    from core.errors import StorageError

    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise StorageError(phrase("the secret key in {where} is damaged (it must be at least "
                                  "32 hex digits); restore it from a backup: codes and keyed "
                                  "hashes depend on it", where=verbatim(where)))
    return key


def forget_secret_key() -> None:
    """Drop the cached key (tests switch data directories)."""
    global _key
    _key = None


def keyed_hash(*parts: str) -> str:
    """HMAC-SHA256 of the parts, joined unambiguously, as hex."""
    message = "\x1f".join(parts).encode("utf-8")
    return hmac.new(secret_key(), message, hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """Session tokens are 256-bit random: a plain SHA-256 is enough to not store them."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def normalise_password(password: str) -> str:
    """NFKC, so the NFC and NFD spellings of one password are the same password."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=4)
def _hasher(profile: str):
    from argon2 import PasswordHasher

    if profile == "test":
        # Fast and weak: only for the test suite (CLOUDACCT_HASH_PROFILE=test).
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    """argon2id hash of the NFKC form. Slow on purpose: call it off the UI thread."""
    return _hasher(settings().hash_profile).hash(normalise_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Does `password` match? A text that is not valid Unicode (a lone surrogate) never does:
    no stored password can hold one, as it cannot be hashed; it is a wrong password, not an
    UnicodeEncodeError, on every path that re-enters a password."""
    from argon2.exceptions import InvalidHashError, VerificationError

    from core.validation import is_valid_text

    if not is_valid_text(password):
        return False
    try:
        return _hasher(settings().hash_profile).verify(
            password_hash, normalise_password(password)
        )
    except (VerificationError, InvalidHashError):
        return False


# An argon2id hash of a password nobody knows, per hash profile, made once with the profile's
# parameters: verifying against it costs what verifying a real hash costs, from the very first
# log-on attempt of every console (a hash built on first use made the first attempt for an
# unknown email ~250 ms slower, in every forked SSH console). Should the hasher's parameters
# ever differ from these, `_dummy_hash` builds one instead, and `prepare_equal_time` lets a
# console build it ahead of the first attempt.
_DUMMY_HASHES = {
    "production": "$argon2id$v=19$m=65536,t=3,p=4$FfdLqD5wjKuqXnYFXN/P2w$"
                  "834AvdQjZ9gkCrp9QiHoJfxkhnceKtzXrfXlVM1yk4w",
    "test": "$argon2id$v=19$m=8,t=1,p=1$DRSck4y+6N6NhqRH53FTOg$"
            "YzjUnyPTzSA2k61jzl7fL64zJbxNOaKvGD/+0i5RSoY",
}


def _fits(hasher, password_hash: str) -> bool:
    from argon2 import extract_parameters

    params = extract_parameters(password_hash)
    return (params.type, params.time_cost, params.memory_cost, params.parallelism,
            params.hash_len, params.salt_len) == (
        hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism,
        hasher.hash_len, hasher.salt_len)


@lru_cache(maxsize=2)
def _dummy_hash(profile: str) -> str:
    hasher = _hasher(profile)
    ready = _DUMMY_HASHES.get(profile)
    if ready is not None and _fits(hasher, ready):
        return ready
    return hasher.hash("not a password of anyone " + secrets.token_hex(8))


def prepare_equal_time() -> None:
    """Have the dummy hash (and the hasher) ready before the first log-on attempt."""
    _dummy_hash(settings().hash_profile)


def spend_equal_time(password: str) -> None:
    """Verify against a dummy hash, so an unknown email takes as long as a known one."""
    verify_password(_dummy_hash(settings().hash_profile), password)
