"""One SSH console session: the console `serve-ssh` runs on a PTY.

Normally the zygote (tui/ssh/zygote.py) forks it and calls `run_console` with who connected;
as a fallback it is a new interpreter, `python -m tui.ssh.session`, which reads who connected
(peer address, key fingerprint) from the pipe the server passed, never from the environment.
Either way it runs the same console as a local `cloudacct`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def read_identity(fd: int) -> dict:
    with os.fdopen(fd, "r", encoding="utf-8") as pipe:
        data = json.loads(pipe.read() or "{}")
    return clean_identity(data)


def clean_identity(data: dict) -> dict:
    return {"origin": str(data.get("origin") or "unknown")[:100],
            "key_fingerprint": str(data.get("key_fingerprint") or "")[:100] or None}


def run_console(identity: dict) -> int:
    """Run the console until the person quits or the terminal hangs up.

    Nothing it raises reaches the client as a traceback: the app logs its own failures to
    cloudacct.log and ends with one line; a console that cannot even start says so in one line
    (the server logs how the session ended)."""
    from tui.terminal_type import clean_term_environment

    clean_term_environment()  # whatever TERM the client named, before Rich or Textual read it
    identity = clean_identity(identity)
    try:
        from tui.app import CloudAcctApp

        app = CloudAcctApp(origin=identity["origin"],
                           key_fingerprint=identity["key_fingerprint"])
    except Exception:
        sys.stderr.write("cloudacct could not start; please try again later.\n")
        sys.stderr.flush()
        return 1
    app.run()
    return app.return_code or 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudacct-ssh-session")
    parser.add_argument("--identity-fd", type=int, required=True)
    args = parser.parse_args(argv)
    return run_console(read_identity(args.identity_fd))


if __name__ == "__main__":
    sys.exit(main())
