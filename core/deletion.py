"""F10 Delete the account: the checks, deletion pending, and the erasure itself.

The flow
- `deletion_check(token)` is what the Delete Account modal shows: every blocker (with what it
  is, what to do and when it clears), the Pay-As-You-Go usage not yet billed, and what pressing
  **Delete My Account** would do now (`outcome`: `blocked`, `pending` or `now`).
- `request_deletion(token, password, disclaimer_checked)` first brings the account's billing up
  to date (`core.billing.bill_due(account_id=…)`: usage due is billed and charged, ended
  subscriptions expire), then:
  - any blocker → `DeletionBlocked` (a Refused) with `.blockers`; nothing changes;
  - only released Pay-As-You-Go usage not yet billed → the account becomes `deletion_pending`
    (`Account.deletion_requested_at`); it can still log on, pay and export; the billing run
    (`core.billing_run.run_billing` → `complete_pending_deletions`) deletes it once the last
    bill is issued and paid (paying it, `core.billing_run.pay_outstanding`, does so at once),
    and pressing Delete again once everything is settled deletes it at once;
  - nothing at all → erased now (`erase_account`); every session ends, so the console logs off.
  Pressing twice does nothing twice: after the deletion the session is gone (SessionExpired);
  while pending the same pending result comes back.
- Blockers: a Pay-As-You-Go resource still running; a subscription with auto-renewal on; a
  subscription whose period is not over (it clears at its end date, when it expires); a
  suspended subscription (its renewal was declined: it is released at the end of the period it
  was renewed for); an outstanding bill. A subscription whose period has ended with auto-renewal
  off is not a blocker: the billing run (or the erasure) expires it.

What the erasure keeps and removes (`erase_account`)
- Everything is checked twice: before, and again in ONE transaction under the locks that keep
  a billing run from issuing a bill meanwhile (`_lock_resources`). Nothing is changed before
  that second check has passed: an erasure refused there leaves the account as it was, its
  payment methods included.
- That transaction: every gateway token the account ever had is written down to be revoked
  (core.payments.queue_revocations), and the billing address, real-name registrations,
  trusted SSH keys, one-time codes, verification locks, the log-on throttle rows and attempts
  of the email and the message caps' records of the account (core.message_caps) are
  deleted. The
  account row stays (bills and the ledger point at it) but its email and email key become
  `deleted-<id>` (freeing the email for a new sign-up), its phone, password hash and
  verification times are cleared, its status is `deleted` with `deleted_at`, and a keyed hash
  of the email is kept in `Account.email_audit_hash` and a `DeletionAudit` row. Payment method
  rows stay for the ledger, without holder name, fingerprint or token (PayPal/Paytm lose their
  masked email/phone). Every session ends with reason `account_deleted`, and every session's
  origin (an SSH address) and key fingerprint are blanked; decoy sign-up sessions that would
  notify this account end too. Bills, ledger entries and resources are kept for accounting:
  their descriptions name products, regions, periods and card brands/last 4, nothing personal.
  Invoices and credit notes are kept too, an individual's name and address blanked on them
  (core.invoices.forget_personal_data). The country is kept (it decides taxes on the bills
  kept).
- After the commit: the tokens are revoked at the gateway (core.payments.revoke_queued; one
  the gateway cannot take now stays written down, and reconciliation revokes it later, so a
  crash or an unreachable gateway never leaves a token live nor an erasure half-done); the
  uploaded business licence files are removed; the local delivery copies
  in the data directory are purged through the recipient index of core.delivery.recipients,
  which reads only the account's own messages (Maildir messages to the account's email, or to
  a corporate contact email no other live account uses; outbox SMS/calls to the account's phone
  numbers — its verified phone, contact phone, any number a code was sent to for it — that no
  other live account uses); the account's file space (core.files: its uploads, exports and
  statements), any older data exports (`cloudacct-export-<id>-*.json`) and billing documents
  (core.documents) are removed
  (they were the person's download; whoever needed them copied them out before deleting);
  and on SQLite the WAL is checkpointed with TRUNCATE so old page images do not linger there
  (`secure_delete` is on, so the database file keeps no deleted bytes either).
- The account-deleted notice (F15) is counted inside the erasure's transaction, while the
  address is still the account's, and sent after the commit but before the local delivery
  copies are purged: by SMTP (or a real SMS provider) it reaches the person, and a copy in the
  local Maildir or outbox goes with the rest, so the data directory keeps nothing of the
  address. Becoming deletion pending is notified too. MFA devices, recovery codes, pending
  log-ons, password-reset flows and once-only notice records of the account are erased.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from core import clock
from core.billing import PendingUsage, RunEvent, bill_due, outstanding_bills, pending_usage
from core.catalogue import PRODUCTS
from core.claims import CLAIM_DELETION, claimed
from core.db import is_sqlite, transaction
from core.errors import (
    DomainError,
    NotFound,
    Refused,
    SessionExpired,
    ValidationError,
)
from core.hashing import keyed_hash
from core.i18n import N_, money, phrase
from core.logon_throttle import forget_account, forget_email
from core.message_caps import forget_account_sends
from core.mfa import forget_mfa
from core.models import (
    Account,
    BillingAddress,
    Code,
    DeletionAudit,
    NoticeSent,
    PaymentMethod,
    RealNameRegistration,
    Resource,
    Session,
    TrustedKey,
    VerificationLock,
)
from core.notices import (
    Farewell,
    notify_account_deleted,
    notify_deletion_pending,
    prepare_account_deleted,
)
from core.password_reset import forget_resets
from core.security import check_password_again
from core.sessions import reason_message, require_account, session_origin
from core.wording import bullet, count, joined, verbatim

log = logging.getLogger("cloudacct.deletion")

# The seed's prerequisites, shown before the disclaimer checkbox (with a shortcut to export).
PREREQUISITES = (
    N_("You have a data back-up and all your resources are released."),
    N_("All your cloud resources, including Subscription and Pay-As-You-Go products are "
       "terminated and released."),
    N_("You do not have any outstanding charges on your account."),
)
DISCLAIMER = N_(
    "I understand that deleting my account is permanent: my personal data is erased, my "
    "payment methods are removed, and I am logged out. I can sign up again with the same email "
    "later, as a new account that sees nothing of this one."
)

DISCLAIMER_FIELD = "delete-disclaimer"
PASSWORD_FIELD = "delete-password"
LIVE = ("unverified", "active", "deletion_pending")


# --- views -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Blocker:
    """One reason the account cannot be deleted yet, in words for people."""

    kind: str  # running_payg | auto_renew | period_not_over | suspended | outstanding_bill
    resource_id: int | None
    bill_id: int | None
    what: str  # "ECS instance #3 in us-west-1 is still running (Pay-As-You-Go)."
    fix: str  # "Release it (Resources)."
    clears: str  # "As soon as it is released."
    clears_at: datetime | None = None  # a date it clears by itself (period_not_over, suspended)
    screen: str = "resources"  # where the fix is done: resources | billing

    @property
    def text(self) -> str:
        return joined([self.what, self.fix, self.clears])


@dataclass(frozen=True)
class DeletionCheck:
    """What the Delete Account modal shows before the person presses the button."""

    status: str  # the account's status: unverified | active | deletion_pending
    outcome: str  # blocked | pending | now — what pressing Delete My Account would do
    blockers: tuple[Blocker, ...]
    pending_usage: tuple[PendingUsage, ...]  # released Pay-As-You-Go usage not yet billed
    bills_due_by: datetime | None  # when the last of that usage is billed
    requested_at: datetime | None  # when deletion was requested (deletion pending)
    message: str
    prerequisites: tuple[str, ...] = PREREQUISITES
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True)
class DeletionResult:
    """What pressing Delete My Account did: `deleted` now, or `deletion_pending`."""

    status: str  # deleted | deletion_pending
    message: str
    requested_at: datetime | None
    deleted_at: datetime | None = None
    pending_usage: tuple[PendingUsage, ...] = ()
    bills_due_by: datetime | None = None  # pending: when the last bill is issued
    waiting_for: tuple[Blocker, ...] = ()  # pending: e.g. a bill whose charge was declined

    @property
    def deleted(self) -> bool:
        return self.status == "deleted"


@dataclass(frozen=True)
class ErasureReport:
    account_id: int
    deleted_at: datetime
    already_deleted: bool = False
    methods_revoked: int = 0
    sessions_ended: int = 0
    files_removed: int = 0
    revocations_left: int = 0  # tokens the gateway could not revoke yet (reconciliation does)


class DeletionBlocked(Refused):
    """The account cannot be deleted yet; `.blockers` says why, what to do and when it clears."""

    def __init__(self, blockers: tuple[Blocker, ...] | list[Blocker]) -> None:
        self.blockers = tuple(blockers)
        lines = [N_("Your account cannot be deleted yet:")]
        lines += [bullet(b.text) for b in self.blockers]
        super().__init__(joined(lines, "\n"))


# --- blockers ----------------------------------------------------------------------------------

def _when(moment: datetime) -> str:
    return verbatim(f"{moment:%Y-%m-%d %H:%M} UTC")


def _label(row: Resource) -> str:
    item = PRODUCTS.get(row.product)
    # Translators: a resource, as in "ECS instance #3 in cn-hangzhou".
    return phrase("{product} #{id} in {region}",
                  product=item.name if item else verbatim(row.product), id=row.id,
                  region=verbatim(row.region))


def _resource_blockers(row: Resource, at: datetime) -> list[Blocker]:
    label = _label(row)
    found: list[Blocker] = []
    if row.billing_method == "payg":
        if row.state == "running":
            found.append(Blocker(
                "running_payg", row.id, None,
                phrase("{resource} is still running (Pay-As-You-Go).", resource=label),
                N_("Release it (Resources)."),
                N_("As soon as it is released. Its last usage is billed 48 hours later; the "
                   "deletion can wait for that bill.")))
        return found
    if row.state not in ("running", "suspended"):
        return found  # expired: released at its period end
    if row.auto_renew:
        found.append(Blocker(
            "auto_renew", row.id, None,
            phrase("{resource} is a subscription with auto-renewal on.", resource=label),
            N_("Turn off auto-renewal (Resources)."),
            N_("As soon as auto-renewal is off.")))
    end = row.period_end
    if end is None or end <= at:
        return found  # over: it expires at the next billing run (or on erasure)
    if row.state == "suspended":
        found.append(Blocker(
            "suspended", row.id, None,
            phrase("{resource} is suspended: its renewal was not paid.", resource=label),
            phrase("Wait until its end date {moment}, when it expires and is released; pay its "
                   "renewal bill too (Billing).", moment=_when(end)),
            phrase("On {moment}.", moment=_when(end)), end))
    else:
        found.append(Blocker(
            "period_not_over", row.id, None,
            phrase("{resource} is a subscription whose period is not over.", resource=label),
            phrase("Wait until its end date {moment}, when it expires and is released.",
                   moment=_when(end)),
            phrase("On {moment}.", moment=_when(end)), end))
    return found


def _blockers(account_id: int, at: datetime) -> tuple[Blocker, ...]:
    found: list[Blocker] = []
    rows = (Resource.select().where(Resource.account == account_id)
            .order_by(Resource.id))
    for row in rows:
        found += _resource_blockers(row, at)
    for bill in outstanding_bills(account_id):
        found.append(Blocker(
            "outstanding_bill", bill.resource_id, bill.id,
            phrase("Bill #{id} of {amount} is unpaid: {description}.", id=bill.id,
                   amount=money(bill.amount_cents),
                   description=verbatim(bill.description)),
            N_("Pay it (Billing)."),
            N_("As soon as it is paid."), None, "billing"))
    return tuple(found)


def _unbilled(account_id: int, at: datetime) -> tuple[PendingUsage, ...]:
    """Released Pay-As-You-Go usage not yet billed (usage still running is a blocker)."""
    return tuple(u for u in pending_usage(account_id, at) if not u.running)


def _due_by(usage: tuple[PendingUsage, ...]) -> datetime | None:
    dues = [u.bill_due_at for u in usage if u.bill_due_at is not None]
    return max(dues) if dues else None


def _lock_resources(account_id: int) -> None:
    """Hold the account's resource rows until the transaction ends (PostgreSQL), before the
    checks a deletion writes on. A billing run issues a bill in a transaction that locks the
    resource row (FOR UPDATE SKIP LOCKED) without core.db's global write lock, so without
    this a bill could be issued between the check for outstanding bills and the check for
    unbilled usage, and the account erased with that bill unseen. A run holding a row is
    waited for (its transaction is short); a run coming after skips the rows until the
    deletion commits. SQLite: BEGIN IMMEDIATE already keeps every other writer out."""
    if is_sqlite():
        return
    list(Resource.select(Resource.id).where(Resource.account == account_id)
         .order_by(Resource.id).for_update())


def _account(token_or_account: str | int | Account | None) -> Account:
    if isinstance(token_or_account, Account):
        return token_or_account
    if isinstance(token_or_account, int) and not isinstance(token_or_account, bool):
        row = Account.get_or_none(Account.id == token_or_account)
        if row is None:
            raise NotFound("There is no such account.")
        return row
    return require_account(token_or_account)


def deletion_blockers(token_or_account: str | int | Account | None) -> tuple[Blocker, ...]:
    """Everything that refuses the deletion now (empty: nothing does). Takes a session token,
    an account id or an Account row."""
    account = _account(token_or_account)
    return _blockers(account.id, clock.now())


def _pending_message(due: datetime | None, usage: bool = True) -> str:
    if not usage:
        return N_("Your account will be deleted automatically once its last bill is paid. "
                  "Until then you can still log on, see and pay your bills.")
    if due:
        return phrase("Your account will be deleted automatically once its last Pay-As-You-Go "
                      "usage is billed (by {moment}) and paid. Until then you can still log on, "
                      "see and pay your bills.", moment=_when(due))
    return N_("Your account will be deleted automatically once its last Pay-As-You-Go usage is "
              "billed and paid. Until then you can still log on, see and pay your bills.")


def deletion_check(token: str | None) -> DeletionCheck:
    """What deleting the account would do now, for the Delete Account modal (no side effects)."""
    account = require_account(token)
    at = clock.now()
    blockers = _blockers(account.id, at)
    usage = _unbilled(account.id, at)
    due = _due_by(usage)
    if account.status == "deletion_pending":
        outcome = "pending"
        message = _pending_message(due, bool(usage))
        if blockers:
            # Translators: {pending} is the sentence above; {todo} what is still to do.
            message = phrase("{pending} Still to do: {todo}", pending=message,
                             todo=joined([joined([b.what, b.fix]) for b in blockers]))
    elif blockers:
        outcome = "blocked"
        message = N_("Your account cannot be deleted yet. Each item below says what to do.")
    elif usage:
        outcome = "pending"
        if due:
            message = phrase("Pay-As-You-Go usage is not billed yet. If you delete your account "
                             "now, it is deleted automatically once that usage is billed (by "
                             "{moment}) and paid; until then you can still log on, see and pay "
                             "your bills.", moment=_when(due))
        else:
            message = N_("Pay-As-You-Go usage is not billed yet. If you delete your account "
                         "now, it is deleted automatically once that usage is billed and paid; "
                         "until then you can still log on, see and pay your bills.")
    else:
        outcome = "now"
        message = N_("Everything is settled: your account will be deleted within seconds and "
                     "you will be logged out.")
    return DeletionCheck(account.status, outcome, blockers, usage, due,
                         account.deletion_requested_at, message)


# --- the request -------------------------------------------------------------------------------

def _pending_result(account_id: int, at: datetime) -> DeletionResult:
    account = Account.get_by_id(account_id)
    usage = _unbilled(account_id, at)
    due = _due_by(usage)
    return DeletionResult("deletion_pending", _pending_message(due, bool(usage)),
                          account.deletion_requested_at, None, usage, due,
                          _blockers(account_id, at))


def _check_delete_form(password: str | None, disclaimer_checked: bool) -> None:
    """The disclaimer and the password's presence, both at once (FormErrors by field)."""
    from core.forms import FormCheck

    form = FormCheck()
    if disclaimer_checked is not True:
        form.refuse(DISCLAIMER_FIELD, N_("Check the disclaimer to confirm that you want to "
                                         "delete your account."))
    if not password:
        form.refuse(PASSWORD_FIELD, N_("Enter your password."))
    form.raise_errors()


