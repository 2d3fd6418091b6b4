"""F6 Real-name registration: individual (checked at once by the identity provider) or
enterprise (a business licence reviewed by an operator, `cloudacct review`).

Rules
- One registration per account. A *rejected* one can be corrected and submitted again (the row
  is replaced, with the old licence copy removed); a *pending* one cannot be resubmitted; an
  *approved* one cannot be replaced.
- Individual: legal name, ID type and number. Format checks (documented at each check below)
  happen here; the identity provider (core.gateway.identity) then approves or rejects at once,
  and the rejection is recorded with its reason (it is a result, not an input error).
- Enterprise: company name, unified social credit code (GB 32100-2015), legal representative and
  a business licence file (PDF/PNG/JPEG by its first bytes, ≤ 10 MB), copied into
  `settings().uploads_dir` under a random name. Status becomes `pending`. Where the file comes
  from depends on the session's origin (SPEC F16), never on what the screen sends: a local
  console gives a path on this machine; a session over SSH gives only the name of a file in
  the account's own `uploads/` (core.files), and no server path is ever looked at for it.
- ID numbers are personal data: stored as typed (normalised), shown masked in every view.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from core import clock, notices
from core.config import settings
from core.db import transaction
from core.errors import NotFound, Refused, ValidationError
from core.files import (
    UPLOAD_MAX_BYTES,
    UploadsView,
    document_kind,
    open_in_folder,
    session_is_remote,
)
from core.forms import FormCheck
from core.gateway.identity import identity_verifier
from core.i18n import N_, phrase
from core.models import Account, RealNameRegistration
from core.sessions import require_account
from core.validation import (
    COMPANY_NAME,
    LEGAL_NAME,
    LEGAL_REPRESENTATIVE,
    LICENCE_PATH,
    REJECTION_REASON,
    check_email,
    clean_line,
)
from core.wording import verbatim as _verbatim

ENTERPRISE_WARNING = N_(
    "Enterprise real-name verification cannot be undone: once approved, the account belongs to "
    "the enterprise and cannot be changed back to an individual account."
)
REVIEW_TIME = N_("about 3 business days")

ID_TYPES: dict[str, str] = {
    "resident_id": N_("Chinese mainland resident ID card"),
    "passport": N_("Passport"),
    "hk_macao_permit": N_("Hong Kong/Macao travel permit"),
    "taiwan_permit": N_("Taiwan travel permit"),
}

LICENCE_MAX_BYTES = UPLOAD_MAX_BYTES

# --- resident ID card (GB 11643-1999) -------------------------------------------------------

_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2^(17-i) mod 11
_RESIDENT_CHECK = "10X98765432"  # indexed by (weighted sum mod 11)


def resident_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits ('0'–'9' or 'X')."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("17 ASCII digits expected")
    total = sum(int(d) * w for d, w in zip(first17, _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11]


def _compact(text: str | None) -> str:
    """Trimmed, upper case, without the spaces and dashes people type to group digits."""
    return re.sub(r"[ \-]", "", (text or "").strip()).upper()


def check_resident_id(text: str | None, field: str = "rn-id-number") -> str:
    """18 characters: a 6-digit area code, the birth date YYYYMMDD (a real date, not in the
    future, not before 1900), a 3-digit sequence and the MOD 11-2 check character (X for 10).
    Spaces and dashes are ignored; a lower-case x is accepted as X."""
    value = _compact(text)
    if not value:
        raise ValidationError("Enter the ID number.", field)
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value, re.ASCII):
        raise ValidationError(
            "A resident ID number has 18 characters: 17 digits and a last digit or X.", field)
    birth = value[6:14]
    try:
        born = date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        raise ValidationError(
            "The birth date inside this ID number is not a real date (characters 7–14 are "
            "YYYYMMDD).", field) from None
    if born.year < 1900 or born > clock.now().date():
        raise ValidationError(
            "The birth date inside this ID number is not possible (characters 7–14 are "
            "YYYYMMDD).", field)
    if resident_id_check_digit(value[:17]) != value[17]:
        raise ValidationError(
            "This ID number is not valid: its last character does not match (check digit). "
            "Check it against your card.", field)
    return value


def check_id_number(id_type: str | None, text: str | None, field: str = "rn-id-number") -> str:
    """The normalised ID number for its type. Formats chosen:
    - resident_id: see `check_resident_id`.
    - passport: 5–9 letters A–Z or digits.
    - hk_macao_permit: H or M followed by 8 digits (the card issued since 2013) or 10 digits
      (the older booklet).
    - taiwan_permit: 8 digits (since 2015) or 10 digits (the older number).
    """
    kind = check_id_type(id_type)
    if kind == "resident_id":
        return check_resident_id(text, field)
    value = _compact(text)
    if not value:
        raise ValidationError("Enter the ID number.", field)
    if kind == "passport":
        if not re.fullmatch(r"[A-Z0-9]{5,9}", value, re.ASCII):
            raise ValidationError("A passport number has 5 to 9 letters (A–Z) and digits.", field)
    elif kind == "hk_macao_permit":
        if not re.fullmatch(r"[HM]([0-9]{8}|[0-9]{10})", value, re.ASCII):
            raise ValidationError(
                "A Hong Kong/Macao permit number is H or M followed by 8 or 10 digits.", field)
    elif not re.fullmatch(r"[0-9]{8}|[0-9]{10}", value, re.ASCII):
        raise ValidationError("A Taiwan permit number has 8 or 10 digits.", field)
    return value


def check_id_type(value: str | None, field: str = "rn-id-type") -> str:
    kind = (value or "").strip()
    if kind not in ID_TYPES:
        raise ValidationError("Choose the type of ID document.", field)
    return kind


# --- unified social credit code (GB 32100-2015) ---------------------------------------------

CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3^i mod 31


def credit_code_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (MOD 31)."""
    if len(first17) != 17 or any(ch not in CREDIT_CODE_CHARSET for ch in first17):
        raise ValueError("17 characters of the code set expected")
    total = sum(CREDIT_CODE_CHARSET.index(ch) * w
                for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def check_credit_code(text: str | None, field: str = "rn-credit-code") -> str:
    """18 characters of the code set (digits and capital letters but I, O, Z, S, V), characters
    3–8 the administrative area (digits), the last one the MOD 31 check character."""
    value = _compact(text)
    if not value:
        raise ValidationError("Enter the unified social credit code.", field)
    if len(value) != 18:
        raise ValidationError("A unified social credit code has 18 characters.", field)
    bad = sorted({ch for ch in value if ch not in CREDIT_CODE_CHARSET})
    if bad:
        shown = ", ".join(ch if ch.isascii() and ch.isprintable() else "?" for ch in bad)
        raise ValidationError(
            phrase("A unified social credit code uses digits and capital letters except I, O, "
                   "Z, S and V; it cannot contain: {shown}.", shown=_verbatim(shown)),
            field)
    if not value[2:8].isdigit():
        raise ValidationError(
            "Characters 3–8 of a unified social credit code are digits (the area code).", field)
    if credit_code_check_char(value[:17]) != value[17]:
        raise ValidationError(
            "This unified social credit code is not valid: its last character does not match "
            "(check character).", field)
    return value


# --- business licence file -------------------------------------------------------------------

def _licence_kind(head: bytes) -> tuple[str, str] | None:
    return document_kind(head)


def check_licence_file(text: str | None, field: str = "rn-licence") -> Path:
    """An existing regular file, at most 10 MB, that is a PDF, PNG or JPEG by its first bytes."""
    raw = clean_line(text, field, LICENCE_PATH, max_length=1000)
    try:
        # `~name` of an unknown user raises RuntimeError, not OSError.
        path = Path(raw).expanduser()
        info = path.stat()
    except FileNotFoundError:
        raise ValidationError(phrase("There is no file at {path}.", path=_verbatim(raw)),
                              field) from None
    except (OSError, RuntimeError, ValueError):
        raise ValidationError(phrase("The file at {path} cannot be read.", path=_verbatim(raw)),
                              field) from None
    if stat.S_ISDIR(info.st_mode):
        raise ValidationError("That is a folder. Choose the licence file itself.", field)
    if not stat.S_ISREG(info.st_mode):
        raise ValidationError("That is not a regular file. Choose the licence file itself.",
                              field)
    if info.st_size > LICENCE_MAX_BYTES:
        raise ValidationError("The licence file is too large: at most 10 MB.", field)
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        raise ValidationError(phrase("The file at {path} cannot be read.", path=_verbatim(raw)),
                              field) from None
    if _licence_kind(head) is None:
        raise ValidationError("The business licence must be a PDF, PNG or JPEG file.", field)
    return path


def check_licence_upload(account_id: int, name: str | None, field: str = "rn-licence") -> int:
    """Over SSH: the licence is a file the person uploaded to their own `uploads/` (F16),
    given by its name only. Returns a read-only descriptor of it (the caller closes it); the
    messages speak of that folder alone, so they tell nothing about the server's files."""
    from core.files import check_file_name

    if not (name or "").strip():
        raise ValidationError("Choose the licence file you uploaded to uploads/.", field)
    clean = check_file_name(name, field)
    try:
        fd = open_in_folder(account_id, "uploads", clean, field)
    except NotFound:
        raise ValidationError(phrase("There is no file {name} in your uploads/.",
                                     name=_verbatim(clean)), field) from None
    try:
        if os.fstat(fd).st_size > LICENCE_MAX_BYTES:
            raise ValidationError("The licence file is too large: at most 10 MB.", field)
        if _licence_kind(os.pread(fd, 16, 0)) is None:
            raise ValidationError("The business licence must be a PDF, PNG or JPEG file.", field)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _store_licence(source: Path | int, field: str = "rn-licence") -> Path:
    """Copy the licence (a local path, or a descriptor from `check_licence_upload`, which this
    closes) into the uploads directory under a random name; returns the copy.

    The copy re-checks the type and size on the bytes actually read (the file may change
    between the check and the copy), and is written to a temporary name then renamed."""
    from core.private_files import private_dir

    uploads = private_dir(settings().uploads_dir)
    tmp = uploads / f".incoming-{secrets.token_hex(8)}"
    try:
        src_handle = source.open("rb") if isinstance(source, Path) else os.fdopen(source, "rb")
        with src_handle as src:
            if not stat.S_ISREG(os.fstat(src.fileno()).st_mode):
                raise ValidationError("That is not a regular file. Choose the licence file "
                                      "itself.", field)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as dst:
                head = src.read(16)
                kind = _licence_kind(head)
                if kind is None:
                    raise ValidationError(
                        "The business licence must be a PDF, PNG or JPEG file.", field)
                dst.write(head)
                size = len(head)
                while chunk := src.read(1024 * 1024):
                    size += len(chunk)
                    if size > LICENCE_MAX_BYTES:
                        raise ValidationError(
                            "The licence file is too large: at most 10 MB.", field)
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
        final = uploads / f"licence-{secrets.token_hex(16)}.{kind[0]}"
        os.replace(tmp, final)
        return final
    except OSError:
        raise ValidationError("The licence file could not be copied. Please try again.",
                              field) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _remove_upload(path_text: str | None) -> None:
    if not path_text:
        return
    path = Path(path_text)
    # Only ever remove our own copies.
    if path.parent == settings().uploads_dir and path.name.startswith("licence-"):
        with contextlib.suppress(OSError):
            path.unlink()


# --- views ------------------------------------------------------------------------------------

def mask_id_number(number: str | None) -> str | None:
    """`11010519491231002X` → `110•••••••••••••2X`; short numbers keep only the ends."""
    if not number:
        return None
    if len(number) >= 10:
        return number[:3] + "•" * (len(number) - 5) + number[-2:]
    if len(number) >= 3:
        return number[0] + "•" * (len(number) - 2) + number[-1]
    return "•" * len(number)


STATUS_TEXT = {
    "none": N_("Not registered. Needed only to buy in the regions of mainland China."),
    "pending": phrase("Pending review ({time}).", time=REVIEW_TIME),
    "approved": N_("Approved."),
    "rejected": N_("Rejected: correct it and submit again."),
}


@dataclass(frozen=True)
class RealNameView:
    status: str  # none | pending | approved | rejected
    status_text: str
    kind: str | None  # individual | enterprise
    legal_name: str | None
    id_type: str | None
    id_type_label: str | None
    id_number_masked: str | None  # never the full number
    company_name: str | None
    credit_code: str | None
    legal_rep: str | None
    has_licence: bool
    reason: str | None  # why it was rejected
    submitted_at: datetime | None
    reviewed_at: datetime | None

    @property
    def can_submit(self) -> bool:
        """A new registration may be submitted (none yet, or the last one was rejected)."""
        return self.status in ("none", "rejected")


def _view(row: RealNameRegistration | None) -> RealNameView:
    if row is None:
        return RealNameView("none", STATUS_TEXT["none"], None, None, None, None, None, None,
                            None, None, False, None, None, None)
    text = STATUS_TEXT[row.status]
    if row.status == "rejected" and row.reason:
        # Translators: {reason} is the reviewer's own words, as typed.
        text = phrase("Rejected: {reason}. Correct it and submit again.",
                      reason=_verbatim(row.reason))
    return RealNameView(
        status=row.status, status_text=text, kind=row.kind, legal_name=row.legal_name,
        id_type=row.id_type, id_type_label=ID_TYPES.get(row.id_type or ""),
        id_number_masked=mask_id_number(row.id_number), company_name=row.company_name,
        credit_code=row.credit_code, legal_rep=row.legal_rep,
        has_licence=bool(row.licence_path), reason=row.reason,
        submitted_at=row.submitted_at, reviewed_at=row.reviewed_at,
    )


def _registration(account_id: int) -> RealNameRegistration | None:
    return (RealNameRegistration.select()
            .where(RealNameRegistration.account == account_id)
            .order_by(RealNameRegistration.submitted_at.desc(), RealNameRegistration.id.desc())
            .first())


def registration_status(account_id: int) -> str:
    """none | pending | approved | rejected (for the purchase gate and other flows)."""
    row = _registration(account_id)
    return row.status if row is not None else "none"


def real_name_status(token: str | None) -> RealNameView:
    account = require_account(token)
    return _view(_registration(account.id))


@dataclass(frozen=True)
class RealNamePage:
    """What the Real-name section shows, read at one moment: the registration, whether the
    licence comes from `uploads/` (a session over SSH, SPEC F16) and, if so, what is there."""

    registration: RealNameView
    remote: bool
    uploads: UploadsView | None  # only over SSH


def real_name_page(token: str | None) -> RealNamePage:
    """The Real-name section's page, in one transaction."""
    from core.files import uploads_view

    with transaction():
        account = require_account(token)
        remote = session_is_remote(token)
        return RealNamePage(_view(_registration(account.id)), remote,
                            uploads_view(token) if remote else None)


def _check_can_submit(account: Account) -> RealNameRegistration | None:
    """The rejected registration to replace (or None). Call inside the transaction."""
    if account.status != "active":
        raise Refused("Verify your account before real-name registration.")
    row = _registration(account.id)
    if row is None or row.status == "rejected":
        return row
    if row.status == "approved":
        raise Refused("Your real-name registration is already approved and cannot be replaced.")
    raise Refused(phrase("Your real-name registration is waiting for review ({time}). "
                         "You can submit again only if it is rejected.", time=REVIEW_TIME))


def _lock_account(account_id: int) -> Account:
    """Re-read the account inside the transaction, locking its row where the database can
    (SQLite transactions here are IMMEDIATE, which already serialises writers)."""
    from core.db import is_sqlite

    query = Account.select().where(Account.id == account_id)
    if not is_sqlite():
        query = query.for_update()
    return query.get()


def _save(account_id: int, replaced: RealNameRegistration | None, **values) -> \
        RealNameRegistration:
    at = clock.now()
    fields = dict(legal_name=None, id_type=None, id_number=None, company_name=None,
                  credit_code=None, legal_rep=None, licence_path=None, reason=None,
                  reviewed_at=None)
    fields.update(values)
    if replaced is not None:
        RealNameRegistration.update(submitted_at=at, **fields).where(
            RealNameRegistration.id == replaced.id).execute()
        return RealNameRegistration.get_by_id(replaced.id)
    return RealNameRegistration.create(account=account_id, submitted_at=at, **fields)


def submit_individual(token: str | None, name: str | None, id_type: str | None,
                      id_number: str | None) -> RealNameView:
    """Register as an individual. The identity check answers at once: the returned view's
    status is `approved`, or `rejected` with the provider's reason (recorded, so it shows on
    the overview; correct it and submit again)."""
    account = require_account(token)
    form = FormCheck()
    legal_name = form.check(clean_line, name, "rn-name", LEGAL_NAME)
    kind = form.check(check_id_type, id_type)
    number = form.check(check_id_number, kind, id_number) if kind else None
    form.raise_errors()
    assert legal_name is not None and kind is not None and number is not None
    with transaction():
        _check_can_submit(_lock_account(account.id))
    decision = identity_verifier().verify_individual(legal_name, kind, number)
    with transaction():
        # Re-checked: another submission may have won while the provider was asked.
        replaced = _check_can_submit(_lock_account(account.id))
        old_licence = replaced.licence_path if replaced is not None else None
        row = _save(account.id, replaced, kind="individual",
                    status="approved" if decision.approved else "rejected",
                    legal_name=legal_name, id_type=kind, id_number=number,
                    reason=None if decision.approved else (decision.reason or
                                                           "identity could not be verified"),
                    reviewed_at=clock.now())
    _remove_upload(old_licence)
    notices.notify_real_name_reviewed(account.id, row.status, row.reason)  # F15
    return _view(row)


def submit_enterprise(token: str | None, company: str | None, credit_code: str | None,
                      legal_rep: str | None, licence: str | None) -> RealNameView:
    """Register as an enterprise: status `pending` until an operator reviews it.

    `licence` is a path on this machine for a local console, and over SSH the name of a file
    in the account's `uploads/` (decided by the session's origin, see the module's docstring).
    """
    account = require_account(token)
    form = FormCheck()
    company_name = form.check(clean_line, company, "rn-company", COMPANY_NAME)
    code = form.check(check_credit_code, credit_code)
    representative = form.check(clean_line, legal_rep, "rn-legal-rep",
                                LEGAL_REPRESENTATIVE)
    remote = session_is_remote(token)
    checked: Path | int | None = (form.check(check_licence_upload, account.id, licence) if remote
                                  else form.check(check_licence_file, licence))
    if form.errors and isinstance(checked, int):
        os.close(checked)
    form.raise_errors()
    assert checked is not None
    source: Path | int = checked
    try:
        with transaction():
            _check_can_submit(_lock_account(account.id))
    except BaseException:
        if isinstance(source, int):
            os.close(source)
        raise
    copy = _store_licence(source)
    try:
        with transaction():
            replaced = _check_can_submit(_lock_account(account.id))
            old_licence = replaced.licence_path if replaced is not None else None
            row = _save(account.id, replaced, kind="enterprise", status="pending",
                        company_name=company_name, credit_code=code, legal_rep=representative,
                        licence_path=str(copy))
    except BaseException:
        _remove_upload(str(copy))
        raise
    _remove_upload(old_licence)
    return _view(row)


# --- operator review (`cloudacct review`) ----------------------------------------------------

@dataclass(frozen=True)
class PendingReview:
    account_id: int
    email: str
    company_name: str
    credit_code: str
    legal_rep: str
    licence_path: str  # the stored copy, for the operator to open
    submitted_at: datetime


def list_pending_reviews() -> list[PendingReview]:
    """Enterprise registrations waiting for review, oldest first."""
    rows = (RealNameRegistration.select(RealNameRegistration, Account)
            .join(Account)
            .where(RealNameRegistration.kind == "enterprise",
                   RealNameRegistration.status == "pending",
                   Account.status != "deleted")
            .order_by(RealNameRegistration.submitted_at, RealNameRegistration.id))
    return [PendingReview(r.account.id, r.account.email, r.company_name, r.credit_code,
                          r.legal_rep, r.licence_path, r.submitted_at) for r in rows]


def _pending_for(email: str | None) -> RealNameRegistration:
    address = check_email(email, "email")
    account = Account.get_or_none(Account.email_key == address.key, Account.status != "deleted")
    if account is None:
        raise NotFound(phrase("No account has the email {email}.",
                              email=_verbatim(address.address)))
    row = _registration(account.id)
    if row is None or row.kind != "enterprise" or row.status != "pending":
        raise Refused(phrase("{email} has no enterprise registration waiting for review.",
                             email=_verbatim(address.address)))
    return row


def approve_enterprise(email: str | None) -> RealNameView:
    with transaction():
        row = _pending_for(email)
        updated = RealNameRegistration.update(
            status="approved", reason=None, reviewed_at=clock.now()).where(
            RealNameRegistration.id == row.id, RealNameRegistration.status == "pending").execute()
        if updated != 1:
            raise Refused("That registration was reviewed in the meantime.")
        view = _view(RealNameRegistration.get_by_id(row.id))
    notices.notify_real_name_approved(row.account_id)  # F15, after the commit
    return view


def reject_enterprise(email: str | None, reason: str | None) -> RealNameView:
    text = clean_line(reason, "reason", REJECTION_REASON, max_length=500)
    with transaction():
        row = _pending_for(email)
        updated = RealNameRegistration.update(
            status="rejected", reason=text, reviewed_at=clock.now()).where(
            RealNameRegistration.id == row.id, RealNameRegistration.status == "pending").execute()
        if updated != 1:
            raise Refused("That registration was reviewed in the meantime.")
        view = _view(RealNameRegistration.get_by_id(row.id))
    notices.notify_real_name_rejected(row.account_id, text)  # F15, after the commit
    return view


def remove_licence_copies(paths: tuple[str, ...]) -> int:
    """F10: erase the licence copies this module made for an account; the number removed."""
    removed = 0
    for path_text in paths:
        existed = Path(path_text).exists()
        _remove_upload(path_text)
        removed += existed and not Path(path_text).exists()
    return removed
