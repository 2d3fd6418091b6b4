"""Versioned schema migrations, applied in order on start.

The `schema_version` table records each applied version. Migrations are plain functions; each
runs in its own transaction, so a crash leaves the schema at a whole version.
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database, SqliteDatabase


def _create_schema(db: Database) -> None:
    from core.models import ALL_MODELS

    db.create_tables(ALL_MODELS, safe=True)
    # One live account per email: deleted accounts free their email for a new sign-up.
    db.execute_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS account_live_email "
        "ON account (email_key) WHERE status <> 'deleted'"
    )
    # At most one default payment method per account.
    db.execute_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS payment_method_one_default "
        "ON payment_method (account_id) WHERE is_default AND removed_at IS NULL"
    )


def _billing_due_indexes(db: Database) -> None:
    """Where a billing run starts: partial indexes of what can fall due, so that a run
    never reads the account or resource table as a whole (core.billing, "what is due"; the
    queries repeat these WHERE clauses word for word, as SQLite requires)."""
    # Pay-As-You-Go usage not yet billed up to its release (or still running), by how far it
    # is billed: a whole month's usage falls due 48 hours after the month's end.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS resource_usage_unbilled ON resource (billed_until) "
        "WHERE billing_method = 'payg' AND (released_at IS NULL OR billed_until IS NULL "
        "OR billed_until < released_at)"
    )
    # Released usage not yet billed up to the release, by release: due 48 hours after it.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS resource_usage_released ON resource (released_at) "
        "WHERE billing_method = 'payg' AND released_at IS NOT NULL "
        "AND (billed_until IS NULL OR billed_until < released_at)"
    )
    # Subscriptions by state and period end: a live one (running or suspended) is renewed or
    # expired once its period end has passed.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS resource_subscription_end ON resource (state, period_end) "
        "WHERE billing_method = 'subscription'"
    )
    # (Bills due for a retry were read through the index on bill.status of migration 1;
    # migration 7 gives them a partial index of their own.)


def _abuse_limits(db: Database) -> None:
    """Message caps, log-on throttling by account and address, and email claims (issue 11).

    The log-on throttle was one row per email key; it becomes one row per email key and
    client address (or re-entry), so the old rows are dropped: throttles restart at zero,
    which is what a restart of the old 15-minute lock would have done within 15 minutes."""
    from core.models import EmailClaim, LogonAttempt, LogonThrottle, MessageSend, SendPause

    db.execute_sql("DROP TABLE IF EXISTS logon_throttle")
    db.create_tables([LogonThrottle, LogonAttempt, MessageSend, SendPause, EmailClaim],
                     safe=True)


def _drop_keyed_card_fingerprints(db: Database) -> None:
    """Card fingerprints come from the gateway now (core.payments): the keyed hashes of card
    numbers under secret.key, which anyone with the data directory could brute-force from a
    known BIN, are erased. A card saved before gets the gateway's fingerprint for its token
    the next time its account saves a card (core.payments._adopt_gateway_fingerprints)."""
    db.execute_sql("UPDATE payment_method SET fingerprint = NULL WHERE kind = 'card'")


def _add_missing_column(db: Database, model, name: str) -> None:
    """ALTER TABLE … ADD COLUMN for a nullable column of `model`, unless it is there already
    (a fresh database gets every column from migration 1's CREATE TABLE)."""
    from playhouse.migrate import SchemaMigrator

    table = model._meta.table_name
    if name in {column.name for column in db.get_columns(table)}:
        return
    migrator = SchemaMigrator.from_database(db)
    field = model._meta.fields[name]
    for operation in [migrator.add_column(table, field.column_name, field)]:
        operation.run()


def _account_protection(db: Database) -> None:
    """Account protection (issue 13): virtual MFA with recovery codes, the pending second step
    of a log-on, forgotten-password flows, once-only notices; on sessions the step-up grant and
    the SSH key's type, on trusted keys their type. Cards by expiry, for the billing run's
    notice of a card about to expire (read through an index, as the run's other parts are)."""
    from core.models import (
        MfaDevice,
        NoticeSent,
        PasswordReset,
        PendingLogOn,
        RecoveryCode,
        Session,
        TrustedKey,
    )

    db.create_tables([MfaDevice, RecoveryCode, PendingLogOn, PasswordReset, NoticeSent],
                     safe=True)
    _add_missing_column(db, Session, "stepped_up_at")
    _add_missing_column(db, Session, "key_algorithm")
    _add_missing_column(db, TrustedKey, "algorithm")
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS payment_method_card_expiry "
        "ON payment_method (exp_year, exp_month) WHERE kind = 'card' AND removed_at IS NULL"
    )
BILL_CHARGE_DUE = "next_attempt_at IS NOT NULL"
"""The predicate of the partial index of bills a billing run charges (core.billing repeats it
word for word: SQLite uses a partial index only for a query that repeats its terms). Only an
outstanding bill carries the mark (paying clears it), so the index holds what runs may charge
and nothing else; the query names no other column, so no planner prefers the index of every
outstanding bill."""


