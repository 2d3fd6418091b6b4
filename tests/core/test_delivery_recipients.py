"""The recipient index: erasing a person's delivered messages reads only their own files."""

from __future__ import annotations

import email
import mailbox
import os

from core.config import settings
from core.delivery import read_outbox, send_email, send_sms
from core.delivery.recipients import erase_deliveries, recipient_key


def _maildir_files() -> list[str]:
    box = settings().maildir
    return sorted(p.name for folder in ("new", "cur") for p in (box / folder).iterdir())


def test_erasing_one_address_keeps_everyone_elses_messages():
    send_email("Ada@Example.com", "Your code", "123456")
    send_email("bob@example.com", "Your code", "654321")
    send_sms("+65 8123 4567", "Code 111111")
    send_sms("+6581112222", "Code 222222")

    removed = erase_deliveries(["ada@example.com", "+6581234567"])

    assert removed == 2
    assert sorted(m.to for m in read_outbox()) == ["+6581112222", "bob@example.com"]


def test_a_message_a_mail_client_moved_to_cur_is_erased_too():
    send_email("ada@example.com", "Your code", "123456")
    box = settings().maildir
    (name,) = os.listdir(box / "new")
    os.rename(box / "new" / name, box / "cur" / f"{name}:2,S")

    assert erase_deliveries(["ADA@example.com"]) == 1
    assert _maildir_files() == []


def test_the_index_does_not_name_the_addresses_it_serves():
    send_email("ada@example.com", "Your code", "123456")
    send_sms("+6581234567", "Code 111111")
    names = os.listdir(settings().home / "delivered")
    joined = " ".join(names)
    assert "ada" not in joined and "81234567" not in joined
    assert recipient_key("ada@example.com") in names
    assert recipient_key("+65 8123-4567") in names  # any formatting, one key


def test_messages_stored_before_the_index_existed_are_found_once():
    # A data directory from before the index: messages in the Maildir and the outbox, no index.
    settings().home.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(settings().maildir, create=True)
    for to in ("ada@example.com", "bob@example.com"):
        message = email.message.EmailMessage()
        message["To"], message["Subject"] = to, "old"
        message.set_content("hello")
        box.add(message)
    settings().outbox_dir.mkdir(parents=True)
    (settings().outbox_dir / "1-old-sms.json").write_text(
        '{"channel": "sms", "to": "+6581234567", "subject": null, "body": "x",'
        ' "sent_at": "2026-12-01T10:00:00Z", "seq": 1}', encoding="utf-8")

    assert erase_deliveries(["ada@example.com", "+6581234567"]) == 2
    assert [m.to for m in read_outbox()] == ["bob@example.com"]
    assert (settings().home / "delivered" / ".complete").exists()


def test_maildir_messages_are_private_and_readable_by_the_mailbox_module():
    send_email("ada@example.com", "Héllo", "Bonjour 123456")
    box = settings().maildir
    (name,) = os.listdir(box / "new")
    assert os.stat(box / "new" / name).st_mode & 0o777 == 0o600
    assert os.listdir(box / "tmp") == []
    (key,) = mailbox.Maildir(box, create=False).keys()
    assert key == name
    (message,) = read_outbox()
    assert (message.subject, message.body) == ("Héllo", "Bonjour 123456")
