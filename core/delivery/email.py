"""Email: SMTP when CLOUDACCT_SMTP_URL is set (STARTTLS when offered), else the local Maildir.

The mail password never goes out in clear: with a user and password in the URL, a server that
offers no STARTTLS (or one whose STARTTLS a man in the middle removed) is refused before AUTH,
nothing is sent, unless the URL says so explicitly with `?insecure_auth=1`. Certificates are
verified against the system's CAs, or the `?cafile=/path/ca.pem` of the URL.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlparse

from core import clock
from core.config import settings
from core.errors import DeliveryError
from core.i18n import N_, phrase

log = logging.getLogger("cloudacct.delivery")

SMTP_TIMEOUT_S = 15


def build_message(to: str, subject: str, body: str, *, utf8: bool = False) -> EmailMessage:
    """The message; with `utf8`, headers stay UTF-8 (RFC 6532) instead of encoded words."""
    import email.policy

    cfg = settings()
    message = EmailMessage(policy=email.policy.default.clone(utf8=True) if utf8
                           else email.policy.default)
    message["From"] = f"{cfg.brand} <{cfg.sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = _date_header()
    message["Message-ID"] = make_msgid(domain="cloudacct.invalid")
    # Real delivery order (the clock may stand still): `cloudacct outbox` sorts by it.
    message["X-Cloudacct-Seq"] = str(time.time_ns())
    # Over SMTP a non-ASCII body goes as base64 (any server takes it, 8BITMIME or not); the
    # Maildir keeps UTF-8 as it is (readable in the file).
    message.set_content(body, cte=None if utf8 or body.isascii() else "base64")
    return message


def _date_header() -> str:
    from datetime import UTC

    instant = clock.now().replace(tzinfo=UTC)
    return formatdate(instant.timestamp(), usegmt=True)


def ascii_address(address: str) -> str:
    """The address with an internationalised domain as its A-label (`xn--…`), which every mail
    server accepts; the local part is left as it is."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        import idna

        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except (ImportError, UnicodeError, ValueError):
        return address


def send_email(to: str, subject: str, body: str, language: str | None = None) -> None:
    """Deliver one email, or raise DeliveryError saying what went wrong. A subject or body
    still `Localised` (core.delivery.language) goes in `language`, by default the language of
    the account it is sent to."""
    from core.delivery.language import localise, needs_language, recipient_language

    if needs_language(subject, body):
        chosen = language or recipient_language(to, "email", subject, body)
        subject, body = localise(subject, chosen), localise(body, chosen)
    url = settings().smtp_url
    if url:
        _send_smtp(url, build_message(ascii_address(to), subject, body))
    else:
        # UTF-8 headers: the Maildir keeps an internationalised address readable.
        _store_in_maildir(build_message(to, subject, body, utf8=True))
    log.info("email delivered to %s: %s", _redact(to), subject)


def _redact(address: str) -> str:
    from core.validation import mask_email

    return mask_email(address) if "@" in address else address


def _unique_name() -> str:
    """A Maildir file name no other delivery, on this host or another, can have."""
    import socket
    import uuid

    host = socket.gethostname().replace("/", "\\057").replace(":", "\\072") or "localhost"
    return f"{time.time_ns()}.{uuid.uuid4().hex}.{host}"


def _store_in_maildir(message: EmailMessage) -> None:
    """The Maildir protocol: write to `tmp/` (0600 whatever the umask), sync, note the
    recipient (core.delivery.recipients), then rename into `new/`."""
    from core.delivery.recipients import note_delivery
    from core.private_files import private_dir

    box = settings().maildir
    name = _unique_name()
    try:
        # The data directory may not exist yet: make every level private.
        for folder in ("tmp", "new", "cur"):
            private_dir(box / folder)
        tmp = box / "tmp" / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(message.as_bytes(policy=message.policy.clone(linesep="\n")))
            handle.flush()
            os.fsync(handle.fileno())
        final = box / "new" / name
        note_delivery([str(message["To"] or "")], final)
        os.rename(tmp, final)
    except OSError as exc:
        raise DeliveryError(phrase(
            "The email could not be stored in the mailbox ({reason}). "
            "Nothing was sent; please try again.", reason=exc.strerror or str(exc))) from exc


