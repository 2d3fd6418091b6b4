"""What was delivered locally: the Maildir's emails and the phone outbox, newest first."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from core import clock
from core.config import settings


@dataclass(frozen=True)
class OutboxMessage:
    channel: str  # email | sms | voice
    to: str
    subject: str | None
    body: str
    sent_at: str  # ISO-8601
    seq: int = 0  # real delivery order, newest highest

    def as_json(self) -> dict:
        data = asdict(self)
        del data["seq"]
        return data


def _instant(text: str) -> datetime:
    try:
        return clock.parse_instant(text)
    except ValueError:
        return datetime.min


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _email_key(address: str) -> str:
    """Case-insensitive, and an internationalised domain equal to its A-label spelling."""
    from core.delivery.email import ascii_address

    return ascii_address(address.strip()).casefold()


def _matches(message: OutboxMessage, to: str | None) -> bool:
    if not to or not to.strip():
        return True
    if "@" in to:  # an email address never matches a phone number's digits
        return message.channel == "email" and _email_key(message.to) == _email_key(to)
    if message.channel == "email":
        return False
    wanted = _digits(to)
    have = _digits(message.to)
    return bool(wanted) and (have == wanted or have.endswith(wanted) and len(wanted) >= 6)


def _emails() -> list[OutboxMessage]:
    import mailbox
    from datetime import UTC

    path = settings().maildir
    if not path.exists():
        return []
    found: list[OutboxMessage] = []
    box = mailbox.Maildir(path, create=False)
    try:
        keys = list(box.iterkeys())
    except FileNotFoundError:  # another process is creating the Maildir: nothing in it yet
        return []
    for key in keys:
        try:
            message = box.get_message(key)
        except (OSError, KeyError):
            continue
        import email
        import email.policy

        parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        body_part = parsed.get_body(preferencelist=("plain",))
        body = body_part.get_content() if body_part is not None else ""
        try:
            sent = parsedate_to_datetime(parsed["Date"]).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError):
            sent = datetime.min
        found.append(OutboxMessage("email", str(parsed["To"] or ""), str(parsed["Subject"] or ""),
                                   body.rstrip("\n"), clock.iso(sent),
                                   _int(parsed["X-Cloudacct-Seq"])))
    return found


def _phone_messages() -> list[OutboxMessage]:
    path = settings().outbox_dir
    if not path.exists():
        return []
    found = []
    for item in path.glob("*.json"):
        try:
            record = json.loads(item.read_text(encoding="utf-8"))
            found.append(OutboxMessage(record["channel"], record["to"], record.get("subject"),
                                       record["body"], record["sent_at"],
                                       _int(record.get("seq"))))
        except (OSError, ValueError, KeyError):
            continue
    return found


def read_outbox(to: str | None = None) -> list[OutboxMessage]:
    messages = [m for m in _emails() + _phone_messages() if _matches(m, to)]
    # Newest first by real delivery order: under CLOUDACCT_NOW every sent_at is the same.
    messages.sort(key=lambda m: (m.seq, _instant(m.sent_at)), reverse=True)
    return messages
