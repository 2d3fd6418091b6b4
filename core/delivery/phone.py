"""SMS and voice through a provider interface. The built-in provider writes each message as a
JSON file in the outbox directory of the data directory (atomically: a reader never sees half),
0600 in a 0700 directory: a live code is in it."""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Protocol

from core import clock
from core.config import settings
from core.errors import DeliveryError, DomainError
from core.i18n import phrase


class PhoneProvider(Protocol):
    def send_sms(self, to: str, body: str) -> None: ...

    def place_call(self, to: str, script: str) -> None: ...


class OutboxPhoneProvider:
    """Writes what a real SMS/voice provider would send to `<home>/outbox/`."""

    def _write(self, channel: str, to: str, body: str) -> None:
        directory = settings().outbox_dir
        sent_at = clock.now()
        record = {"channel": channel, "to": to, "subject": None, "body": body,
                  "sent_at": clock.iso(sent_at),
                  "seq": time.time_ns()}
        name = f"{record['seq']}-{uuid.uuid4().hex[:12]}-{channel}.json"
        try:
            from core.private_files import private_dir

            private_dir(directory)
            tmp = directory / f".{name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            from core.delivery.recipients import note_delivery

            note_delivery([to], directory / name)
            os.replace(tmp, directory / name)
        except OSError as exc:
            raise _failed(channel, exc.strerror or str(exc)) from exc

    def send_sms(self, to: str, body: str) -> None:
        self._write("sms", to, body)

    def place_call(self, to: str, script: str) -> None:
        self._write("voice", to, script)


_provider: PhoneProvider | None = None


def phone_provider() -> PhoneProvider:
    global _provider
    if _provider is None:
        _provider = OutboxPhoneProvider()
    return _provider


def set_phone_provider(provider: PhoneProvider | None) -> None:
    """Swap the provider (a real SMS gateway, or a failing one in tests)."""
    global _provider
    _provider = provider


def _failed(channel: str, reason: str) -> DeliveryError:
    if channel == "sms":
        return DeliveryError(phrase("The text message could not be sent ({reason}). Nothing "
                                    "was recorded; please try again.", reason=reason))
    return DeliveryError(phrase("The call could not be sent ({reason}). Nothing was "
                                "recorded; please try again.", reason=reason))


def _in_language(to: str, channel: str, text: str, language: str | None) -> str:
    """The text in `language`, by default the recipient account's (core.delivery.language)."""
    from core.delivery.language import localise, needs_language, recipient_language

    if not needs_language(text):
        return text
    return localise(text, language or recipient_language(to, channel, text))


def send_sms(to: str, body: str, language: str | None = None) -> None:
    """Send through the provider. Whatever a provider raises reaches callers as DeliveryError."""
    body = _in_language(to, "sms", body, language)
    try:
        phone_provider().send_sms(to, body)
    except DomainError:
        raise
    except Exception as exc:
        raise _failed("sms", type(exc).__name__) from exc


def place_call(to: str, script: str, language: str | None = None) -> None:
    script = _in_language(to, "voice", script, language)
    try:
        phone_provider().place_call(to, script)
    except DomainError:
        raise
    except Exception as exc:
        raise _failed("voice", type(exc).__name__) from exc