SMTP_OPTIONS = frozenset({"insecure_auth", "cafile"})
_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class SmtpTarget:
    """CLOUDACCT_SMTP_URL, read: where to connect and the rules of the connection."""

    tls_from_start: bool  # smtps://
    host: str
    port: int
    user: str | None
    password: str = field(repr=False)
    insecure_auth: bool  # the URL allows the password over a connection without TLS
    cafile: str | None


def smtp_target(url: str) -> SmtpTarget:
    """Read the URL (DeliveryError when it is not one cloudacct can use)."""
    from urllib.parse import parse_qs

    try:
        parsed = urlparse(url)
        port = parsed.port
        options = parse_qs(parsed.query, keep_blank_values=True)
    except ValueError as exc:
        raise DeliveryError(phrase("CLOUDACCT_SMTP_URL is not a valid URL ({reason}).",
                                   reason=str(exc))) from exc
    if parsed.scheme not in ("smtp", "smtps"):
        raise DeliveryError("CLOUDACCT_SMTP_URL must start with smtp:// or smtps://.")
    unknown = sorted(set(options) - SMTP_OPTIONS)
    if unknown:
        raise DeliveryError(phrase("CLOUDACCT_SMTP_URL has an unknown option {option} (known: "
                                   "insecure_auth, cafile).", option=repr(unknown[0])))
    flag = (options.get("insecure_auth") or ["0"])[-1].strip().lower()
    if flag not in _YES | _NO:
        raise DeliveryError("CLOUDACCT_SMTP_URL: insecure_auth must be 1 (allow the password "
                            "without TLS) or 0.")
    return SmtpTarget(
        tls_from_start=parsed.scheme == "smtps", host=parsed.hostname or "localhost",
        port=port or (465 if parsed.scheme == "smtps" else 25),
        user=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password or ""), insecure_auth=flag in _YES,
        cafile=(options.get("cafile") or [""])[-1] or None)


NO_TLS_FOR_PASSWORD = N_(
    "The email could not be sent: the mail server offers no TLS, and the mail password is "
    "never sent in clear (use smtps://, a server with STARTTLS, or add ?insecure_auth=1 to "
    "CLOUDACCT_SMTP_URL to allow it). Nothing was recorded; please try again.")


def _send_smtp(url: str, message: EmailMessage) -> None:
    import smtplib
    import ssl

    target = smtp_target(url)
    try:
        # Certificates and host names are verified (the default context); a CA file of the
        # URL replaces the system's CAs, for a private CA.
        context = ssl.create_default_context(cafile=target.cafile)
    except OSError as exc:
        raise DeliveryError(phrase("The CA file of CLOUDACCT_SMTP_URL cannot be read "
                                   "({reason}).", reason=exc.strerror or str(exc))) from exc
    try:
        if target.tls_from_start:
            client: smtplib.SMTP = smtplib.SMTP_SSL(target.host, target.port,
                                                    timeout=SMTP_TIMEOUT_S, context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_S)
        with client:
            client.ehlo()
            encrypted = target.tls_from_start
            if not encrypted and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
                encrypted = True
            if target.user:
                if not encrypted and not target.insecure_auth:
                    log.warning("SMTP server %s:%s offers no STARTTLS: the password was not "
                                "sent (CLOUDACCT_SMTP_URL ?insecure_auth=1 allows it)",
                                target.host, target.port)
                    raise DeliveryError(NO_TLS_FOR_PASSWORD)
                client.login(target.user, target.password)
            refused = client.send_message(message)
            if refused:
                raise DeliveryError("The mail server refused the address. Check it and retry.")
    except DeliveryError:
        raise
    except UnicodeError as exc:  # smtplib sends user names and passwords as ASCII only
        raise DeliveryError("The email could not be sent: the mail user name and password of "
                            "CLOUDACCT_SMTP_URL must be ASCII. Nothing was recorded.") from exc
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise DeliveryError(phrase(
            "The email could not be sent ({reason}). Nothing was recorded; please try again.",
            reason=reason)) from exc