def _ledger_documents(db: Database) -> None:
    """Issue 14: invoices and credit notes with their per-account counter; the bill's own
    retry marker, so a billing run reads only the bills due for a charge (never the declined
    ones, never the ledger); gateway tokens waiting for revocation after an erasure; and the
    indexes a deletion's "is this address used by another live account?" reads through."""
    from core.models import DocumentCounter, Invoice, TokenRevocation

    columns = {column.name for column in db.get_columns("bill")}
    added = "next_attempt_at" not in columns
    if added:
        kind = "DATETIME" if isinstance(db, SqliteDatabase) else "TIMESTAMP"
        db.execute_sql(f"ALTER TABLE bill ADD COLUMN next_attempt_at {kind}")
    if "attempts" not in columns:
        db.execute_sql("ALTER TABLE bill ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
    if added:
        # What runs did before: an outstanding bill without a declined charge is retried (no
        # attempt yet, or one a crash cut short); a declined one waits for the person. A bill
        # that had no payment method is tried once more, and then waits for the person too.
        db.execute_sql(
            "UPDATE bill SET next_attempt_at = issued_at WHERE status = 'outstanding' "
            "AND id NOT IN (SELECT bill_id FROM ledger_entry WHERE bill_id IS NOT NULL "
            "AND status = 'failed')")
    new_documents = "invoice" not in db.get_tables()
    db.create_tables([Invoice, DocumentCounter, TokenRevocation], safe=True)
    if new_documents:
        # Charges and refunds made before invoices existed get theirs, numbered in the order
        # the money moved (the address on file now is the best snapshot there is).
        from core.invoices import issue_missing

        issue_missing()
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS bill_charge_due ON bill (next_attempt_at) "
                   f"WHERE {BILL_CHARGE_DUE}")
    db.execute_sql("CREATE INDEX IF NOT EXISTS account_phone ON account (phone)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS billing_address_contact_phone "
                   "ON billing_address (contact_phone)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS billing_address_contact_email_lower "
                   "ON billing_address (lower(contact_email))")


def _account_language(db: Database) -> None:
    """F18: each account's language (null: the console's, which is English by default)."""
    from core.models import Account

    _add_missing_column(db, Account, "language")


def _description_texts(db: Database) -> None:
    """F18: a bill's or ledger entry's description as the text it was made from (null for
    those issued before: shown as stored)."""
    from core.models import Bill, LedgerEntry

    _add_missing_column(db, Bill, "description_text")
    _add_missing_column(db, LedgerEntry, "description_text")


MIGRATIONS: list[tuple[int, str, Callable[[Database], None]]] = [
    (1, "accounts, sessions, codes, billing, payments, resources, ledger", _create_schema),
    (2, "billing runs start from what is due: partial indexes", _billing_due_indexes),
    (3, "abuse limits: message caps, log-on throttle per address, email claims", _abuse_limits),
    (4, "card fingerprints come from the gateway: keyed card hashes erased",
     _drop_keyed_card_fingerprints),
    # (5 was set aside for the SSH work, which needed no schema change.)
    (6, "account protection: MFA, recovery codes, resets, step-up, key types, notices",
     _account_protection),
    (7, "invoices and credit notes, the bill's retry marker, tokens to revoke, deletion's "
        "indexes", _ledger_documents),
    (8, "each account's language", _account_language),
    (9, "bills and ledger entries keep their description as a text too",
     _description_texts),
]

LATEST = MIGRATIONS[-1][0]


def applied_versions(db: Database) -> set[int]:
    if "schema_version" not in db.get_tables():
        return set()
    return {int(row[0]) for row in db.execute_sql("SELECT version FROM schema_version")}


def current_version(db: Database) -> int:
    if "schema_version" not in db.get_tables():
        return 0
    row = db.execute_sql("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: Database) -> int:
    """Apply every migration newer than the database; returns the version reached."""
    from core.clock import iso, now
    from core.db import MIGRATE_LOCK_KEY

    sqlite = isinstance(db, SqliteDatabase)
    with db.atomic():
        if not sqlite:
            # CREATE TABLE IF NOT EXISTS is not atomic against a concurrent one on PostgreSQL
            # (duplicate key in pg_type): processes starting at once take turns.
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK_KEY,))
        db.execute_sql(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
            "name VARCHAR(200) NOT NULL, applied_at VARCHAR(40) NOT NULL)"
        )
    for version, name, apply in MIGRATIONS:
        with db.atomic():
            if not sqlite:
                db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK_KEY,))
            # Re-read inside the (IMMEDIATE on SQLite) transaction: two processes starting at
            # once apply each migration exactly once. By version applied, not the highest one:
            # migrations written side by side (3 and 4) are each applied whatever the order
            # they reached a database in.
            if version in applied_versions(db):
                continue
            apply(db)
            param = "?" if sqlite else "%s"
            db.execute_sql(
                f"INSERT INTO schema_version (version, name, applied_at) "
                f"VALUES ({param}, {param}, {param})",
                (version, name, iso(now())),
            )
    return current_version(db)