def request_deletion(token: str | None, password: str | None,
                     disclaimer_checked: bool) -> DeletionResult:
    """**Delete My Account** (F10). Raises FormErrors (fields `delete-disclaimer`,
    `delete-password`) for an unchecked disclaimer and a missing password, both at once,
    AuthenticationError/LockedError (field `delete-password`) for a wrong password,
    DeletionBlocked (`.blockers`) while anything blocks, SessionExpired once the account is
    deleted (a second press). Returns a DeletionResult: `deleted` (every session has ended:
    log off) or `deletion_pending`."""
    from core.step_up import require_step_up

    account = require_account(token)
    _check_delete_form(password, disclaimer_checked)
    # MFA off: `delete-password` is the step-up; MFA on: the authenticator code too (F13).
    require_step_up(token, "delete_account", password_carried=True)
    check_password_again(account, password, PASSWORD_FIELD)
    # Settle what is due first: usage whose 48 hours are over is billed and charged, ended
    # subscriptions expire. Idempotent, like every billing run.
    bill_due(account_id=account.id)
    at = clock.now()
    erasure = None
    with transaction():
        _lock_resources(account.id)
        account = Account.get_by_id(account.id)
        if account.status == "deleted":
            raise SessionExpired(reason_message("account_deleted"))
        blockers = _blockers(account.id, at)
        usage = _unbilled(account.id, at)
        became_pending = False
        if not blockers and not usage:
            # Checked under the write lock just now: erased in the same transaction (one
            # check and one synced commit, not three checks and two commits).
            erasure = _erase_locked(account, at)
        elif account.status != "deletion_pending":
            if blockers:
                raise DeletionBlocked(blockers)
            became_pending = Account.update(
                status="deletion_pending", deletion_requested_at=at).where(
                Account.id == account.id, Account.status.in_(("unverified", "active"))
            ).execute() == 1
    if erasure is None:
        if became_pending:
            notify_deletion_pending(account.id, origin=session_origin(token), due_by=_due_by(usage))
        return _pending_result(account.id, at)
    report = _finish_erasure(erasure)
    return DeletionResult("deleted", N_("Your account has been deleted and you have been "
                                        "logged out. You can sign up again with the same "
                                        "email at any time."),
                          account.deletion_requested_at or report.deleted_at,
                          report.deleted_at)


