"""F17 The Billing section's documents: the list (statements, invoices, credit notes) and the
export of one of them as files a person keeps.

- Row keys (CONTRACT.md `#documents`): `statement-YYYY-MM`, `invoice-N`, and `credit-N` for a
  credit note (invoices and credit notes share one sequence per account: core.invoices).
- `export_document(token, key)` writes the PDF, and for a statement also the CSV, into the
  account's `exports/` (its file space, core.files, as the data export of F9), mode 0600, and
  returns the paths. `publish_documents(account_id)` writes every document into the account's
  `statements/`, which the SFTP server refreshes so that `scp host:statements/…` finds them
  all (SPEC F16).
  File names: `cloudacct-statement-<id>-2026-12.pdf` / `.csv`, `cloudacct-invoice-<id>-3.pdf`,
  `cloudacct-credit-<id>-4.pdf`. Exporting again replaces the file (atomically).
- The CSV: UTF-8 with a byte-order mark (so spreadsheets take it as UTF-8), a header line,
  the opening amount owed, one row per statement line (bills issued and every ledger entry),
  the closing amount owed. Dates are ISO 8601 in UTC; amounts are decimal strings (`12.34`)
  with the currency in a column of its own; `owed_change` sums to closing − opening. Text
  cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) get a leading `'`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core import clock
from core.config import settings
from core.db import transaction
from core.errors import NotFound, ValidationError
from core.i18n import N_, Text, money, phrase, plural_text
from core.invoices import KEY_PREFIXES, InvoiceView, invoice_by_number
from core.money import CURRENCY, decimal_text, format_usd
from core.sessions import require_account
from core.statements import (
    Activity,
    Statement,
    build_statements,
    check_month,
    read_activity,
    statement_of_account,
)
from core.wording import joined, verbatim

FIELD = "document"
_KEY = re.compile(r"^(statement)-(\d{4}-\d{2})$|^(invoice|credit)-([1-9]\d{0,9})$")
CSV_COLUMNS = ("date", "type", "description", "reference", "method", "status", "amount",
               "currency", "owed_change", "owed_after")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class DocumentRow:
    """One row of the Billing section's documents table."""

    key: str  # statement-2026-12 | invoice-3 | credit-4
    kind: str  # statement | invoice | credit_note
    title: str  # "Statement for December 2026", "Invoice 3", "Credit note 4"
    date: datetime  # a statement: the last moment it covers; an invoice: its issue
    amount_cents: int  # a statement: the bills issued in it; an invoice: what was paid
    detail: str

    @property
    def date_text(self) -> str:
        return f"{self.date:%Y-%m-%d}"

    @property
    def amount_text(self) -> str:
        return format_usd(self.amount_cents)


def rows_of(activity: Activity) -> tuple[DocumentRow, ...]:
    """The documents of what `read_activity` read, newest first."""
    found: list[DocumentRow] = []
    for s in build_statements(activity):
        last_day = min(s.covered_until, s.period_end - timedelta(seconds=1))
        found.append(DocumentRow(
            s.key, "statement", s.title, last_day, s.totals.billed_cents,
            phrase("Amount owed {opening} at the start, {closing} at the end",
                   opening=money(s.opening_owed_cents),
                   closing=money(s.closing_owed_cents))))
    numbers = {row[0]: row[2] for row in activity.documents}
    for (_id, kind, number, corrects, amount, issued_at, description, method,
         _bill) in activity.documents:
        if kind == "credit_note":
            corrected = numbers.get(corrects)
            detail = (phrase("Corrects invoice {number} · {description}", number=corrected,
                             description=verbatim(description)) if corrected
                      else description)
            title = phrase("Credit note {number}", number=number)
        else:
            detail = (joined([verbatim(description), verbatim(method)], " · ") if method
                      else description)
            title = phrase("Invoice {number}", number=number)
        found.append(DocumentRow(f"{KEY_PREFIXES[kind]}-{number}", kind, title, issued_at,
                                 amount, detail))
    found.sort(key=lambda row: (row.date, row.kind != "statement", row.key), reverse=True)
    return tuple(found)


def document_rows(account_id: int, at: datetime | None = None) -> tuple[DocumentRow, ...]:
    """The account's documents (inside the caller's transaction: core.billing's page)."""
    return rows_of(read_activity(account_id, at))


def billing_documents(token: str | None) -> tuple[DocumentRow, ...]:
    """Statements, invoices and credit notes of the account, newest first (one transaction)."""
    account = require_account(token)
    with transaction():
        return document_rows(account.id)


# --- export -------------------------------------------------------------------------------------

def parse_key(key: str | None) -> tuple[str, str | int]:
    """("statement", "2026-12") or ("invoice" | "credit_note", number)."""
    match = _KEY.match((key or "").strip())
    if match is None:
        raise ValidationError("Choose a statement or an invoice to export.", FIELD)
    if match.group(1):
        return "statement", check_month(match.group(2))
    return ("invoice" if match.group(3) == "invoice" else "credit_note"), int(match.group(4))


def exports_folder(account_id: int) -> Path:
    """Where an account's exports go (mode 0700): its own file space's `exports/` (F16)."""
    from core.files import ensure_account_files

    return ensure_account_files(account_id).exports


def file_stem(account_id: int, key: str) -> str:
    kind, _, rest = key.partition("-")
    return f"cloudacct-{kind}-{int(account_id)}-{rest}"


