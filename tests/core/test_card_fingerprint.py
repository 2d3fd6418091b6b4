"""Card duplicates by the gateway's fingerprint (issue 11, item 8): the sandbox gateway keeps its
own key in its own store and returns a fingerprint with the token; cloudacct stores only that,
so nothing in its database or data directory (outside the gateway's store) lets anyone test a
card number against it. Cards saved before keep working through migration 4."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3

import pytest

from core.billing_address import save_billing_address
from core.errors import ValidationError
from core.gateway import payment_gateway, set_payment_gateway
from core.gateway.sandbox import SandboxGateway
from core.hashing import keyed_hash, secret_key
from core.models import PaymentMethod
from core.payments import save_card
from core.verify_account import confirm_code, send_code
from tests.conftest import latest_code

VISA = "4242424242424242"
GOOD = "12/30"


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def numbers_like(bin_: str, last4: str, length: int = 16, limit: int = 2000) -> list[str]:
    """What an attacker enumerates: numbers with a known BIN and last 4 that pass Luhn."""
    middle = length - len(bin_) - len(last4)
    found = []
    for n in range(10 ** middle):
        number = f"{bin_}{n:0{middle}d}{last4}"
        if luhn_ok(number):
            found.append(number)
            if len(found) == limit:
                break
    return found


@pytest.fixture(autouse=True)
def sandbox():
    set_payment_gateway(None)
    yield payment_gateway()
    set_payment_gateway(None)


@pytest.fixture
def payer(active):
    token, _ = active
    send_code(token, "second_channel", "sms", "+65 8123 4567")
    confirm_code(token, "second_channel", "sms", latest_code("+65 8123 4567"), "+65 8123 4567")
    save_billing_address(token, account_type="individual", full_name="Alice Tan", country="SG",
                         region="SG-01", city="Singapore", street="1 Raffles Place",
                         postal_code="048616")
    return token


def stored(method_id: int) -> str | None:
    return PaymentMethod.get_by_id(method_id).fingerprint


def test_the_same_card_twice_is_refused_in_any_spelling(payer, sandbox):
    save_card(payer, VISA, GOOD, "123", "")
    for spelling in ("4242 4242 4242 4242", "4242-4242-4242-4242"):
        with pytest.raises(ValidationError) as info:
            save_card(payer, spelling, "01/31", "456", "Someone")
        assert info.value.field == "card-number" and "already saved" in info.value.message
    assert PaymentMethod.select().count() == 1
    assert len(sandbox.authorizations()) == 1  # no hold on a duplicate


def test_two_cards_with_the_same_last_4_are_both_saved(payer):
    other = next(n for n in numbers_like("424242", "4242") if n != VISA)
    first = save_card(payer, VISA, GOOD, "123", "").method
    second = save_card(payer, other, GOOD, "123", "").method
    assert (first.last4, second.last4) == ("4242", "4242")
    assert stored(first.id) != stored(second.id)


def test_the_stored_fingerprint_is_the_gateway_s_and_no_keyed_hash(payer, sandbox):
    method = save_card(payer, VISA, GOOD, "123", "").method
    fingerprint = stored(method.id)
    token = PaymentMethod.get_by_id(method.id).gateway_token
    assert fingerprint == sandbox.card_fingerprint(token) == sandbox.tokens()[0]["fingerprint"]
    key = secret_key()
    old_ways = [
        keyed_hash("card", VISA),  # what the old code stored
        hmac.new(key, VISA.encode(), hashlib.sha256).hexdigest(),
        hmac.new(key, ("card\x1f" + VISA).encode(), hashlib.sha256).hexdigest(),
        hashlib.sha256(VISA.encode()).hexdigest(),
    ]
    assert all(fingerprint != way and way[:32] not in fingerprint for way in old_ways)


@pytest.mark.sqlite_only
def test_the_data_directory_without_the_gateway_s_store_identifies_no_card(
        payer, sandbox, cloudacct_home):
    """The attack of the issue, on a candidate list holding the real number: with the old
    keyed hash it finds the card; with what cloudacct keeps now (the fingerprint, last 4,
    brand, secret.key, every byte of its database) it finds nothing, for any keyed or plain
    hash of the number under any key-like file outside the gateway's store."""
    method = save_card(payer, VISA, GOOD, "123", "").method
    fingerprint = stored(method.id)
    candidates = sorted({*numbers_like("424242", "4242"), VISA})
    # Positive control: the old stored value gave the card away.
    old = keyed_hash("card", VISA)
    assert [n for n in candidates if keyed_hash("card", n) == old] == [VISA]

    keys = [secret_key()]
    for path in cloudacct_home.rglob("*"):  # every file an attacker could read as a key
        if path.is_file() and not path.name.startswith("sandbox-gateway"):
            keys.append(path.read_bytes()[:4096])

    def tries(number: str):
        for key in keys:
            for message in (number, "card\x1f" + number, "card-fingerprint\x1f" + number):
                yield hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
        yield hashlib.sha256(number.encode()).hexdigest()

    found = [n for n in candidates if any(fingerprint.removeprefix("fp_") in t
                                          for t in tries(n))]
    assert found == []
    # And the gateway's own key, which only its store holds, is what makes it.
    with sqlite3.connect(cloudacct_home / "sandbox-gateway.db") as conn:
        gateway_key = conn.execute("SELECT key FROM gateway_keys").fetchone()[0]
    assert gateway_key not in (cloudacct_home / "cloudacct.db").read_bytes()
    assert "fp_" + hmac.new(gateway_key, ("card-fingerprint\x1f" + VISA).encode(),
                            hashlib.sha256).hexdigest()[:32] == fingerprint