# --- the erasure -------------------------------------------------------------------------------

def _phone_digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")


@dataclass(frozen=True)
class AccountTraces:
    """What lies outside the database and is removed after the commit."""

    licence_paths: tuple[str, ...]
    emails: frozenset[str]  # casefolded addresses whose Maildir messages go
    phones: frozenset[str]  # digits of numbers whose outbox files go
    account_id: int


def _live_other(account_ids: set[int], account_id: int) -> bool:
    """Is any of `account_ids` but `account_id` a live account? Looked up by primary key."""
    others = account_ids - {account_id}
    return bool(others) and Account.select().where(
        Account.id.in_(sorted(others)), Account.status.in_(LIVE)).exists()


# Each "used by another live account?" below reads through one index (migration 7: the
# account's phone, the contact phone, the lowercased contact email; the email key and a code's
# destination had theirs) and then looks the few accounts found up by id: its cost follows
# how many accounts use the address, not how many accounts there are. Liveness is not in the
# first query on purpose: with it, a planner may start from the index of live accounts.

def _email_in_use(address: str, account_id: int) -> bool:
    from peewee import fn

    from core.validation import check_email

    folded = address.strip().casefold()
    try:
        key = check_email(address).key
    except ValidationError:
        key = folded
    holders = {row for (row,) in Account.select(Account.id)
               .where(Account.email_key.in_(sorted({key, folded}))).tuples()}
    contacts = {row for (row,) in BillingAddress.select(BillingAddress.account)
                .where(fn.LOWER(BillingAddress.contact_email) == folded).tuples()}
    return _live_other(holders | contacts, account_id)