def _write_private(path: Path, data: bytes) -> Path:
    """Write `data` to `path` mode 0600, whole or not at all (a temporary file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _cell(text: str) -> str:
    """A text cell a spreadsheet shows as text (never runs as a formula)."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _iso(moment: datetime) -> str:
    return clock.iso(moment)


def statement_csv(statement: Statement) -> str:
    """The statement as CSV text (see the module's docstring)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerow([_iso(statement.period_start), "opening_owed",
                     "Amount owed at the start of the period", "", "", "",
                     decimal_text(statement.opening_owed_cents), CURRENCY, "",
                     decimal_text(statement.opening_owed_cents)])
    for line in statement.lines:
        writer.writerow([_iso(line.at), line.kind, _cell(line.description),
                         _cell(line.reference), _cell(line.method), _cell(line.status),
                         decimal_text(line.amount_cents), CURRENCY,
                         decimal_text(line.owed_change_cents),
                         decimal_text(line.owed_after_cents)])
    writer.writerow([_iso(statement.covered_until), "closing_owed",
                     "Amount owed at the end of the period", "", "", "",
                     decimal_text(statement.closing_owed_cents), CURRENCY, "",
                     decimal_text(statement.closing_owed_cents)])
    return out.getvalue()


def export_document(token: str | None, key: str | None) -> list[Path]:
    """**Export** (`#export-document`): the selected document written into the exports
    folder, 0600: a statement as PDF and CSV, an invoice or credit note as PDF. Returns the
    paths written. NotFound for a document the account does not have."""

    account = require_account(token)
    kind, ident = parse_key(key)
    brand = settings().brand
    document: Statement | InvoiceView | None
    with transaction():
        if kind == "statement":
            document = statement_of_account(account.id, str(ident))
        else:
            document = invoice_by_number(account.id, kind, int(ident))
    if document is None:
        raise NotFound("There is no such invoice or credit note on this account.", FIELD)
    return _write_document(exports_folder(account.id), account.id, document, brand)


def _write_document(folder: Path, account_id: int, document: Statement | InvoiceView,
                    brand: str) -> list[Path]:
    """The document's files in `folder` (a statement: PDF and CSV; otherwise the PDF)."""
    from core import pdf

    stem = file_stem(account_id, document.key)
    if isinstance(document, Statement):
        pdf_bytes = pdf.statement_pdf(document, brand)
        csv_bytes = statement_csv(document).encode("utf-8-sig")
        return [_write_private(folder / f"{stem}.pdf", pdf_bytes),
                _write_private(folder / f"{stem}.csv", csv_bytes)]
    return [_write_private(folder / f"{stem}.pdf", pdf.invoice_pdf(document, brand))]


def publish_documents(account_id: int) -> list[Path]:
    """F16: every statement, invoice and credit note of the account in its `statements/`
    (read only over SFTP), written afresh so the month in progress is up to date; files of
    documents the account no longer has (none, normally) are left out."""
    from core.files import ensure_account_files

    brand = settings().brand
    with transaction():
        rows = document_rows(account_id)
        documents: list[Statement | InvoiceView] = []
        for row in rows:
            kind, ident = parse_key(row.key)
            found = (statement_of_account(account_id, str(ident)) if kind == "statement"
                     else invoice_by_number(account_id, kind, int(ident)))
            if found is not None:
                documents.append(found)
    folder = ensure_account_files(account_id).statements
    written: list[Path] = []
    for document in documents:
        written += _write_document(folder, account_id, document, brand)
    return written


def remove_documents(account_id: int) -> int:
    """F10: documents exported where versions before the account's file space wrote them
    (the data directory's exports/) go; core.files erases the file space itself."""
    directory = settings().exports_dir
    if not directory.exists():
        return 0
    removed = 0
    for kind in ("statement", "invoice", "credit"):
        for item in directory.glob(f"cloudacct-{kind}-{int(account_id)}-*"):
            with contextlib.suppress(OSError):
                item.unlink()
                removed += 1
    return removed


@dataclass(frozen=True)
class ExportedDocument:
    """What **Export** wrote (`#export-document`) and what to tell the person about it."""

    key: str
    paths: tuple[Path, ...]
    notice: str  # locally the paths; over SSH the scp/sftp commands that fetch them

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(path.name for path in self.paths)


def export_notice(token: str | None, paths: list[Path]) -> str:
    """Locally: where the files are. Over SSH (a server path is of no use there): the scp
    command for each file, and sftp; they are also under `statements/` (F16)."""
    from core.files import fetch_command, files_over_ssh_hint, session_is_remote, sftp_command

    if not session_is_remote(token):
        return joined([N_("Written to:")] + [_indented(path) for path in paths], "\n")
    names = [path.name for path in paths]
    lines = [phrase("Written to exports/: {names}.", names=verbatim(", ".join(names))),
             # Translators: {how} is "with the key you connected with" or how to get there.
             plural_text("Fetch it {how}:", "Fetch them {how}:", n=len(names),
                         how=files_over_ssh_hint(token))]
    lines += [_indented(fetch_command("exports", name)) for name in names]
    lines.append(phrase("or: {sftp}, then: get exports/{name}", sftp=verbatim(sftp_command()),
                        name=verbatim(names[0])))
    return joined(lines, "\n")


def _indented(line: object) -> str:
    """A command or a path on a line of its own, as it is in every language."""
    return Text("  {line}", {"line": verbatim(line)})


def export_document_for_person(token: str | None, key: str | None) -> ExportedDocument:
    """**Export** as the Billing section presses it: the files written and the notice."""
    paths = export_document(token, key)
    return ExportedDocument(str(key), tuple(paths), export_notice(token, paths))
