"""A software FIDO security key for the SSH tests: OpenSSH's `sk-ssh-ed25519@openssh.com` and
`sk-ecdsa-sha2-nistp256@openssh.com` keys whose signatures are made here with `cryptography`
instead of by a device.

asyncssh signs with an sk key only through a FIDO device (asyncssh/sk.py, python-fido2). What
the server verifies is the device's assertion (PROTOCOL.u2f in OpenSSH; asyncssh/sk_eddsa.py and
sk_ecdsa.py `verify_ssh`): the key's own signature over

    sha256(application) || flags (1 byte) || counter (uint32) || sha256(data)

sent as `string signature, byte flags, uint32 counter`, where flags bit 0x01 is user presence
(the touch). These keys are asyncssh's own sk key classes (so the public key blob, the
algorithm name and the client's authentication path are asyncssh's) with `sign_ssh` replaced by
that computation; `flags` chooses whether the "device" reports a touch.
"""

from __future__ import annotations

from hashlib import sha256

from asyncssh.packet import Byte, MPInt, String, UInt32
from asyncssh.sk_ecdsa import _SKECDSAKey
from asyncssh.sk_eddsa import _SKEd25519Key
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

USER_PRESENT = 0x01
"""SSH_SK_USER_PRESENCE_REQD: the flag a device sets when it was touched."""
APPLICATION = "ssh:"
KEY_HANDLE = b"software key handle"


def _assertion(application: str, flags: int, counter: int, data: bytes) -> bytes:
    return (sha256(application.encode()).digest() + Byte(flags) + UInt32(counter)
            + sha256(data).digest())


class SoftSkEd25519Key(_SKEd25519Key):
    """`sk-ssh-ed25519@openssh.com` whose "device" is an Ed25519 key in memory."""

    def __init__(self, flags: int = USER_PRESENT) -> None:
        self._private = ed25519.Ed25519PrivateKey.generate()
        public = self._private.public_key().public_bytes(serialization.Encoding.Raw,
                                                         serialization.PublicFormat.Raw)
        super().__init__(public, APPLICATION, USER_PRESENT, KEY_HANDLE, b"")
        self.device_flags = flags
        self.counter = 0

    def sign_ssh(self, data: bytes, sig_algorithm: bytes) -> bytes:
        self.counter += 1
        signature = self._private.sign(
            _assertion(APPLICATION, self.device_flags, self.counter, data))
        return String(signature) + Byte(self.device_flags) + UInt32(self.counter)


class SoftSkEcdsaKey(_SKECDSAKey):
    """`sk-ecdsa-sha2-nistp256@openssh.com` whose "device" is a P-256 key in memory."""

    def __init__(self, flags: int = USER_PRESENT) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())
        public = self._private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        super().__init__(b"nistp256", public, APPLICATION, USER_PRESENT, KEY_HANDLE, b"")
        self.use_webauthn = False
        self.device_flags = flags
        self.counter = 0

    def sign_ssh(self, data: bytes, sig_algorithm: bytes) -> bytes:
        if sig_algorithm.startswith(b"webauthn"):
            raise ValueError("the software key makes plain FIDO assertions only")
        self.counter += 1
        der = self._private.sign(_assertion(APPLICATION, self.device_flags, self.counter, data),
                                 ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return String(MPInt(r) + MPInt(s)) + Byte(self.device_flags) + UInt32(self.counter)
