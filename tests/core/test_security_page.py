"""F9 additions: log off everywhere, recent log-ons with the failed attempts, and the security
page's data (MFA, recovery codes left, verified email and phone, trusted keys with their type)."""

from __future__ import annotations

import pytest

from core.errors import AuthenticationError, CodeError, SessionExpired
from tests.conftest import STRONG_PASSWORD
from tests.core.protect import (
    EMAIL,
    KEY,
    PHONE,
    SK_ED25519,
    SSH_ADDRESS,
    active_account,
    enable_mfa,
    ssh_session,
)


@pytest.fixture
def token(db):
    return active_account(phone=PHONE)


def test_log_off_everywhere_ends_every_other_session_and_keeps_this_one(token):
    from core.accounts import current_account, log_on
    from core.security import log_off_everywhere
    from core.sessions import session_alive
    from tests.core.conftest import query_elsewhere

    others = [log_on(EMAIL, STRONG_PASSWORD).token, ssh_session()]
    assert log_off_everywhere(token) == 2
    for other in others:
        assert "Log off everywhere" in session_alive(other)
        with pytest.raises(SessionExpired):
            current_account(other)
    assert current_account(token).email == EMAIL
    reasons = {r[0] for r in query_elsewhere("SELECT ended_reason FROM session "
                                             "WHERE ended_at IS NOT NULL")}
    assert reasons == {"logged_off_everywhere"}  # every process sees it
    assert log_off_everywhere(token) == 0


def test_recent_log_ons_include_failed_attempts_and_never_what_was_typed(token, clock):
    from datetime import timedelta

    from core.accounts import complete_mfa_log_on, log_on
    from core.security import security_page

    clock.advance(timedelta(minutes=1))
    with pytest.raises(AuthenticationError):
        log_on(EMAIL, "a wrong password typed", origin=SSH_ADDRESS)
    clock.advance(timedelta(minutes=1))
    mfa = enable_mfa(token)
    pending = log_on(EMAIL, STRONG_PASSWORD, origin=SSH_ADDRESS)
    with pytest.raises(CodeError):
        complete_mfa_log_on(pending.pending_token, "000000" if mfa.code() != "000000"
                            else "111111")
    complete_mfa_log_on(pending.pending_token, mfa.code())
    recent = security_page(token).recent
    results = [r.result for r in recent]
    assert results[:3] == ["logged_on", "wrong_code", "wrong_password"]
    assert recent[0].where == f"SSH from {SSH_ADDRESS}" and recent[1].where == recent[0].where
    assert recent[2].result_text == "Wrong password"
    assert recent[-1].current and recent[-1].where == "local terminal"
    assert all("wrong password typed" not in str(r) for r in recent)


def test_another_accounts_failures_are_not_shown(token):
    from core.security import security_page

    with pytest.raises(AuthenticationError):
        from core.accounts import log_on

        log_on("nobody@example.com", "whatever it is", origin=SSH_ADDRESS)
    assert [r.result for r in security_page(token).recent] == ["logged_on"]


def test_the_security_page(token):
    from core.mfa import use_second_factor
    from core.security import security_page, trust_current_key
    from core.sessions import require_account

    ssh = ssh_session(algorithm=SK_ED25519)
    trust_current_key(ssh, "yubikey")
    page = security_page(token)
    assert (page.email, page.email_verified) == (EMAIL, True)
    assert page.phone_verified and page.phone_masked == "+65••••••67"
    assert not page.mfa_enabled and page.recovery_codes_left == 0
    assert page.step_up_method == "password"
    [key] = page.trusted_keys
    assert key.fingerprint == KEY and key.algorithm == SK_ED25519 and key.is_security_key
    assert not page.can_trust_current_key  # a local session has no key
    mfa = enable_mfa(token)
    use_second_factor(require_account(token), mfa.recovery_codes[0], origin="local")
    page = security_page(token)
    assert page.mfa_enabled and page.recovery_codes_left == 9 and page.step_up_method == "code"
    ssh_page = security_page(ssh)
    assert ssh_page.current_key_trusted and not ssh_page.can_trust_current_key