def _phone_in_use(e164: str, account_id: int) -> bool:
    users = {row for (row,) in Account.select(Account.id).where(Account.phone == e164).tuples()}
    users |= {row for (row,) in BillingAddress.select(BillingAddress.account)
              .where(BillingAddress.contact_phone == e164).tuples()}
    users |= {row for (row,) in Code.select(Code.account)
              .where(Code.destination == e164).tuples()}
    return _live_other(users, account_id)


def collect_traces(account: Account) -> AccountTraces:
    licences = tuple(r.licence_path for r in RealNameRegistration.select().where(
        RealNameRegistration.account == account.id) if r.licence_path)
    emails = {account.email}
    phones: set[str] = set()
    if account.phone:
        phones.add(account.phone)
    address = BillingAddress.get_or_none(BillingAddress.account == account.id)
    if address is not None:
        if address.contact_email:
            emails.add(address.contact_email)
        if address.contact_phone:
            phones.add(address.contact_phone)
    for code in Code.select(Code.destination, Code.channel).where(Code.account == account.id):
        (emails if code.channel == "email" else phones).add(code.destination)
    own_email = account.email.strip().casefold()
    keep_emails = frozenset(e.strip().casefold() for e in emails
                            if e.strip().casefold() == own_email
                            or not _email_in_use(e, account.id))
    keep_phones = frozenset(_phone_digits(p) for p in phones
                            if _phone_digits(p) and not _phone_in_use(p, account.id))
    return AccountTraces(licences, keep_emails, keep_phones, account.id)


