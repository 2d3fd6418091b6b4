"""Delivery of codes and notices: Maildir by default, SMTP (plain and STARTTLS) when configured,
the SMS/voice outbox, and failures that record nothing and can be retried."""

from __future__ import annotations

import json
import mailbox
import shutil
import ssl
import subprocess
from datetime import timedelta

import pytest

from core.delivery import place_call, read_outbox, send_email, send_sms
from core.delivery.phone import set_phone_provider
from core.errors import CodeError, DeliveryError
from core.models import Code
from core.verify_account import confirm_code, send_code, verify_state
from tests.conftest import latest_code
from tests.core.conftest import CODE_RUN, free_port, rows, start_smtp


def _use_smtp(monkeypatch, url: str) -> None:
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SMTP_URL", url)
    reset_settings()


# --- Maildir (the default) ------------------------------------------------------------------

def test_email_lands_in_the_maildir_of_the_data_directory(signed_up, cloudacct_home):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    box = mailbox.Maildir(cloudacct_home / "Maildir", create=False)
    messages = list(box)
    assert len(messages) == 1
    assert messages[0]["To"] == email
    assert "verification code" in messages[0]["Subject"]
    listed = read_outbox(email)
    assert len(listed) == 1
    m = listed[0]
    assert (m.channel, m.to) == ("email", email)
    assert "Alibaba Cloud" in m.subject
    assert m.sent_at == "2026-12-01T10:00:00Z"  # the standing clock
    code = CODE_RUN.search(m.body).group()
    assert confirm_code(result.token, "signup", "email", code).status == "active"


def test_brand_is_configurable(signed_up, monkeypatch):
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_BRAND", "Nimbus Cloud")
    reset_settings()
    result, email = signed_up
    send_code(result.token, "signup", "email")
    message = read_outbox(email)[0]
    assert "Nimbus Cloud" in message.subject and "Nimbus Cloud" in message.body


def test_maildir_is_created_when_the_data_directory_does_not_exist_yet(cloudacct_home):
    assert not cloudacct_home.exists()
    send_email("bob@example.com", "Hello", "Body 123456")
    assert [m.to for m in read_outbox()] == ["bob@example.com"]


def test_maildir_failure_is_a_delivery_error(signed_up, cloudacct_home):
    result, _ = signed_up
    cloudacct_home.mkdir(parents=True, exist_ok=True)  # PostgreSQL: no database file made it
    (cloudacct_home / "Maildir").write_text("not a directory")
    with pytest.raises(DeliveryError):
        send_code(result.token, "signup", "email")
    assert rows(Code) == 0


def test_internationalised_address_is_delivered_and_found(db, cloudacct_home):
    from tests.core.conftest import make_account

    result = make_account("zoë@bücher.de")
    send_code(result.token, "signup", "email")
    for spelling in ("zoë@bücher.de", "ZOË@BÜCHER.DE", "zoë@xn--bcher-kva.de"):
        assert len(read_outbox(spelling)) == 1, spelling
    assert confirm_code(result.token, "signup", "email", latest_code("zoë@bücher.de")).status \
        == "active"


# --- SMTP -----------------------------------------------------------------------------------

def test_code_goes_over_smtp_when_configured(signed_up, smtp_server, cloudacct_home):
    result, email = signed_up
    send_code(result.token, "signup", "email")
    assert len(smtp_server.messages) == 1
    envelope, _tls = smtp_server.messages[0]
    assert envelope.rcpt_tos == [email]
    text = envelope.content.decode()
    code = CODE_RUN.search(text.split("\r\n\r\n", 1)[1]).group()
    assert "Subject: Your Alibaba Cloud verification code" in text
    assert not (cloudacct_home / "Maildir").exists()  # not also in the Maildir
    assert confirm_code(result.token, "signup", "email", code).status == "active"


def test_internationalised_domain_over_smtp(db, smtp_server):
    from tests.core.conftest import make_account

    result = make_account("zoe@bücher.de")
    send_code(result.token, "signup", "email")
    envelope, _ = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["zoe@xn--bcher-kva.de"]


