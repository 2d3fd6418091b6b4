"""One SSH console session: the console `serve-ssh` runs on a PTY.

Normally the zygote (tui/ssh/zygote.py) forks it and calls `run_console` with who connected;
as a fallback it is a new interpreter, `python -m tui.ssh.session`, which reads who connected
(peer address, key fingerprint and type, whether a security key was touched) from the pipe the
server passed, never from the environment. Either way it runs the same console as a local
`cloudacct`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys


def read_identity(fd: int) -> dict:
    with os.fdopen(fd, "r", encoding="utf-8") as pipe:
        data = json.loads(pipe.read() or "{}")
    return clean_identity(data)


_KEY_ALGORITHM = re.compile(r"[a-z0-9][a-z0-9@.-]{0,59}")


def clean_identity(data: dict) -> dict:
    """What the server sent, in shape: a key type and a touch only with a key, the touch only
    if it is exactly True."""
    fingerprint = str(data.get("key_fingerprint") or "")[:100] or None
    algorithm = data.get("key_algorithm")
    if not (fingerprint and isinstance(algorithm, str) and _KEY_ALGORITHM.fullmatch(algorithm)):
        algorithm = None
    return {"origin": str(data.get("origin") or "unknown")[:100],
            "key_fingerprint": fingerprint, "key_algorithm": algorithm,
            "user_presence": algorithm is not None and data.get("user_presence") is True}


def run_console(identity: dict) -> int:
    """Run the console until the person quits or the terminal hangs up.

    Nothing it raises reaches the client as a traceback: the app logs its own failures to
    cloudacct.log and ends with one line; a console that cannot even start says so in one line
    (the server logs how the session ended)."""
    import gc

    from tui.terminal_type import clean_term_environment

    gc.disable()  # until the first screen is painted, as a local start (tui/cli.py `main`)
    clean_term_environment()  # whatever TERM the client named, before Rich or Textual read it
    identity = clean_identity(identity)
    try:
        from tui.app import CloudAcctApp

        app = CloudAcctApp(origin=identity["origin"],
                           key_fingerprint=identity["key_fingerprint"],
                           key_algorithm=identity["key_algorithm"],
                           user_presence=identity["user_presence"])
    except Exception:
        sys.stderr.write("cloudacct could not start; please try again later.\n")
        sys.stderr.flush()
        return 1
    app.run()
    return app.return_code or 0


def name_process(name: str) -> None:
    """So `ps -o comm` tells the zygote, its spares and the sessions apart (Linux)."""
    import contextlib

    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudacct-ssh-session")
    parser.add_argument("--identity-fd", type=int, required=True)
    args = parser.parse_args(argv)
    return run_console(read_identity(args.identity_fd))


if __name__ == "__main__":
    sys.exit(main())
