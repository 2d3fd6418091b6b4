"""The sandbox payment gateway: a real gateway's test mode, embedded (CONTRACT.md table).

It keeps its own books OUTSIDE cloudacct's database, as a real gateway would: a small SQLite
file of its own (`<CLOUDACCT_HOME>/sandbox-gateway.db`, WAL, plain `sqlite3`), holding

- tokens: brand, last 4, expiry, the test behaviour and the fingerprint of the card (never its
  number or security code), PayPal billing agreements and Paytm links;
- its own fingerprint key (`gateway_keys`), made once per store: a card's fingerprint is an
  HMAC of the number under it, so cloudacct (which keeps only the fingerprint) cannot test a
  card number against it, as with a real gateway;
- authorizations (held / voided / declined), charges (succeeded / declined), refunds;
- operations: every money-moving call by idempotency key, so a repeated call with the same key
  returns the first result (or the same decline) and moves no money twice;
- PayPal log-on sessions.

Where declines happen, like a real gateway's test mode: tokenizing checks only that the number,
expiry and security code are well formed ("Your card number is incorrect."); the test cards'
declines come when money is asked for: at `authorize` (the pre-authorization hold of F5) and at
`charge`. The `…0341` card authorizes fine but every charge is declined.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from core import clock
from core.gateway.base import (
    Authorization,
    CardToken,
    Charge,
    GatewayDecline,
    GatewayRecord,
    PayPalAgreement,
    PaytmLink,
    Refund,
)
from core.i18n import N_

PAYPAL_BUYER = "buyer@example.com"
PAYPAL_PASSWORD = "sandbox-pass"
PAYPAL_SESSION_LIFETIME = timedelta(minutes=15)

DECLINES: dict[str, tuple[str, bool]] = {
    # behaviour → (the gateway's words, retryable)
    "card_declined": (N_("Your card was declined."), False),
    "insufficient_funds": (N_("Your card has insufficient funds."), False),
    "incorrect_cvc": (N_("Your card's security code is incorrect."), False),
    "expired_card": (N_("Your card has expired."), False),
    "processing_error": (N_("An error occurred while processing your card. Try again."), True),
}

# Test numbers → behaviour. Any other well-formed number behaves "ok".
TEST_CARDS: dict[str, str] = {
    "4242424242424242": "ok",
    "5555555555554444": "ok",
    "378282246310005": "ok",
    "6011111111111117": "ok",
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000127": "incorrect_cvc",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
    "4000000000000341": "charge_declined",  # attaches and holds fine; every charge declined
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- card | paypal | paytm
    brand TEXT, last4 TEXT, exp_month INTEGER, exp_year INTEGER,
    behaviour TEXT NOT NULL DEFAULT 'ok',
    fingerprint TEXT,                -- cards: HMAC of the number under the gateway's key
    detail TEXT,                     -- PayPal email, Paytm phone
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS operations (
    idempotency_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,              -- authorize | void | charge | refund
    token TEXT NOT NULL,             -- the token, or the authorization/charge acted on
    amount_cents INTEGER NOT NULL,
    object_id TEXT,
    outcome TEXT NOT NULL,           -- ok | declined
    decline_code TEXT, decline_reason TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS authorizations (
    id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    state TEXT NOT NULL,             -- held | voided | declined
    decline_code TEXT,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    voided_at TEXT
);
CREATE TABLE IF NOT EXISTS charges (
    id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    description TEXT,
    state TEXT NOT NULL,             -- succeeded | declined
    decline_code TEXT,
    refunded_cents INTEGER NOT NULL DEFAULT 0,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL REFERENCES charges(id),
    amount_cents INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS gateway_keys (
    name TEXT PRIMARY KEY,
    key BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS paypal_sessions (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
"""

_UNAVAILABLE = N_("The payment gateway could not be reached. Nothing was charged; try again.")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _now_text() -> str:
    return clock.now().isoformat(timespec="microseconds")