@pytest.fixture
def self_signed(tmp_path):
    """A certificate for 127.0.0.1 made with the openssl command, trusted via SSL_CERT_FILE."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_starttls_is_used_when_offered(signed_up, self_signed, monkeypatch):
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller, server = start_smtp(tls_context=context, require_starttls=True)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts our certificate
        _use_smtp(monkeypatch, server.url)
        result, email = signed_up
        send_code(result.token, "signup", "email")
    finally:
        controller.stop()
    assert len(server.messages) == 1
    envelope, tls = server.messages[0]
    assert tls, "the message was sent before STARTTLS"
    assert envelope.rcpt_tos == [email]
    assert CODE_RUN.search(envelope.content.decode().split("\r\n\r\n", 1)[1])


def test_untrusted_certificate_is_a_delivery_error(signed_up, self_signed, monkeypatch):
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller, server = start_smtp(tls_context=context, require_starttls=True)
    try:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        _use_smtp(monkeypatch, server.url)
        result, _ = signed_up
        with pytest.raises(DeliveryError):
            send_code(result.token, "signup", "email")
    finally:
        controller.stop()
    assert server.messages == []
    assert rows(Code) == 0


def test_smtp_down_records_nothing_and_a_retry_works(signed_up, monkeypatch, clock):
    result, email = signed_up
    port = free_port()  # nothing listens there
    _use_smtp(monkeypatch, f"smtp://127.0.0.1:{port}")
    with pytest.raises(DeliveryError) as err:
        send_code(result.token, "signup", "email")
    assert "try again" in err.value.message
    assert rows(Code) == 0
    state = verify_state(result.token, "signup", "email")
    assert state.status.resend_in == 0  # the cooldown was not spent
    assert not state.status.sent
    # The server comes back: the retry, at the same instant, goes through.
    controller, server = start_smtp(port=port)
    try:
        send_code(result.token, "signup", "email")
    finally:
        controller.stop()
    envelope, _ = server.messages[0]
    code = CODE_RUN.search(envelope.content.decode().split("\r\n\r\n", 1)[1]).group()
    assert confirm_code(result.token, "signup", "email", code).status == "active"


def test_failed_resend_keeps_the_previous_code(signed_up, monkeypatch, clock):
    result, email = signed_up
    send_code(result.token, "signup", "email")  # to the Maildir
    code = latest_code(email)
    clock.advance(timedelta(minutes=1))
    _use_smtp(monkeypatch, f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(DeliveryError):
        send_code(result.token, "signup", "email")
    assert rows(Code) == 1
    assert confirm_code(result.token, "signup", "email", code).status == "active"


def test_failed_sends_do_not_count_towards_the_hourly_limit(signed_up, monkeypatch, clock):
    result, _ = signed_up
    _use_smtp(monkeypatch, f"smtp://127.0.0.1:{free_port()}")
    for _ in range(6):
        with pytest.raises(DeliveryError):
            send_code(result.token, "signup", "email")
    controller, server = start_smtp()
    try:
        _use_smtp(monkeypatch, server.url)
        send_code(result.token, "signup", "email")
    finally:
        controller.stop()
    assert len(server.messages) == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:25", "ftp://x"])
def test_bad_smtp_url_is_a_delivery_error(signed_up, monkeypatch, url):
    _use_smtp(monkeypatch, url)
    with pytest.raises(DeliveryError):
        send_code(signed_up[0].token, "signup", "email")
    assert rows(Code) == 0


# --- SMS and voice --------------------------------------------------------------------------

def test_sms_and_call_are_written_to_the_outbox(active, cloudacct_home, clock):
    token, _ = active
    send_code(token, "second_channel", "sms", "8123 4567")
    clock.advance(timedelta(minutes=1))
    send_code(token, "second_channel", "voice", "8123 4567")
    files = sorted((cloudacct_home / "outbox").glob("*.json"))
    assert len(files) == 2
    records = [json.loads(f.read_text()) for f in files]
    assert {r["channel"] for r in records} == {"sms", "voice"}
    for r in records:
        assert r["to"] == "+6581234567"
        assert r["subject"] is None
        assert CODE_RUN.search(r["body"])
    assert not list((cloudacct_home / "outbox").glob(".*.tmp"))
    listed = read_outbox("+65 8123 4567")
    assert [m.channel for m in listed] == ["voice", "sms"]
    assert listed[0].sent_at == "2026-12-01T10:01:00Z"


class Failing:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.calls = 0

    def send_sms(self, to: str, body: str) -> None:
        self.calls += 1
        raise self.exc

    def place_call(self, to: str, script: str) -> None:
        self.calls += 1
        raise self.exc


@pytest.mark.parametrize("exc", [DeliveryError("provider down"), RuntimeError("boom"),
                                 TimeoutError("slow"), ConnectionError("reset")])
@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_failing_provider_records_nothing(active, exc, channel):
    token, _ = active
    provider = Failing(exc)
    set_phone_provider(provider)
    with pytest.raises(DeliveryError):
        send_code(token, "second_channel", channel, "8123 4567")
    assert provider.calls == 1
    assert rows(Code) == 1  # only the sign-up code of the fixture
    assert verify_state(token, "second_channel", channel, "8123 4567").status.resend_in == 0
    set_phone_provider(None)
    send_code(token, "second_channel", channel, "8123 4567")
    view = confirm_code(token, "second_channel", channel, latest_code("+6581234567"),
                        "8123 4567")
    assert view.phone == "+6581234567"


def test_failing_provider_keeps_the_previous_phone_code(active, clock):
    token, _ = active
    send_code(token, "second_channel", "sms", "8123 4567")
    code = latest_code("+6581234567")
    clock.advance(timedelta(minutes=1))
    set_phone_provider(Failing(RuntimeError("down")))
    with pytest.raises(DeliveryError):
        send_code(token, "second_channel", "sms", "8123 4567")
    set_phone_provider(None)
    assert confirm_code(token, "second_channel", "sms", code, "8123 4567").phone == "+6581234567"


def test_a_wrong_code_after_a_failed_send_is_still_a_wrong_code(active):
    token, _ = active
    set_phone_provider(Failing(RuntimeError("down")))
    with pytest.raises(DeliveryError):
        send_code(token, "second_channel", "sms", "8123 4567")
    with pytest.raises(CodeError):
        confirm_code(token, "second_channel", "sms", "123456", "8123 4567")


# --- reading the outbox ---------------------------------------------------------------------

def test_outbox_is_newest_first_with_the_clock_standing_still(cloudacct_home):
    send_sms("+6581234567", "one")
    send_email("Bob@Example.com", "two", "two")
    place_call("+6581234567", "three")
    send_sms("+6581234567", "four")
    send_email("bob@example.com", "five", "five")
    assert [m.body for m in read_outbox()] == ["five", "four", "three", "two", "one"]
    assert len({m.sent_at for m in read_outbox()}) == 1


@pytest.mark.parametrize("query", ["+6581234567", "+65 8123-4567", "6581234567", "81234567",
                                   "(+65) 8123 4567", " +65.8123.4567 "])
def test_outbox_matches_phones_in_any_formatting(cloudacct_home, query):
    send_sms("+6581234567", "mine")
    send_sms("+6581234568", "not mine")
    send_email("a@example.com", "s", "email")
    assert [m.body for m in read_outbox(query)] == ["mine"]


@pytest.mark.parametrize("query", ["bob@example.com", "BOB@EXAMPLE.COM", " Bob@Example.Com "])
def test_outbox_matches_emails_in_any_case(cloudacct_home, query):
    send_email("Bob@example.com", "s", "mine")
    send_email("bobby@example.com", "s", "not mine")
    send_sms("+6581234567", "sms")
    assert [m.body for m in read_outbox(query)] == ["mine"]


def test_an_email_query_never_matches_a_phone(cloudacct_home):
    send_sms("+6581234567", "sms")
    assert read_outbox("81234567@example.com") == []


def test_outbox_skips_unreadable_files(cloudacct_home):
    send_sms("+6581234567", "good")
    (cloudacct_home / "outbox" / "broken.json").write_text("{not json")
    (cloudacct_home / "outbox" / "partial.json").write_text('{"channel": "sms"}')
    assert [m.body for m in read_outbox()] == ["good"]
