"""The mail password never goes out in clear (issue 11, item 8), against a real aiosmtpd server:
with credentials and no STARTTLS the send is refused before AUTH and nothing is delivered,
unless CLOUDACCT_SMTP_URL says `?insecure_auth=1`; with STARTTLS the password goes after TLS,
the certificate verified (against `?cafile=` here)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass, field

import pytest

from core.delivery import send_email
from core.delivery.email import smtp_target
from core.errors import DeliveryError
from tests.core.conftest import start_smtp

USER, PASSWORD = "mailer", "p@ss word/x"
QUOTED = "p%40ss%20word%2Fx"


@dataclass
class Logins:
    """An aiosmtpd authenticator that accepts USER/PASSWORD and remembers every attempt, with
    whether the connection was encrypted when the password arrived."""

    attempts: list[tuple[str, str, bool]] = field(default_factory=list)

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.attempts.append((login, password, session.ssl is not None))
        return AuthResult(success=(login, password) == (USER, PASSWORD))


@pytest.fixture
def use_url(monkeypatch):
    from core.config import reset_settings

    def use(url: str) -> None:
        monkeypatch.setenv("CLOUDACCT_SMTP_URL", url)
        reset_settings()
    return use


@pytest.fixture
def plain_server():
    """An SMTP server that offers AUTH without TLS (and no STARTTLS at all)."""
    logins = Logins()
    controller, server = start_smtp(authenticator=logins, auth_require_tls=False)
    try:
        yield server, logins
    finally:
        controller.stop()


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def tls_server(certificate):
    """An SMTP server that offers STARTTLS and AUTH only after it."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = Logins()
    controller, server = start_smtp(tls_context=context, authenticator=logins)
    try:
        yield server, logins, cert
    finally:
        controller.stop()


def test_credentials_without_starttls_are_refused_and_nothing_is_sent(plain_server, use_url,
                                                                       monkeypatch):
    server, logins = plain_server
    use_url(f"smtp://{USER}:{QUOTED}@{server.host}:{server.port}")
    with pytest.raises(DeliveryError) as info:
        send_email("mei@example.com", "Your code", "Your code is 123456.")
    assert "offers no TLS" in info.value.message and "insecure_auth=1" in info.value.message
    assert "Nothing was recorded" in info.value.message
    assert PASSWORD not in info.value.message and QUOTED not in info.value.message
    assert logins.attempts == [] and server.messages == []


@pytest.mark.parametrize("flag", ["1", "true", "yes"])
def test_insecure_auth_in_the_url_allows_it(plain_server, use_url, flag):
    server, logins = plain_server
    use_url(f"smtp://{USER}:{QUOTED}@{server.host}:{server.port}?insecure_auth={flag}")
    send_email("mei@example.com", "Your code", "Your code is 123456.")
    assert logins.attempts == [(USER, PASSWORD, False)]
    assert [envelope.rcpt_tos for envelope, _ in server.messages] == [["mei@example.com"]]


def test_insecure_auth_0_is_the_default_rule(plain_server, use_url):
    server, logins = plain_server
    use_url(f"smtp://{USER}:{QUOTED}@{server.host}:{server.port}?insecure_auth=0")
    with pytest.raises(DeliveryError):
        send_email("mei@example.com", "Your code", "Your code is 123456.")
    assert logins.attempts == [] and server.messages == []


def test_no_credentials_and_no_tls_still_sends(plain_server, use_url):
    """Without a password there is nothing to leak: a plain relay keeps working."""
    server, logins = plain_server
    use_url(f"smtp://{server.host}:{server.port}")
    send_email("mei@example.com", "Hello", "Body")
    assert logins.attempts == [] and len(server.messages) == 1


def test_starttls_carries_the_password(tls_server, use_url, monkeypatch):
    server, logins, cert = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    use_url(f"smtp://{USER}:{QUOTED}@{server.host}:{server.port}?cafile={cert}")
    send_email("mei@example.com", "Your code", "Your code is 123456.")
    assert logins.attempts == [(USER, PASSWORD, True)]
    assert [(envelope.rcpt_tos, tls) for envelope, tls in server.messages] == [
        (["mei@example.com"], True)]


def test_an_untrusted_certificate_sends_no_password(tls_server, use_url, monkeypatch):
    server, logins, _ = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    use_url(f"smtp://{USER}:{QUOTED}@{server.host}:{server.port}?insecure_auth=1")
    with pytest.raises(DeliveryError) as info:
        send_email("mei@example.com", "Your code", "Your code is 123456.")
    assert "SSLCertVerificationError" in info.value.message or "certificate" in \
        info.value.message.lower()
    assert logins.attempts == [] and server.messages == []


@pytest.mark.parametrize("query, words", [
    ("insecure_auht=1", "unknown option 'insecure_auht'"),
    ("insecure_auth", "insecure_auth must be 1"),
    ("insecure_auth=maybe", "insecure_auth must be 1"),
])
def test_a_mistyped_option_is_refused(use_url, query, words):
    use_url(f"smtp://{USER}:{QUOTED}@127.0.0.1:1?{query}")
    with pytest.raises(DeliveryError) as info:
        send_email("mei@example.com", "Hello", "Body")
    assert words in info.value.message


def test_a_missing_ca_file_is_a_delivery_error(use_url, tmp_path):
    use_url(f"smtp://127.0.0.1:1?cafile={tmp_path / 'nope.pem'}")
    with pytest.raises(DeliveryError) as info:
        send_email("mei@example.com", "Hello", "Body")
    assert "CA file" in info.value.message


def test_a_non_ascii_password_is_a_delivery_error(plain_server, use_url):
    """smtplib sends credentials as ASCII only: a clear refusal, not a UnicodeEncodeError."""
    server, logins = plain_server
    use_url(f"smtp://{USER}:p%C3%BCss@{server.host}:{server.port}?insecure_auth=1")
    with pytest.raises(DeliveryError) as info:
        send_email("mei@example.com", "Hello", "Body")
    assert "must be ASCII" in info.value.message
    assert server.messages == []


def test_the_password_is_never_in_the_target_s_repr():
    target = smtp_target(f"smtps://{USER}:{QUOTED}@mail.example.com")
    assert (target.port, target.password, target.tls_from_start) == (465, PASSWORD, True)
    assert PASSWORD not in repr(target) and "p@ss" not in repr(target)