class SandboxGateway:
    """The embedded payment gateway of CONTRACT.md. `path` defaults to the data directory's
    `sandbox-gateway.db`, resolved at each call (so it follows `CLOUDACCT_HOME`)."""

    FILE_NAME = "sandbox-gateway.db"

    def __init__(self, path: Path | str | None = None) -> None:
        self._path = Path(path) if path is not None else None
        self._ready: set[Path] = set()
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._conn_key: tuple[int, Path, int] = (0, Path(), 0)
        self._fingerprint_key: bytes | None = None

    # --- storage -------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        if self._path is not None:
            return self._path
        from core.config import settings

        return settings().home / self.FILE_NAME

    def _connect(self) -> sqlite3.Connection:
        """The sandbox's one open connection to its file (opened on first use, and again when
        the data directory, the process or the file itself changed). Call with `_lock` held.

        Kept open because opening and closing a WAL file per call costs a checkpoint, with its
        fsyncs, every time. `synchronous=NORMAL`: commits survive the process being killed (the
        crash tests kill it); only a power cut could lose the last of them, and this is a
        test-mode gateway, not cloudacct's own books, which stay at FULL.
        """
        from core.private_files import private_dir, private_file

        path = self.path
        private_dir(path.parent)
        try:
            inode = path.stat().st_ino
        except FileNotFoundError:
            inode = None
        if self._conn is not None and self._conn_key == (os.getpid(), path, inode):
            return self._conn
        self._close()
        if inode is None:
            private_file(path)  # 0600 before SQLite opens it: its -wal and -shm take its mode
        conn = sqlite3.connect(path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA secure_delete = ON")  # revoked details do not linger
            if path not in self._ready or inode is None:
                conn.execute("PRAGMA journal_mode = WAL")
                # One transaction: a process killed here leaves all of the tables or none.
                conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}")
                self._upgrade(conn)
                conn.execute("COMMIT")
                self._ready.add(path)
            row = conn.execute("SELECT key FROM gateway_keys WHERE name = 'card_fingerprint'"
                               ).fetchone()
        except BaseException:
            conn.close()
            raise
        self._fingerprint_key = bytes(row["key"])
        self._conn, self._conn_key = conn, (os.getpid(), path, path.stat().st_ino)
        return conn

    @staticmethod
    def _upgrade(conn: sqlite3.Connection) -> None:
        """A store made before card fingerprints gains the column and its key (its older card
        tokens have no fingerprint: their numbers were never kept)."""
        columns = {row["name"] for row in conn.execute("PRAGMA table_info(tokens)")}
        if "fingerprint" not in columns:
            conn.execute("ALTER TABLE tokens ADD COLUMN fingerprint TEXT")
        conn.execute("INSERT OR IGNORE INTO gateway_keys (name, key) VALUES (?, ?)",
                     ("card_fingerprint", secrets.token_bytes(32)))

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._conn_key[0] == os.getpid():
            conn.close()  # a connection inherited across fork is left alone, never used

    def close(self) -> None:
        """Close the file (the next call opens it again)."""
        with self._lock:
            self._close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction on the sandbox's own file, one call at a time."""
        with self._lock:
            try:
                conn = self._connect()
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._close()
                raise GatewayDecline(_UNAVAILABLE, "gateway_unavailable",
                                     retryable=True) from exc
            try:
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._close()
                raise GatewayDecline(_UNAVAILABLE, "gateway_unavailable",
                                     retryable=True) from exc

    def _rows(self, sql: str, params: tuple = ()) -> list[dict]:
        with self._lock:
            return [dict(row) for row in self._connect().execute(sql, params)]

    # --- idempotency ---------------------------------------------------------------------

    @staticmethod
    def _replay(conn: sqlite3.Connection, key: str, kind: str, token: str,
                amount_cents: int) -> sqlite3.Row | None:
        """The first result of this key, or None if it is new. A key reused for another call
        is refused, as real gateways do."""
        if not key or not isinstance(key, str):
            raise GatewayDecline(N_("An idempotency key is required."), "invalid_request")
        row = conn.execute("SELECT * FROM operations WHERE idempotency_key = ?",
                           (key,)).fetchone()
        if row is None:
            return None
        if row["kind"] != kind or row["token"] != token or row["amount_cents"] != amount_cents:
            raise GatewayDecline(
                N_("This idempotency key was already used for another request."),
                "idempotency_mismatch")
        if row["outcome"] == "declined":
            reason = row["decline_reason"]
            raise GatewayDecline(reason, row["decline_code"],
                                 retryable=row["decline_code"] == "processing_error")
        return row

    @staticmethod
    def _record(conn: sqlite3.Connection, key: str, kind: str, token: str, amount_cents: int,
                object_id: str | None, decline: GatewayDecline | None = None) -> None:
        conn.execute(
            "INSERT INTO operations (idempotency_key, kind, token, amount_cents, object_id, "
            "outcome, decline_code, decline_reason, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (key, kind, token, amount_cents, object_id, "declined" if decline else "ok",
             decline.code if decline else None, decline.reason if decline else None,
             _now_text()))

    @staticmethod
    def _check_amount(amount_cents: int) -> None:
        if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) \
                or amount_cents <= 0:
            raise GatewayDecline(N_("The amount must be a positive whole number of cents."),
                                 "invalid_amount")

    @staticmethod
    def _live_token(conn: sqlite3.Connection, token: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM tokens WHERE token = ?", (token,)).fetchone()
        if row is None or row["revoked_at"] is not None:
            raise GatewayDecline(N_("This payment method is no longer available."),
                                 "token_revoked")
        return row

    @staticmethod
    def _decline(behaviour: str) -> GatewayDecline | None:
        if behaviour in DECLINES:
            reason, retryable = DECLINES[behaviour]
            return GatewayDecline(reason, behaviour, retryable=retryable)
        return None

    # --- cards ---------------------------------------------------------------------------

    def tokenize_card(self, number: str, exp_month: int, exp_year: int, cvv: str,
                      holder: str) -> CardToken:
        from core.validation import card_brand, luhn_ok

        digits = re.sub(r"[ \-]", "", number or "")
        if not re.fullmatch(r"[0-9]{12,19}", digits, re.ASCII) or not luhn_ok(digits) \
                or not digits.strip("0"):
            raise GatewayDecline(N_("Your card number is incorrect."), "incorrect_number")
        brand = card_brand(digits)
        if brand is None:
            raise GatewayDecline(N_("Your card is not supported."), "card_not_supported")
        today = clock.now()
        if not (isinstance(exp_month, int) and 1 <= exp_month <= 12 and isinstance(exp_year, int)) \
                or (exp_year, exp_month) < (today.year, today.month):
            raise GatewayDecline(N_("Your card's expiration date is invalid."), "invalid_expiry")
        wanted = 4 if brand == "American Express" else 3
        if not re.fullmatch(rf"[0-9]{{{wanted}}}", cvv or "", re.ASCII):
            raise GatewayDecline(N_("Your card's security code is invalid."), "invalid_cvc")
        behaviour = TEST_CARDS.get(digits, "ok")
        token = _new_id("card")
        with self._tx() as conn:
            fingerprint = self._fingerprint(digits)
            conn.execute(
                "INSERT INTO tokens (token, kind, brand, last4, exp_month, exp_year, behaviour, "
                "fingerprint, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (token, "card", brand, digits[-4:], exp_month, exp_year, behaviour,
                 fingerprint, _now_text()))
        return CardToken(token=token, brand=brand, last4=digits[-4:], exp_month=exp_month,
                         exp_year=exp_year, fingerprint=fingerprint)

    def _fingerprint(self, digits: str) -> str:
        """`fp_` and 128 bits of HMAC-SHA256 of the number under this store's own key. Call
        with a connection open (it loads the key)."""
        assert self._fingerprint_key is not None
        mac = hmac.new(self._fingerprint_key, b"card-fingerprint\x1f" + digits.encode("ascii"),
                       hashlib.sha256)
        return "fp_" + mac.hexdigest()[:32]

    def card_fingerprint(self, token: str) -> str | None:
        rows = self._rows("SELECT fingerprint FROM tokens WHERE token = ? AND kind = 'card'",
                          (token or "",))
        return rows[0]["fingerprint"] if rows else None

    def authorize(self, token: str, amount_cents: int, *,
                  idempotency_key: str) -> Authorization:
        self._check_amount(amount_cents)
        with self._tx() as conn:
            first = self._replay(conn, idempotency_key, "authorize", token, amount_cents)
            if first is not None:
                return Authorization(id=first["object_id"], amount_cents=amount_cents)
            row = self._live_token(conn, token)
            decline = self._decline(row["behaviour"])
            auth_id = _new_id("auth")
            conn.execute(
                "INSERT INTO authorizations (id, token, amount_cents, currency, state, "
                "decline_code, idempotency_key, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (auth_id, token, amount_cents, "USD", "declined" if decline else "held",
                 decline.code if decline else None, idempotency_key, _now_text()))
            self._record(conn, idempotency_key, "authorize", token, amount_cents, auth_id,
                         decline)
        if decline is not None:
            raise decline
        return Authorization(id=auth_id, amount_cents=amount_cents)

    def void(self, authorization_id: str, *, idempotency_key: str) -> None:
        with self._tx() as conn:
            if self._replay(conn, idempotency_key, "void", authorization_id, 0) is not None:
                return
            row = conn.execute("SELECT * FROM authorizations WHERE id = ?",
                               (authorization_id,)).fetchone()
            if row is None or row["state"] == "declined":
                raise GatewayDecline(N_("No such authorization."), "invalid_request")
            if row["state"] == "held":
                conn.execute("UPDATE authorizations SET state = 'voided', voided_at = ? "
                             "WHERE id = ?", (_now_text(), authorization_id))
            self._record(conn, idempotency_key, "void", authorization_id, 0, authorization_id)

    def charge(self, token: str, amount_cents: int, *, idempotency_key: str,
               description: str = "") -> Charge:
        self._check_amount(amount_cents)
        with self._tx() as conn:
            first = self._replay(conn, idempotency_key, "charge", token, amount_cents)
            if first is not None:
                return Charge(id=first["object_id"], amount_cents=amount_cents)
            row = self._live_token(conn, token)
            behaviour = row["behaviour"]
            if behaviour == "charge_declined":
                behaviour = "card_declined"
            decline = self._decline(behaviour)
            if decline is None and row["kind"] == "card":
                today = clock.now()
                if (row["exp_year"], row["exp_month"]) < (today.year, today.month):
                    decline = self._decline("expired_card")
            charge_id = _new_id("ch")
            conn.execute(
                "INSERT INTO charges (id, token, amount_cents, currency, description, state, "
                "decline_code, idempotency_key, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (charge_id, token, amount_cents, "USD", (description or "")[:200],
                 "declined" if decline else "succeeded", decline.code if decline else None,
                 idempotency_key, _now_text()))
            self._record(conn, idempotency_key, "charge", token, amount_cents, charge_id,
                         decline)
        if decline is not None:
            raise decline
        return Charge(id=charge_id, amount_cents=amount_cents)

    def refund(self, charge_id: str, amount_cents: int, *, idempotency_key: str) -> Refund:
        self._check_amount(amount_cents)
        with self._tx() as conn:
            first = self._replay(conn, idempotency_key, "refund", charge_id, amount_cents)
            if first is not None:
                return Refund(id=first["object_id"], charge_id=charge_id,
                              amount_cents=amount_cents)
            row = conn.execute("SELECT * FROM charges WHERE id = ?", (charge_id,)).fetchone()
            if row is None or row["state"] != "succeeded":
                raise GatewayDecline(N_("No such charge to refund."), "invalid_request")
            if row["refunded_cents"] + amount_cents > row["amount_cents"]:
                raise GatewayDecline(N_("The refund is more than what is left of the charge."),
                                     "invalid_request")
            refund_id = _new_id("re")
            conn.execute("INSERT INTO refunds (id, charge_id, amount_cents, idempotency_key, "
                         "created_at) VALUES (?,?,?,?,?)",
                         (refund_id, charge_id, amount_cents, idempotency_key, _now_text()))
            conn.execute("UPDATE charges SET refunded_cents = refunded_cents + ? WHERE id = ?",
                         (amount_cents, charge_id))
            self._record(conn, idempotency_key, "refund", charge_id, amount_cents, refund_id)
        return Refund(id=refund_id, charge_id=charge_id, amount_cents=amount_cents)

    def revoke(self, token: str) -> None:
        """Revoke a token and forget the PayPal email / Paytm phone behind it."""
        with self._tx() as conn:
            conn.execute("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?), detail = NULL "
                         "WHERE token = ?", (_now_text(), token))
        with self._lock:
            self._connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- PayPal and Paytm ----------------------------------------------------------------

    def paypal_log_on(self, email: str, password: str) -> str:
        if (email or "").strip().casefold() != PAYPAL_BUYER or password != PAYPAL_PASSWORD:
            raise GatewayDecline(N_("Check your email address and password."), "paypal_auth")
        session = _new_id("ppsess")
        at = clock.now()
        with self._tx() as conn:
            conn.execute("INSERT INTO paypal_sessions (id, email, created_at, expires_at) "
                         "VALUES (?,?,?,?)",
                         (session, PAYPAL_BUYER, at.isoformat(timespec="microseconds"),
                          (at + PAYPAL_SESSION_LIFETIME).isoformat(timespec="microseconds")))
        return session

    def paypal_agree(self, paypal_session: str) -> PayPalAgreement:
        at = _now_text()
        with self._tx() as conn:
            row = conn.execute("SELECT * FROM paypal_sessions WHERE id = ?",
                               (paypal_session or "",)).fetchone()
            if row is None or row["used_at"] is not None or row["expires_at"] <= at:
                raise GatewayDecline(
                    N_("Your PayPal session has ended. Log in to PayPal again."),
                    "paypal_session")
            conn.execute("UPDATE paypal_sessions SET used_at = ? WHERE id = ?",
                         (at, paypal_session))
            token = _new_id("ba")
            conn.execute("INSERT INTO tokens (token, kind, detail, created_at) VALUES (?,?,?,?)",
                         (token, "paypal", row["email"], at))
        return PayPalAgreement(token=token, email=row["email"])

    def paypal_cancel(self, paypal_session: str) -> None:
        """The person pressed Cancel: the session ends with nothing agreed."""
        with self._tx() as conn:
            conn.execute("UPDATE paypal_sessions SET used_at = ? WHERE id = ? AND used_at IS NULL",
                         (_now_text(), paypal_session or ""))

    def paytm_link(self, phone_e164: str) -> PaytmLink:
        if not re.fullmatch(r"\+91[6-9][0-9]{9}", phone_e164 or "", re.ASCII):
            raise GatewayDecline(N_("Paytm has no wallet for this mobile number."),
                                 "paytm_unknown")
        token = _new_id("ptm")
        with self._tx() as conn:
            conn.execute("INSERT INTO tokens (token, kind, detail, created_at) VALUES (?,?,?,?)",
                         (token, "paytm", phone_e164, _now_text()))
        return PaytmLink(token=token, phone=phone_e164)

    # --- reconciliation and the sandbox's dashboard --------------------------------------

    def lookup(self, idempotency_key: str) -> GatewayRecord | None:
        rows = self._rows("SELECT * FROM operations WHERE idempotency_key = ?",
                          (idempotency_key,))
        if not rows:
            return None
        op = rows[0]
        state = "declined" if op["outcome"] == "declined" else "done"
        if op["outcome"] == "ok" and op["kind"] == "authorize":
            auth = self._rows("SELECT state FROM authorizations WHERE id = ?",
                              (op["object_id"],))
            state = auth[0]["state"] if auth else state
        elif op["outcome"] == "ok" and op["kind"] == "charge":
            state = "succeeded"
        extra = {"object_id": op["object_id"]}
        if op["decline_code"]:
            extra.update(decline_code=op["decline_code"], reason=op["decline_reason"])
        return GatewayRecord(kind=op["kind"], idempotency_key=op["idempotency_key"],
                             token=op["token"], amount_cents=op["amount_cents"], state=state,
                             extra=extra)

    def open_authorizations(self) -> list[GatewayRecord]:
        rows = self._rows("SELECT * FROM authorizations WHERE state = 'held' "
                          "ORDER BY created_at, id")
        return [GatewayRecord(kind="authorize", idempotency_key=row["idempotency_key"],
                              token=row["token"], amount_cents=row["amount_cents"],
                              state="held",
                              extra={"object_id": row["id"], "created_at": row["created_at"]})
                for row in rows]

    def authorizations(self, state: str | None = None) -> list[dict]:
        if state is None:
            return self._rows("SELECT * FROM authorizations ORDER BY created_at, id")
        return self._rows("SELECT * FROM authorizations WHERE state = ? ORDER BY created_at, id",
                          (state,))

    def charges(self) -> list[dict]:
        return self._rows("SELECT * FROM charges ORDER BY created_at, id")

    def refunds(self) -> list[dict]:
        return self._rows("SELECT * FROM refunds ORDER BY created_at, id")

    def tokens(self) -> list[dict]:
        return self._rows("SELECT * FROM tokens ORDER BY created_at, token")

    def __repr__(self) -> str:
        return f"SandboxGateway({str(self.path)!r})"