def erase_account_rows(account: Account, at: datetime) -> int:
    """The database part of the erasure (inside the transaction). Returns sessions ended."""
    aid = account.id
    audit = keyed_hash("deleted-account-email", account.email_key)
    placeholder = f"deleted-{aid}"
    old_key = account.email_key
    BillingAddress.delete().where(BillingAddress.account == aid).execute()
    RealNameRegistration.delete().where(RealNameRegistration.account == aid).execute()
    TrustedKey.delete().where(TrustedKey.account == aid).execute()
    Code.delete().where(Code.account == aid).execute()
    VerificationLock.delete().where(VerificationLock.account == aid).execute()
    forget_email(old_key)  # the log-on throttle and attempts of the email
    forget_account(aid)  # and of the account under any email it had, its code count
    forget_mfa(aid)  # its MFA device, recovery codes, pending log-ons
    forget_resets(aid, old_key)  # its forgotten-password flows
    NoticeSent.delete().where(NoticeSent.account_id == aid).execute()
    forget_account_sends(aid)  # what the message caps recorded
    PaymentMethod.update(holder_name=None, fingerprint=None, gateway_token="revoked",
                         is_default=False, removed_at=at).where(
        PaymentMethod.account == aid, PaymentMethod.removed_at.is_null()).execute()
    PaymentMethod.update(holder_name=None, fingerprint=None, gateway_token="revoked").where(
        PaymentMethod.account == aid).execute()
    PaymentMethod.update(display="PayPal").where(PaymentMethod.account == aid,
                                                 PaymentMethod.kind == "paypal").execute()
    PaymentMethod.update(display="Paytm").where(PaymentMethod.account == aid,
                                                PaymentMethod.kind == "paytm").execute()
    ended = Session.update(ended_at=at, ended_reason="account_deleted").where(
        Session.account == aid, Session.ended_at.is_null()).execute()
    Session.update(origin="", key_fingerprint=None, signup_country=None).where(
        Session.account == aid).execute()
    # Sign-ups that tried this email: their decoy sessions would notify an erased address.
    Session.update(ended_at=at, ended_reason="ended").where(
        Session.notify_account == aid, Session.ended_at.is_null()).execute()
    Session.update(notify_account=None, signup_country=None, origin="",
                   key_fingerprint=None).where(Session.notify_account == aid).execute()
    # A subscription whose period ended with auto-renewal off expires, as a billing run would.
    Resource.update(state="expired", released_at=Resource.period_end).where(
        Resource.account == aid, Resource.billing_method == "subscription",
        Resource.state.in_(("running", "suspended")), Resource.auto_renew == False,  # noqa: E712
        Resource.period_end <= at).execute()
    Account.update(email=placeholder, email_key=placeholder, phone=None, password_hash="",
                   email_verified_at=None, phone_verified_at=None, status="deleted",
                   deleted_at=at, email_audit_hash=audit,
                   deletion_requested_at=account.deletion_requested_at or at).where(
        Account.id == aid).execute()
    DeletionAudit.create(email_hash=audit, account_id=aid, deleted_at=at)
    return ended


