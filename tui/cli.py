"""The `cloudacct` command line (CONTRACT.md, "Command line").

Exit codes: 0 success, 2 bad usage, 1 a refused operation (one line on stderr). Start-up
failures too (a data directory that cannot be made or written, a database that cannot be opened
or migrated, a console that cannot be built) end with one line and exit 1, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

DEFAULT_SPARES = 20
"""`serve-ssh --spare-consoles`: enough for twenty people connecting at once to each find a
console already built (tui/ssh/spare.py), the crowd issue 16 measures."""


def _parser() -> argparse.ArgumentParser:
    import argparse

    parser = argparse.ArgumentParser(
        prog="cloudacct",
        description=_("The account console of a cloud provider, in the terminal. "
        "Without a command, opens the console."),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    outbox = commands.add_parser(
        "outbox", help=_("list delivered emails, SMS and calls, newest first"),
        description=_("List the emails, text messages and calls delivered locally (the Maildir "
        "and the phone outbox in the data directory), newest first."))
    outbox.add_argument("--to", metavar="ADDRESS",
                        help=_("only messages to this email (any case) or phone number (any "
                        "formatting)"))
    outbox.add_argument("--json", action="store_true", help=_("print a JSON array"))
    outbox.add_argument("-n", "--limit", type=int, default=None, metavar="N",
                        help=_("at most N messages"))

    billing = commands.add_parser(
        "billing", help=_("operator: billing runs"),
        description=_("Operator commands for billing."))
    billing_commands = billing.add_subparsers(dest="billing_command", metavar="ACTION")
    billing_commands.add_parser(
        "run", help=_("issue and charge every bill due now, renew or expire subscriptions"),
        description=_("Issue every bill that is due now (or at CLOUDACCT_NOW) and charge it, "
        "renew or expire subscriptions, complete pending deletions, and print what was done."))

    review = commands.add_parser(
        "review", help=_("operator: review enterprise real-name registrations"),
        description=_("Operator review of enterprise real-name registrations (F6)."))
    review_commands = review.add_subparsers(dest="review_command", metavar="ACTION")
    review_commands.add_parser("list", help=_("list registrations waiting for review"),
                               description=_("List enterprise registrations waiting for review."))
    approve = review_commands.add_parser("approve", help=_("approve the registration of EMAIL"),
                                         description=_("Approve the pending enterprise "
                                         "registration of the account with this email."))
    approve.add_argument("email", metavar="EMAIL")
    reject = review_commands.add_parser("reject", help=_("reject the registration of EMAIL"),
                                        description=_("Reject the pending enterprise "
                                        "registration of the account with this email."))
    reject.add_argument("email", metavar="EMAIL")
    reject.add_argument("--reason", required=True, metavar="TEXT",
                        help=_("why, shown to the person (required)"))

    ssh = commands.add_parser(
        "serve-ssh", help=_("serve the console over SSH"),
        description=_("Serve the console over SSH: each connection with a terminal gets its own "
        "console. Any user name and any public key may connect; a client without a key is let "
        "in without questions, and the console asks to log on. A key trusted by an active "
        "account may also use SFTP (and scp) into that account's files. Every TCP connection "
        "counts against the limits below from its first byte."))
    ssh.add_argument("--host", default="127.0.0.1", help=_("address to listen on (127.0.0.1)"))
    ssh.add_argument("--port", type=int, default=2222, help=_("port to listen on (2222)"))
    ssh.add_argument("--max-sessions", type=int, default=64, metavar="N",
                     help=_("consoles at once at most (64)"))
    ssh.add_argument("--max-connections", type=int, default=None, metavar="N",
                     help=_("connections at once at most, from everybody (512, and never more "
                     "than the open-file limit allows)"))
    ssh.add_argument("--per-address", type=int, default=8, metavar="N",
                     help=_("connections at once from one address (an IPv6 /64) at most (8)"))
    ssh.add_argument("--per-minute", type=int, default=10, metavar="N",
                     help=_("new connections per address per minute at most (10)"))
    ssh.add_argument("--logon-timeout", type=float, default=30.0, metavar="SECONDS",
                     help=_("time from connecting to completing SSH authentication (30)"))
    ssh.add_argument("--channel-timeout", type=float, default=10.0, metavar="SECONDS",
                     help=_("an authenticated connection with no console or file transfer open "
                     "is closed after this long (10)"))
    ssh.add_argument("--idle-timeout", type=float, default=900.0, metavar="SECONDS",
                     help=_("disconnect after this long without input (900)"))
    ssh.add_argument("--keepalive", type=float, default=30.0, metavar="SECONDS",
                     help=_("keepalive interval; 3 missed answers end the connection (30)"))
    ssh.add_argument("--start-at-once", type=int, default=None, metavar="N",
                     help=_("consoles starting at one time, the others waiting their turn in "
                     "order (default: one per CPU core; 0: no limit)"))
    ssh.add_argument("--spare-consoles", type=int, default=DEFAULT_SPARES, metavar="N",
                     help=_("consoles kept started before anyone connects, each ready to "
                     "show its Welcome screen at once; built while the server is idle, "
                     "~16 MiB each ({n}; 0: none)").format(n=DEFAULT_SPARES))
    ssh.add_argument("--public-address", default=None, metavar="HOST[:PORT]",
                     help=_("how people reach this server, for the scp/sftp commands the console "
                     "shows (default: the address and port each connection reached)"))
    return parser


def _(message: str) -> str:
    """A message for people in the language of the command's locale (CLOUDACCT_LANG, then
    LC_ALL / LC_MESSAGES / LANG: `main` chose it); a Text from core with its values too."""
    from core.i18n import translate

    return translate(message)


def _fail(message: str) -> int:
    print(f"cloudacct: {_(message)}", file=sys.stderr)
    return 1


def _run_outbox(args: argparse.Namespace) -> int:
    from core.config import settings
    from core.db import data_directory_message
    from core.delivery import read_outbox

    home = settings().home
    try:
        _data_directory_readable(home)
        messages = read_outbox(args.to)
    except OSError as exc:
        return _fail(data_directory_message(home, exc, "read"))
    if args.limit is not None:
        messages = messages[: max(0, args.limit)]
    if args.json:
        import json

        json.dump([m.as_json() for m in messages], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if not messages:
        print(_("The outbox is empty.") if not args.to else
              _("Nothing was delivered to {to}.").format(to=args.to))
        return 0
    for message in messages:
        # Translators: one delivered message: when, the channel (email, sms, voice) and to whom.
        heading = _("{sent_at}  {channel}  to {to}").format(
            sent_at=message.sent_at, channel=f"{message.channel:<5}", to=message.to)
        print(heading)
        if message.subject:
            print("  " + _("Subject: {subject}").format(subject=message.subject))
        for line in message.body.splitlines():
            print(f"  {line}")
        print()
    return 0


def _data_directory_readable(home: Path) -> None:
    """A data directory not made yet holds nothing; one that cannot be (a path through a
    file) or is not a directory is an OSError."""
    import errno
    import stat

    try:
        info = home.stat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(home))


def _open_database() -> None:
    from core.config import settings
    from core.db import init_database

    init_database(settings().database_url)


def _run_billing(args: argparse.Namespace) -> int:
    if args.billing_command != "run":
        print(_("usage: cloudacct billing run"), file=sys.stderr)
        return 2
    from core.billing_run import run_billing
    from core.reconciliation import reconcile

    _open_database()
    fixed = reconcile()  # first: finish what an interruption left half-done (issue 7)
    for line in fixed.lines():
        print(_(line))
    if fixed.fixes:
        print(_(fixed.summary))
    report = run_billing()
    for line in report.lines():
        print(_(line))
    print(_(report.summary))
    return 0


def _run_review(args: argparse.Namespace) -> int:
    from core import real_name
    from core.clock import iso
    from core.validation import has_control_characters

    if args.review_command not in ("list", "approve", "reject"):
        print(_("usage: cloudacct review {list,approve EMAIL,reject EMAIL --reason TEXT}"),
              file=sys.stderr)
        return 2
    _open_database()
    if args.review_command == "list":
        pending = real_name.list_pending_reviews()
        if not pending:
            print(_("No enterprise registration is waiting for review."))
            return 0

        def shown(text: str) -> str:  # never echo control characters to the terminal
            return "".join("?" if has_control_characters(ch) else ch for ch in text)

        for item in pending:
            print(_("{email}  {company}  submitted {when}").format(
                email=item.email, company=shown(item.company_name),
                when=iso(item.submitted_at)))
            print("  " + _("credit code {code}, legal representative {name}, licence "
                           "{path}").format(code=item.credit_code, name=shown(item.legal_rep),
                                            path=item.licence_path))
        return 0
    if args.review_command == "approve":
        real_name.approve_enterprise(args.email)
        print(_("Approved the enterprise registration of {email}.").format(
            email=args.email.strip()))
        return 0
    real_name.reject_enterprise(args.email, args.reason)
    print(_("Rejected the enterprise registration of {email}.").format(
        email=args.email.strip()))
    return 0


def _run_console() -> int:
    from core.errors import DomainError
    from tui.app import CloudAcctApp

    try:
        app = CloudAcctApp()
    except DomainError:
        raise  # a StartupError from the data directory or the database: main prints it
    except OSError as exc:
        from core.config import settings
        from core.db import data_directory_message

        return _fail(data_directory_message(settings().home, exc))
    except Exception as exc:  # noqa: BLE001 (one line instead of a traceback, as promised)
        return _fail(_("the console could not start ({error}: {details})").format(
            error=type(exc).__name__, details=_first_line(exc)))
    from core.config import settings
    from tui.css_parses import load_css_parses, save_css_parses

    home = settings().home
    load_css_parses(home)
    app.run()
    save_css_parses(home)  # with what screens opened after the first one parsed
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.splitlines()[0].split()) if text else _("no details")


def _public_address(text: str, port: int) -> str | None:
    """"host:port" (IPv6 in brackets) from HOST, HOST:PORT, [IPv6] or [IPv6]:PORT."""
    text = text.strip()
    if not text or any(c.isspace() or not c.isprintable() for c in text):
        return None
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or not host:
            return None
        if not rest:
            return f"[{host}]:{port}"
        return f"[{host}]:{int(rest[1:])}" if rest[:1] == ":" and rest[1:].isdigit() else None
    if text.count(":") > 1:
        return f"[{text}]:{port}"
    host, colon, given = text.partition(":")
    if not host:
        return None
    if not colon:
        return f"{host}:{port}"
    return f"{host}:{int(given)}" if given.isdigit() else None


def _run_serve_ssh(args: argparse.Namespace) -> int:
    from core.config import settings
    from core.db import init_database
    from tui.ssh.limits import Limits
    from tui.ssh.server import serve_forever

    counts = (args.max_sessions, args.per_minute, args.per_address,
              args.max_connections if args.max_connections is not None else 1)
    times = (args.logon_timeout, args.channel_timeout, args.idle_timeout, args.keepalive)
    if not 0 <= args.port <= 65535 or min(counts) < 1 or min(times) <= 0 or (
            args.start_at_once is not None and args.start_at_once < 0) or (
            args.spare_consoles < 0):
        print("cloudacct serve-ssh: " + _("port 0-65535, limits at least 1, times above 0"),
              file=sys.stderr)
        return 2
    public = None
    if args.public_address is not None:
        public = _public_address(args.public_address, args.port)
        if public is None:
            print("cloudacct serve-ssh: " + _("--public-address is HOST, HOST:PORT or "
                                              "[IPv6]:PORT"), file=sys.stderr)
            return 2
    cfg = settings()
    init_database(cfg.database_url)  # migrate once here, not in every session
    limits = Limits(max_sessions=args.max_sessions, per_address_per_minute=args.per_minute,
                    per_address=args.per_address, max_connections=args.max_connections,
                    logon_timeout_s=args.logon_timeout, channel_timeout_s=args.channel_timeout,
                    idle_timeout_s=args.idle_timeout, keepalive_s=args.keepalive)
    try:
        return serve_forever(args.host, args.port, cfg.home, limits, public_address=public,
                             starting_at_once=args.start_at_once,
                             spare_consoles=min(args.spare_consoles, args.max_sessions))
    except OSError as exc:
        return _fail(_("cannot listen on {address}: {reason}").format(
            address=f"{args.host}:{args.port}", reason=exc.strerror or exc))


def _speak_the_locale() -> None:
    """Messages for people in CLOUDACCT_LANG, else the locale's language, else English (F18);
    a CLOUDACCT_LANG that names no language is said in one line (exit 1) by core."""
    from core.i18n import use_language
    from tui.language import starting_language

    use_language(starting_language("local"))


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    if not given:
        # The console: no cyclic garbage collection until its first screen is painted
        # (tui/app.py `after_first_paint`). Start-up's objects (modules, widgets, styles) all
        # live on, so the collector's passes over them free nothing and cost ~8% of a cold
        # start (issue 16).
        import gc

        gc.disable()
    from core.private_files import keep_files_private

    keep_files_private()  # before anything is created: every file of the data directory 0600
    _speak_the_locale()
    # No arguments: the console, without building the parser (argparse and the parser's
    # construction are ~10 ms of a cold start).
    args = _parser().parse_args(given) if given else None
    from core.config import load_settings
    from core.errors import DomainError

    load_settings()  # each command reads the environment as it is when it starts
    try:
        if args is None or args.command is None:
            return _run_console()
        if args.command == "outbox":
            return _run_outbox(args)
        if args.command == "billing":
            return _run_billing(args)
        if args.command == "review":
            return _run_review(args)
        if args.command == "serve-ssh":
            return _run_serve_ssh(args)
    except DomainError as exc:
        return _fail(exc.message)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
