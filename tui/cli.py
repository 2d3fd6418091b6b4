"""The `cloudacct` command line (CONTRACT.md, "Command line").

Exit codes: 0 success, 2 bad usage, 1 a refused operation (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudacct",
        description="The account console of a cloud provider, in the terminal. "
        "Without a command, opens the console.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    outbox = commands.add_parser(
        "outbox", help="list delivered emails, SMS and calls, newest first",
        description="List the emails, text messages and calls delivered locally (the Maildir "
        "and the phone outbox in the data directory), newest first.")
    outbox.add_argument("--to", metavar="ADDRESS",
                        help="only messages to this email (any case) or phone number (any "
                        "formatting)")
    outbox.add_argument("--json", action="store_true", help="print a JSON array")
    outbox.add_argument("-n", "--limit", type=int, default=None, metavar="N",
                        help="at most N messages")
    return parser


def _fail(message: str) -> int:
    print(f"cloudacct: {message}", file=sys.stderr)
    return 1


def _run_outbox(args: argparse.Namespace) -> int:
    from core.delivery import read_outbox

    messages = read_outbox(args.to)
    if args.limit is not None:
        messages = messages[: max(0, args.limit)]
    if args.json:
        json.dump([m.as_json() for m in messages], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not messages:
        print("The outbox is empty." if not args.to else f"Nothing was delivered to {args.to}.")
        return 0
    for message in messages:
        heading = f"{message.sent_at}  {message.channel:<5}  to {message.to}"
        print(heading)
        if message.subject:
            print(f"  Subject: {message.subject}")
        for line in message.body.splitlines():
            print(f"  {line}")
        print()
    return 0


def _run_console() -> int:
    from tui.app import CloudAcctApp

    CloudAcctApp().run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from core.errors import DomainError

    try:
        if args.command is None:
            return _run_console()
        if args.command == "outbox":
            return _run_outbox(args)
    except DomainError as exc:
        return _fail(exc.message)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
