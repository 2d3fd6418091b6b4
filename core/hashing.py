"""Keyed hashes and password hashing.

Codes, card fingerprints and the audit hash of a deleted email are HMAC-SHA256 under a key kept
in the data directory (created once, mode 0600) or given by `CLOUDACCT_SECRET_KEY` (hex) so that
several machines sharing one database agree. Passwords are argon2id hashes.
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

_key_lock = threading.Lock()
_key: bytes | None = None


def secret_key() -> bytes:
    global _key
    if _key is not None:
        return _key
    with _key_lock:
        if _key is not None:
            return _key
        env = os.environ.get("CLOUDACCT_SECRET_KEY", "").strip()
        if env:
            _key = bytes.fromhex(env)
            return _key
        path = settings().secret_key_path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            _key = bytes.fromhex(path.read_text().strip())
        else:
            key = secrets.token_bytes(32)
            with os.fdopen(fd, "w") as handle:
                handle.write(key.hex())
                handle.flush()
                os.fsync(handle.fileno())
            _key = key
        return _key


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
    from argon2.exceptions import InvalidHashError, VerificationError

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