def remove_traces(traces: AccountTraces) -> int:
    """After the commit: ask each store outside the database to erase what it wrote for the
    account (its own module knows how): licence copies, delivered messages, exports and the
    account's file space. Returns the number of files removed."""
    from core.delivery.recipients import erase_deliveries
    from core.documents import remove_documents
    from core.files import erase_account_files
    from core.real_name import remove_licence_copies
    from core.security import remove_data_exports

    removed = remove_licence_copies(traces.licence_paths)
    removed += erase_deliveries(traces.emails | traces.phones)
    removed += remove_data_exports(traces.account_id)  # where exports were written before F16
    removed += remove_documents(traces.account_id)
    removed += erase_account_files(traces.account_id)  # uploads/, exports/, statements/
    return removed


def _checkpoint_wal() -> None:
    """Copy the WAL into the database file and truncate it to nothing (SQLite)."""
    from core.db import database

    if not is_sqlite():
        return
    try:
        busy, _, _ = database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except Exception as exc:  # noqa: BLE001 (best effort: the deletion has committed)
        log.warning("WAL checkpoint after a deletion failed: %s", type(exc).__name__)
        return
    if busy:
        log.warning("WAL checkpoint after a deletion was blocked by a reader; the next "
                    "checkpoint overwrites the old pages")


