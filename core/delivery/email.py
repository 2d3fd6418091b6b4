"""Email: SMTP when CLOUDACCT_SMTP_URL is set (STARTTLS when offered), else the local Maildir."""

from __future__ import annotations

import logging
import os
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlparse

from core import clock
from core.config import settings
from core.errors import DeliveryError

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
    message.set_content(body)
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


def send_email(to: str, subject: str, body: str) -> None:
    """Deliver one email, or raise DeliveryError saying what went wrong."""
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


def _private_maildir():
    """mailbox.Maildir whose messages are 0600 whatever the umask (the standard one creates
    them 0666 less the umask; its directories are 0700 already)."""
    import mailbox

    class PrivateMaildir(mailbox.Maildir):
        def _create_tmp(self):
            handle = super()._create_tmp()
            os.fchmod(handle.fileno(), 0o600)  # before a byte of the message is written
            return handle

    return PrivateMaildir


def _store_in_maildir(message: EmailMessage) -> None:
    import mailbox

    from core.files import private_dir

    try:
        # Maildir() makes only the last directory: the data directory may not exist yet.
        private_dir(settings().maildir.parent)
        box = _private_maildir()(settings().maildir, create=True)
        box.add(mailbox.MaildirMessage(message))
    except OSError as exc:
        raise DeliveryError(
            f"The email could not be stored in the mailbox ({exc.strerror or exc}). "
            "Nothing was sent; please try again."
        ) from exc


def _send_smtp(url: str, message: EmailMessage) -> None:
    import smtplib
    import ssl

    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps"):
        raise DeliveryError("CLOUDACCT_SMTP_URL must start with smtp:// or smtps://.")
    host = parsed.hostname or "localhost"
    port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
    context = ssl.create_default_context()
    try:
        if parsed.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_S,
                                                    context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_S)
        with client:
            client.ehlo()
            if parsed.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if parsed.username:
                client.login(unquote(parsed.username), unquote(parsed.password or ""))
            refused = client.send_message(message)
            if refused:
                raise DeliveryError("The mail server refused the address. Check it and retry.")
    except DeliveryError:
        raise
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"The email could not be sent ({type(exc).__name__}: {exc}). "
            "Nothing was recorded; please try again."
        ) from exc
