"""One SSH console session: the child process `serve-ssh` starts on a PTY.

It reads who connected (peer address, key fingerprint) from the pipe the server passed, never
from the environment, and runs the same console as a local `cloudacct`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def read_identity(fd: int) -> dict:
    with os.fdopen(fd, "r", encoding="utf-8") as pipe:
        data = json.loads(pipe.read() or "{}")
    return {"origin": str(data.get("origin") or "unknown")[:100],
            "key_fingerprint": data.get("key_fingerprint") or None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudacct-ssh-session")
    parser.add_argument("--identity-fd", type=int, required=True)
    args = parser.parse_args(argv)
    identity = read_identity(args.identity_fd)
    from tui.app import CloudAcctApp

    CloudAcctApp(origin=identity["origin"], key_fingerprint=identity["key_fingerprint"]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
