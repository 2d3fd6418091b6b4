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
    # (Bills due for a retry are read through the index on bill.status of migration 1.)


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


MIGRATIONS: list[tuple[int, str, Callable[[Database], None]]] = [
    (1, "accounts, sessions, codes, billing, payments, resources, ledger", _create_schema),
    (2, "billing runs start from what is due: partial indexes", _billing_due_indexes),
    (3, "abuse limits: message caps, log-on throttle per address, email claims", _abuse_limits),
    (4, "card fingerprints come from the gateway: keyed card hashes erased",
     _drop_keyed_card_fingerprints),
    # 5 is another branch's.
    (6, "account protection: MFA, recovery codes, resets, step-up, key types, notices",
     _account_protection),
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