def test_each_gateway_store_has_its_own_key(tmp_path):
    """Stable for one card within one store, unrelated between stores and to secret.key."""
    one, two = SandboxGateway(tmp_path / "one.db"), SandboxGateway(tmp_path / "two.db")
    a = one.tokenize_card(VISA, 12, 2030, "123", "")
    b = one.tokenize_card("4242 4242 4242 4242", 1, 2031, "999", "Someone")
    c = two.tokenize_card(VISA, 12, 2030, "123", "")
    assert a.token != b.token and a.fingerprint == b.fingerprint
    assert c.fingerprint != a.fingerprint
    assert one.tokenize_card("5555555555554444", 12, 2030, "123", "").fingerprint \
        != a.fingerprint
    assert a.fingerprint.startswith("fp_") and len(a.fingerprint) <= 64


def test_a_card_saved_before_migration_4_is_still_a_duplicate(payer, sandbox, db):
    """A row of the old code (a keyed hash) is erased by migration 4; the next card saved on
    the account asks the gateway for the old token's fingerprint and keeps it."""
    from core.migrations import _drop_keyed_card_fingerprints

    method = save_card(payer, VISA, GOOD, "123", "").method
    gateway_value = stored(method.id)
    PaymentMethod.update(fingerprint=keyed_hash("card", VISA)).execute()  # as the old code
    _drop_keyed_card_fingerprints(db)
    assert stored(method.id) is None
    with pytest.raises(ValidationError):
        save_card(payer, "4242 4242 4242 4242", GOOD, "123", "")
    assert stored(method.id) == gateway_value
    assert save_card(payer, "5555 5555 5555 4444", GOOD, "123", "").method.last4 == "4444"


def test_a_gateway_store_from_before_fingerprints_is_upgraded(tmp_path):
    """Its tokens table gains the column and the store its key; an old card token has no
    fingerprint (its number was never kept), and new ones do."""
    path = tmp_path / "old-gateway.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE tokens (token TEXT PRIMARY KEY, kind TEXT NOT NULL, "
                     "brand TEXT, last4 TEXT, exp_month INTEGER, exp_year INTEGER, "
                     "behaviour TEXT NOT NULL DEFAULT 'ok', detail TEXT, "
                     "created_at TEXT NOT NULL, revoked_at TEXT)")
        conn.execute("INSERT INTO tokens (token, kind, brand, last4, exp_month, exp_year, "
                     "created_at) VALUES ('card_old', 'card', 'Visa', '4242', 12, 2030, 'x')")
    conn.close()
    gateway = SandboxGateway(path)
    assert gateway.card_fingerprint("card_old") is None
    assert gateway.tokenize_card(VISA, 12, 2030, "123", "").fingerprint.startswith("fp_")
    assert gateway.card_fingerprint("nonexistent") is None


def test_a_duplicate_left_in_the_old_gateway_store_does_not_stop_saving(payer, sandbox):
    """A live card whose token the gateway has no fingerprint for (saved before, with a store
    from before) cannot be compared: the new card is saved rather than refused blindly."""
    first = save_card(payer, VISA, GOOD, "123", "").method
    PaymentMethod.update(fingerprint=None).execute()
    token = PaymentMethod.get_by_id(first.id).gateway_token
    with sqlite3.connect(sandbox.path) as conn:
        conn.execute("UPDATE tokens SET fingerprint = NULL WHERE token = ?", (token,))
    conn.close()
    second = save_card(payer, VISA, GOOD, "123", "").method
    assert second.id != first.id and stored(first.id) is None and stored(second.id)
