"""F18: every email, SMS and call goes in the recipient account's language (English or
Simplified Chinese), chosen at sign-up from the console's language, whatever the language of
the console that sends it; the outbox (CONTRACT.md) reads the same either way."""

from __future__ import annotations

import email
import email.policy
import json
import re

import pytest

from tests.conftest import STRONG_PASSWORD, latest_code
from tests.core.protect import E164, EMAIL, NEW_PASSWORD, PHONE, SSH_ADDRESS

CODE_RUN = re.compile(r"(?<!\d)\d{6}(?!\d)")
HAN = re.compile(r"[\u4e00-\u9fff]")
ZH = "zh-Hans"


def sign_up_in(language: str | None, address: str = EMAIL):
    from core.accounts import sign_up

    return sign_up("SG", address, STRONG_PASSWORD, STRONG_PASSWORD, True, language=language)


def active_in(language: str | None, address: str = EMAIL, phone: str | None = None) -> str:
    """An account signed up from a console in `language`, verified by email (and phone)."""
    from core.verify_account import confirm_code, send_code

    result = sign_up_in(language, address)
    send_code(result.token, "signup", "email")
    confirm_code(result.token, "signup", "email", latest_code(address))
    if phone:
        send_code(result.token, "second_channel", "sms", phone)
        confirm_code(result.token, "second_channel", "sms", latest_code(phone), phone)
    return result.token


def newest(to: str):
    from core.delivery import read_outbox

    messages = read_outbox(to)
    assert messages, f"nothing delivered to {to}"
    return messages[0]


def maildir_files(home):
    return sorted((home / "Maildir" / "new").iterdir())


# --- the language at sign-up ---------------------------------------------------------------------

def test_sign_up_keeps_the_consoles_language_on_the_account(db):
    from core.models import Account

    sign_up_in(ZH)
    assert Account.get(Account.email == EMAIL).language == ZH
    sign_up_in(None, "bob@example.com")
    assert Account.get(Account.email == "bob@example.com").language is None
    sign_up_in("fr", "carol@example.com")  # not a language of cloudacct: none stored
    assert Account.get(Account.email == "carol@example.com").language is None


# --- codes ---------------------------------------------------------------------------------------

def test_a_chinese_accounts_code_email_over_a_real_smtp_server(db, smtp_server):
    from core.verify_account import confirm_code, send_code

    result = sign_up_in(ZH)
    send_code(result.token, "signup", "email")
    (envelope, _tls), = smtp_server.messages
    assert envelope.rcpt_tos == [EMAIL]
    raw = envelope.original_content
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii()  # encoded words: every mail server takes the message
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "您的 Alibaba Cloud 验证码"
    body = message.get_content()
    assert "10 分钟内有效" in body and "Your" not in body
    code = CODE_RUN.search(body).group()
    assert confirm_code(result.token, "signup", "email", code).status == "active"


