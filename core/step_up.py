"""F13 step-up: sensitive actions need a fresh proof that the owner is at the keyboard.

The actions (SPEC F13): delete the account, change the password, change the email or phone, add
or remove a payment method, trust or remove an SSH key, disable MFA, regenerate recovery codes,
reset the password; and binding an MFA device (whoever could bind one in an unattended session
would lock the owner out). Each of their core functions calls `require_step_up` first; the core
decides, never the screen. Without a recent proof it raises `StepUpRequired`, which the console
catches to open its step-up modal (`#step-up-code`), calls `step_up`, and retries the action.

The grant
- The proof is the authenticator code (or a recovery code) when MFA is on, the password when it
  is off (`step_up_method`). `step_up(token, code_or_password)` checks it (wrong codes and wrong
  passwords are throttled as everywhere else) and records the moment on the session
  (`Session.stepped_up_at`), in the database, so it holds for that session only. Codes typed
  here count apart from those at log-on (core.logon_throttle), so whoever has the password and
  floods the log-on's code step cannot keep the logged-on owner from stepping up.
- It lasts STEP_UP_WINDOW (5 minutes) from the proof, for any number of sensitive actions in that
  window: asking again for each of two actions done one after the other (remove the old key,
  trust the new one) only teaches people to type codes without reading, while a window this short
  leaves an unattended session little. It is not extended by use. This is the "recent
  authentication" of OpenID Connect's `max_age` (Keycloak asks again for its sensitive actions
  after 5 minutes by default) and GitHub's sudo mode.
- A log-on with the password (and the code, with MFA on), and a sign-up (the person just chose
  the password), count as a proof at the moment they happen. A session opened by a trusted SSH
  key alone does not: the key opens the door, it does not say who is typing. A password reset
  ends every session; its own proof is the emailed code (and the authenticator code with MFA on,
  core.password_reset).
- Actions that already carry the password (Delete My Account's `#delete-password`, change
  password's current password, removing a payment method) count it as the step-up when MFA is
  off (`password_carried=True`): nobody types it twice. With MFA on they need the code as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core import clock
from core.db import transaction
from core.errors import DomainError, SessionExpired
from core.i18n import N_, phrase
from core.models import Session
from core.sessions import live_session_row, reason_message, require_account

STEP_UP_WINDOW = timedelta(minutes=5)
FIELD = "step-up-code"

ACTIONS = {
    "delete_account": N_("delete your account"),
    "change_password": N_("change your password"),
    "change_email": N_("change your email address"),
    "change_phone": N_("change your phone number"),
    "add_payment_method": N_("add a payment method"),
    "remove_payment_method": N_("remove a payment method"),
    "trust_key": N_("trust an SSH key"),
    "remove_key": N_("remove a trusted SSH key"),
    "enable_mfa": N_("turn on virtual MFA"),
    "disable_mfa": N_("turn off virtual MFA"),
    "regenerate_recovery_codes": N_("make new recovery codes"),
    "reset_password": N_("reset your password"),
}


class StepUpRequired(DomainError):
    """The action needs a fresh proof: open the step-up modal, `step_up`, then retry.
    `method` is `code` (MFA on: authenticator or recovery code) or `password`."""

    field = FIELD

    def __init__(self, action: str, method: str) -> None:
        self.action = action
        self.method = method
        what = ACTIONS.get(action, N_("do this"))
        if method == "code":
            # Translators: {what} is an action, as in "To delete your account, ..."
            text = phrase("To {what}, confirm it is you: enter the code from your "
                          "authenticator app (or a recovery code).", what=what)
        else:
            # Translators: {what} is an action, as in "To delete your account, ..."
            text = phrase("To {what}, confirm it is you: enter your password.", what=what)
        super().__init__(text, FIELD)


@dataclass(frozen=True)
class StepUpGrant:
    method: str  # code | password
    until: datetime  # sensitive actions need no other proof until then


def _mfa_on(account_id: int) -> bool:
    from core.mfa import mfa_enabled

    return mfa_enabled(account_id)


def step_up_method(token: str | None) -> str:
    """What the step-up modal asks for: `code` (MFA on) or `password`."""
    return "code" if _mfa_on(require_account(token).id) else "password"


def _session_row(token: str | None) -> Session:
    row = live_session_row(token, touch=False)
    if row.account_id is None:
        raise SessionExpired(reason_message("ended"))
    return row


def granted_until(token: str | None) -> datetime | None:
    """When the session's step-up grant ends (None: there is none now)."""
    row = _session_row(token)
    if row.stepped_up_at is None:
        return None
    until = row.stepped_up_at + STEP_UP_WINDOW
    return until if until >= clock.now() else None


def require_step_up(token: str | None, action: str, *, password_carried: bool = False) -> None:
    """Raise StepUpRequired unless this session stepped up within the window, or (MFA off)
    the action itself carries the password (`password_carried`: it checks the password right
    after, and that check is the proof)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown sensitive action {action!r}")
    account = require_account(token)
    mfa = _mfa_on(account.id)
    if password_carried and not mfa:
        return
    if granted_until(token) is not None:
        return
    raise StepUpRequired(action, "code" if mfa else "password")


def step_up(token: str | None, code_or_password: str | None) -> StepUpGrant:
    """Check the proof (`#step-up-code`) and grant the session STEP_UP_WINDOW of sensitive
    actions. Raises the refusals of the code (core.mfa.use_second_factor) or of the password
    (core.security.check_password_again), all for `step-up-code`."""
    from core.mfa import use_second_factor
    from core.security import check_password_again

    account = require_account(token)
    row = _session_row(token)
    at = clock.now()

    def grant() -> None:
        Session.update(stepped_up_at=at).where(Session.id == row.id,
                                               Session.ended_at.is_null()).execute()

    if _mfa_on(account.id):
        use_second_factor(account, code_or_password, origin=row.origin, field=FIELD,
                          in_session=True, on_success=grant)
        method = "code"
    else:
        check_password_again(account, code_or_password, FIELD)
        with transaction():
            grant()
        method = "password"
    return StepUpGrant(method, at + STEP_UP_WINDOW)