def erase_account(account_id: int, *, at: datetime | None = None) -> ErasureReport:
    """Erase an account whose deletion nothing blocks (see the module's docstring for what is
    kept and removed). Raises DeletionBlocked when a blocker or unbilled usage remains, and
    then nothing has changed. Erasing an account already deleted does nothing
    (`already_deleted`). The payment tokens are revoked after the commit; any the gateway
    could not take now are in `revocations_left`, revoked later by reconciliation."""
    at = at or clock.now()
    account = Account.get_or_none(Account.id == account_id)
    if account is None:
        raise NotFound("There is no such account.")
    if account.status == "deleted":
        return ErasureReport(account_id, account.deleted_at or at, already_deleted=True)
    blockers = _blockers(account_id, at)
    if blockers:
        raise DeletionBlocked(blockers)
    if _unbilled(account_id, at):
        raise Refused("Pay-As-You-Go usage of this account is not billed yet.")
    with transaction():
        _lock_resources(account_id)
        account = Account.get_by_id(account_id)
        if account.status == "deleted":
            return ErasureReport(account_id, account.deleted_at or at, already_deleted=True)
        blockers = _blockers(account_id, at)  # re-checked under the write lock
        if blockers:
            raise DeletionBlocked(blockers)
        if _unbilled(account_id, at):
            raise Refused("Pay-As-You-Go usage of this account is not billed yet.")
        erasure = _erase_locked(account, at)
    return _finish_erasure(erasure)


