"""Delivery of codes and notices: email (SMTP or a local Maildir) and SMS/voice (a provider).

A failed send raises DeliveryError; callers record nothing as sent until delivery returns.
"""

from __future__ import annotations

from core.delivery.email import send_email
from core.delivery.outbox import OutboxMessage, read_outbox
from core.delivery.phone import phone_provider, place_call, send_sms

__all__ = ["OutboxMessage", "phone_provider", "place_call", "read_outbox", "send_email",
           "send_sms"]