def test_a_chinese_accounts_code_email_in_the_maildir_and_the_outbox(db, cloudacct_home,
                                                                     capsys):
    from tui.cli import main

    result = sign_up_in(ZH)
    from core.verify_account import send_code

    send_code(result.token, "signup", "email")
    (path,) = maildir_files(cloudacct_home)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "您的 Alibaba Cloud 验证码"
    assert "仅可使用一次" in message.get_content()
    assert main(["outbox", "--json", "--to", EMAIL]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert {"channel", "to", "subject", "body", "sent_at"} <= set(record)
    assert record["channel"] == "email" and record["to"] == EMAIL
    assert record["subject"] == "您的 Alibaba Cloud 验证码"
    assert len(CODE_RUN.findall(record["body"])) == 1
    assert main(["outbox"]) == 0
    shown = capsys.readouterr().out
    assert CODE_RUN.search(record["body"]).group() in shown and "验证码" in shown


def test_a_chinese_accounts_sms_and_call_in_the_outbox(db, capsys):
    from core.verify_account import confirm_code, send_code
    from tui.cli import main

    token = sign_up_in(ZH).token
    send_code(token, "signup", "sms", PHONE)
    sms = newest(E164)
    assert sms.channel == "sms" and sms.subject is None and sms.to == E164
    code = CODE_RUN.search(sms.body)
    assert code and code.start() < 30  # early: a long SMS is split
    assert sms.body.startswith("【Alibaba Cloud】") and "10 分钟内有效" in sms.body
    assert confirm_code(token, "signup", "sms", code.group(), PHONE).status == "active"

    other = sign_up_in(ZH, "bob@example.com").token
    send_code(other, "signup", "voice", "+65 9123 4567")
    call = newest("+6591234567")
    assert call.channel == "voice" and HAN.search(call.body) and "Goodbye" not in call.body
    assert len(CODE_RUN.findall(call.body)) == 1
    assert main(["outbox", "--json", "--to", "+65 9123 4567"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["channel"] == "voice" and record["subject"] is None
    assert record["body"] == call.body


def test_an_english_account_reads_as_before_even_from_a_chinese_console(db, chinese):
    """The console's language (Chinese here) never decides: the account's does."""
    from core.verify_account import send_code

    result = sign_up_in("en")
    send_code(result.token, "signup", "email")
    mail = newest(EMAIL)
    code = CODE_RUN.search(mail.body).group()
    assert mail.subject == "Your Alibaba Cloud verification code"
    assert mail.body == (f"Your Alibaba Cloud verification code is {code}.\n\nIt is valid for "
                         "10 minutes and can be used once. If you did not ask for it, you can "
                         "ignore this email.")
    send_code(result.token, "signup", "sms", PHONE)
    sms = newest(E164)
    code = CODE_RUN.search(sms.body).group()
    assert sms.body == f"Alibaba Cloud: your verification code is {code}. Valid for 10 minutes."


def test_a_code_to_a_new_address_goes_in_the_accounts_language(db):
    """The new email of a change belongs to nobody yet: the code is the account's."""
    from core.contact_change import start_email_change
    from tests.conftest import stepped_up

    token = active_in(ZH)
    start_email_change(stepped_up(token), "new@example.com")
    mail = newest("new@example.com")
    assert mail.subject == "您的 Alibaba Cloud 新邮箱确认验证码"
    assert CODE_RUN.search(mail.body)


def test_a_password_reset_code_in_chinese(db):
    from core.password_reset import start_password_reset

    active_in(ZH)
    start_password_reset(EMAIL)
    mail = newest(EMAIL)
    assert mail.subject == "您的 Alibaba Cloud 密码重置验证码"
    assert "您的密码保持不变" in mail.body and CODE_RUN.search(mail.body)


# --- sign-ups with an email that has an account --------------------------------------------------

def test_a_sign_up_with_a_taken_email_tells_the_owner_in_the_owners_language(db):
    from core.verify_account import send_code

    active_in(ZH)
    visitor = sign_up_in("en")  # the same email, from an English console
    send_code(visitor.token, "signup", "email")
    mail = newest(EMAIL)
    assert mail.subject == "有人尝试用您的邮箱注册 Alibaba Cloud"
    assert not CODE_RUN.search(mail.body)


@pytest.mark.parametrize("owner", [ZH, "en"])
def test_a_decoys_phone_code_speaks_the_visitors_console_never_the_owners(db, owner):
    """The language of the code must not tell the visitor that the email has an account."""
    from core.i18n import use_language
    from core.verify_account import send_code

    active_in(owner)
    visitor = ZH if owner == "en" else "en"
    use_language(visitor)
    try:
        decoy = sign_up_in(visitor)
        send_code(decoy.token, "signup", "sms", PHONE)
    finally:
        use_language("en")
    sms = newest(E164)
    assert CODE_RUN.search(sms.body)
    assert bool(HAN.search(sms.body)) == (visitor == ZH)


# --- security notices ----------------------------------------------------------------------------

def test_password_changed_notice_in_chinese_by_email_and_sms(db, cloudacct_home):
    from core.accounts import log_on
    from core.security import change_password

    active_in(ZH, phone=PHONE)
    token = log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS).token
    change_password(token, STRONG_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
    mail = newest(EMAIL)
    assert mail.subject == "您的 Alibaba Cloud 密码已修改"
    assert "2026年12月1日 10:00 UTC" in mail.body
    assert f"操作来自地址 {SSH_ADDRESS}（通过 SSH）" in mail.body
    assert "support@" in mail.body and "The password" not in mail.body
    raw = maildir_files(cloudacct_home)[-1].read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "您的 Alibaba Cloud 密码已修改"
    assert "2026年12月1日" in parsed.get_content()
    sms = newest(E164)
    assert sms.body.startswith("【Alibaba Cloud】您的密码已于 2026年12月1日 10:00 UTC 修改。")
    assert not CODE_RUN.search(sms.body)


def test_the_accounts_new_language_is_used_from_the_next_notice(db):
    from core.languages import set_account_language
    from core.notices import notify_mfa_enabled
    from core.sessions import require_account

    token = active_in("en")
    account_id = require_account(token).id
    notify_mfa_enabled(account_id, origin="local")
    assert newest(EMAIL).subject == "Virtual MFA is on for your Alibaba Cloud account"
    set_account_language(token, ZH)
    notify_mfa_enabled(account_id, origin="local")
    mail = newest(EMAIL)
    assert mail.subject == "您的 Alibaba Cloud 账号已开启虚拟MFA"
    assert "操作来自本机（本地控制台）" in mail.body


def test_money_notices_format_amounts_and_dates_in_the_language():
    from datetime import datetime

    from core.i18n import format_amount
    from core.notices import bill_issued_words, card_expiring_words

    at = datetime(2026, 12, 1, 10, 0)
    chinese = bill_issued_words("ECS #3 usage", format_amount(123456, "USD", ZH), True,
                                "Visa •••• 4242", at, language=ZH)
    assert chinese.subject == "您的 Alibaba Cloud 账单：US$1,234.56"
    assert "已从 Visa •••• 4242 扣款。" in chinese.body
    english = bill_issued_words("ECS #3 usage", format_amount(123456, "USD", "en"), True,
                                "Visa •••• 4242", at)
    assert english.subject == "Your Alibaba Cloud bill of 1234.56 USD"
    assert english.body.startswith("A bill of 1234.56 USD was issued on 2026-12-01 10:00 UTC "
                                   "for ECS #3 usage. It was charged to Visa •••• 4242.")
    card = card_expiring_words("Visa •••• 4242", "01/27", datetime(2027, 1, 31), language=ZH)
    assert "2027年1月31日" in card.body
    assert "(after 2027-01-31)" in card_expiring_words("Visa •••• 4242", "01/27",
                                                       datetime(2027, 1, 31)).body


def test_every_notice_has_a_chinese_text_without_a_code_shape():
    """Each builder gives Chinese for zh-Hans (the catalogue has it) and no run of six digits."""
    from datetime import datetime

    from core import notices

    at = datetime(2026, 12, 1, 10, 0)
    built = [
        notices.password_changed_words(at, SSH_ADDRESS, 2, language=ZH),
        notices.password_reset_words(at, "local", language=ZH),
        notices.email_changed_words("a@example.com", "b@example.com", at, None, to_old=True,
                                    language=ZH),
        notices.email_changed_words("a@example.com", "b@example.com", at, None, to_old=False,
                                    language=ZH),
        notices.phone_changed_words("+6581234567", "+6598765432", at, "local", language=ZH),
        notices.phone_changed_words(None, "+6598765432", at, "local", language=ZH),
        notices.mfa_words(True, at, "local", language=ZH),
        notices.mfa_words(False, at, "local", language=ZH),
        notices.key_words(True, "SHA256:abc", "laptop", at, SSH_ADDRESS, language=ZH),
        notices.key_words(False, "SHA256:abc", None, at, SSH_ADDRESS, language=ZH),
        notices.new_address_words(at, SSH_ADDRESS, language=ZH),
        notices.deletion_pending_words(at, "local", at, language=ZH),
        notices.deletion_pending_words(at, "local", None, language=ZH),
        notices.account_deleted_words(at, language=ZH),
        notices.bill_issued_words("ECS #3 usage", "US$1.00", None, None, at, language=ZH),
        notices.charge_declined_words("ECS #3 usage", "US$1.00", "card declined", None, at,
                                      language=ZH),
        notices.charge_declined_words("ECS #3 usage", "US$1.00", "card declined", "Visa", at,
                                      language=ZH),
        notices.subscription_words(True, "ECS #3", at, "US$10.00", at, language=ZH),
        notices.subscription_words(True, "ECS #3", None, "US$10.00", at, language=ZH),
        notices.subscription_words(False, "ECS #3", None, None, at, language=ZH),
        notices.card_expiring_words("Visa •••• 4242", "01/27", at, language=ZH),
        notices.real_name_words(True, None, at, language=ZH),
        notices.real_name_words(False, "no", at, language=ZH),
        notices.real_name_words(False, None, at, language=ZH),
        notices.signup_attempt(language=ZH),
        notices.email_change_attempt(at, SSH_ADDRESS, language=ZH),
        notices.signup_with_phone_attempt("+6581234567", decoy=True, language=ZH),
        notices.signup_with_phone_attempt("+6581234567", decoy=False, language=ZH),
    ]
    for words in built:
        for text in (words.subject, words.body, words.sms):
            if text is None:
                continue
            assert HAN.search(text), text
            assert not CODE_RUN.search(text), text
            assert "{" not in text, text
    closed = notices.account_closed_sms("a@example.com", language=ZH)
    assert HAN.search(closed) and not CODE_RUN.search(closed)
    for purpose in ("signup", "second_channel", "password_reset", "change_email",
                    "change_phone"):
        for text in (notices.code_email(purpose, "123456", ZH).body,
                     notices.code_sms(purpose, "123456", ZH),
                     notices.code_call(purpose, "123456", ZH)):
            assert HAN.search(text) and CODE_RUN.findall(text) == ["123456"], text
