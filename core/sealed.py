"""Secrets that must be read back (an MFA device's TOTP secret), sealed with AES-GCM.

A keyed hash (core.hashing) cannot be read back, and a TOTP secret must be: the server computes
the codes from it. So it is encrypted with AES-256-GCM under a key derived by HKDF-SHA256 from
`core.hashing.secret_key()` with a label per use. The key is therefore kept exactly as the
secret key is (secret.key in the data directory, or CLOUDACCT_SECRET_KEY, so that machines
sharing one database agree), and a copy of the database alone opens nothing. The `context`
(e.g. the account id) is authenticated with it: a sealed value copied to another account's row
does not open there.

Stored form: `v1:` + URL-safe base64 of the 12-byte random nonce and the ciphertext with its tag.
"""

from __future__ import annotations

import base64
import os
from functools import lru_cache

from core.errors import StorageError
from core.hashing import secret_key

VERSION = "v1"


@lru_cache(maxsize=8)
def _key(label: str, master: bytes) -> bytes:
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=SHA256(), length=32, salt=None,
                info=f"cloudacct sealed {label} {VERSION}".encode()).derive(master)


def seal(label: str, plaintext: bytes, context: str) -> str:
    """Encrypt `plaintext` for `label` (what it is) and `context` (whose it is)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    sealed = AESGCM(_key(label, secret_key())).encrypt(nonce, plaintext, context.encode())
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(label: str, stored: str, context: str) -> bytes:
    """The plaintext of `seal(label, …, context)`. A value that does not open (another secret
    key, another context, a damaged row) is a StorageError saying so."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    version, _, payload = stored.partition(":")
    try:
        if version != VERSION:
            raise ValueError(version)
        raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        return AESGCM(_key(label, secret_key())).decrypt(raw[:12], raw[12:], context.encode())
    except (InvalidTag, ValueError) as exc:
        raise StorageError(
            "A stored secret cannot be opened: the secret key (secret.key or "
            "CLOUDACCT_SECRET_KEY) is not the one it was sealed with. Restore that key, or "
            "contact support.") from exc
