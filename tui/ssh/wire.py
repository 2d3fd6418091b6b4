"""Messages between `serve-ssh` and its zygote: one JSON object per SOCK_SEQPACKET datagram.

A datagram socket keeps message boundaries (no framing to get wrong) and carries a PTY's file
descriptor alongside its message (SCM_RIGHTS). Both ends import this module, so it imports
nothing heavy.
"""

from __future__ import annotations

import json
import socket
from typing import Any

MAX_MESSAGE = 64 * 1024
"""Far above any message (an environment and an identity); a longer one is refused."""


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """(server end, zygote end), both close-on-exec (the zygote's end is passed on purpose)."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_MESSAGE:
        raise ValueError(f"message of {len(data)} bytes is too long")
    return data


def decode(data: bytes) -> dict[str, Any]:
    message = json.loads(data.decode("utf-8"))
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ValueError("not a message")
    return message