@dataclass(frozen=True)
class _Erasure:
    """What the erasure's transaction leaves for after its commit."""

    account_id: int
    at: datetime
    traces: AccountTraces
    farewell: Farewell
    revoked: int
    ended: int


def _erase_locked(account: Account, at: datetime) -> _Erasure:
    """The erasure's rows, in the caller's transaction, which holds the account's write lock
    and has found nothing blocking it."""
    from core.invoices import forget_personal_data
    from core.payments import queue_revocations

    traces = collect_traces(account)
    farewell = prepare_account_deleted(account, at)  # while its addresses are its own
    revoked = queue_revocations(account.id)  # only now: the erasure is certain
    forget_personal_data(account.id)
    ended = erase_account_rows(account, at)
    return _Erasure(account.id, at, traces, farewell, revoked, ended)


def _finish_erasure(erasure: _Erasure) -> ErasureReport:
    """After the commit: the farewell, the gateway's revocations, the files, the WAL."""
    from core.payments import revoke_queued

    account_id = erasure.account_id
    notify_account_deleted(erasure.farewell)  # before the local copies are purged
    left = revoke_queued(account_id).left
    if left:
        log.warning("account %s deleted; %s left for reconciliation to revoke", account_id,
                    count(left, "payment token"))
    files = remove_traces(erasure.traces)
    _checkpoint_wal()
    log.info("account %s deleted", account_id)
    return ErasureReport(account_id, erasure.at, False, erasure.revoked, erasure.ended, files,
                         left)


# --- the billing run's part --------------------------------------------------------------------

def complete_pending_deletions(at: datetime | None = None, *,
                               account_id: int | None = None) -> list[RunEvent]:
    """Erase every `deletion_pending` account whose usage is all billed, with no outstanding
    bill and no other blocker (core.billing_run.run_billing calls this last). An account still
    waiting gets a `deletion_waiting` event saying for what; a completed one a `deletion`."""
    at = at or clock.now()
    pending = Account.select(Account.id).where(Account.status == "deletion_pending")
    if account_id is not None:
        pending = pending.where(Account.id == account_id)
    ids = [row.id for row in pending.order_by(Account.id)]
    events: list[RunEvent] = []
    for account_id in ids:  # noqa: B020 - the parameter was only the filter above
        # Two runs at once (two machines) split the pending deletions: one that another run
        # is completing right now is left to it (PostgreSQL; see core.claims.claimed).
        with claimed(CLAIM_DELETION, account_id) as ours:
            if ours:
                events += _complete_pending_deletion(account_id, at)
    return events


def _complete_pending_deletion(account_id: int, at: datetime) -> list[RunEvent]:
    """Erase one pending account if nothing holds it back any more, else say what does."""
    blockers = _blockers(account_id, at)
    usage = _unbilled(account_id, at)
    if blockers or usage:
        waiting = [b.what for b in blockers]
        due = _due_by(usage)
        if usage:
            waiting.append(f"usage not billed yet (billed {_when(due)})" if due
                           else "usage not billed yet")
        return [RunEvent("deletion_waiting", f"deletion  account #{account_id}  still pending: "
                         + " ".join(waiting), account_id)]
    try:
        report = erase_account(account_id, at=at)
    except DomainError as exc:
        return [RunEvent("deletion_waiting", f"deletion  account #{account_id}  still pending: "
                         f"{exc.message}", account_id)]
    if report.already_deleted:
        return []
    return [RunEvent("deletion", f"deletion  account #{account_id}  deleted "
                     "(personal data erased, payment methods revoked)", account_id)]
