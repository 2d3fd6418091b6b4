"""The account flows refuse every field of a form at once (issue 12): change password, delete
account, real-name registration; and the Real-name section's page read."""

from __future__ import annotations

import pytest

from core.errors import AuthenticationError, FormErrors


def test_change_password_refuses_every_field_at_once(active):
    from core.security import change_password

    token, _ = active
    with pytest.raises(FormErrors) as info:
        change_password(token, "", "short", "different")
    assert set(info.value.errors) == {"current-password", "new-password",
                                      "new-password-confirm"}


def test_a_wrong_current_password_with_other_errors_is_both(active):
    from core.security import change_password

    token, _ = active
    with pytest.raises(FormErrors) as info:
        change_password(token, "not the password at all", "short", "short")
    assert isinstance(info.value, AuthenticationError)  # counted as a wrong re-entry too
    assert info.value.errors["current-password"] == "Your current password is not correct."
    assert "new-password" in info.value.errors


def test_delete_refuses_the_disclaimer_and_the_password_at_once(active):
    from core.deletion import request_deletion

    token, _ = active
    with pytest.raises(FormErrors) as info:
        request_deletion(token, "", False)
    assert set(info.value.errors) == {"delete-disclaimer", "delete-password"}


def test_real_name_refuses_every_field_at_once(active):
    from core.real_name import submit_enterprise, submit_individual

    token, _ = active
    with pytest.raises(FormErrors) as info:
        submit_individual(token, "", "resident_id", "110105194912310021")
    assert set(info.value.errors) == {"rn-name", "rn-id-number"}
    with pytest.raises(FormErrors) as info:
        submit_enterprise(token, "", "91330100MA2AB1CD1I", "", "/no/such/file.pdf")
    assert set(info.value.errors) == {"rn-company", "rn-credit-code", "rn-legal-rep",
                                      "rn-licence"}


def test_real_name_page_is_one_frozen_read(active):
    import dataclasses

    from core.real_name import real_name_page

    token, _ = active
    page = real_name_page(token)
    assert page.registration.status == "none" and not page.remote and page.uploads is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.remote = True  # type: ignore[misc]
