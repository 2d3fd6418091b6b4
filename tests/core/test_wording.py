"""Texts that read finished (issue 12): counted nouns, the article of a name, and the places
that used to say "1 month(s)", "2 bill(s)" or "A Alibaba Cloud"."""

from __future__ import annotations

import pytest

from tests.conftest import START


@pytest.mark.parametrize(("number", "text"), [(0, "0 bills"), (1, "1 bill"), (2, "2 bills")])
def test_count(number, text):
    from core.wording import count

    assert count(number, "bill") == text


def test_irregular_plurals():
    from core.wording import count, plural

    assert count(1, "try", "tries") == "1 try" and count(3, "try", "tries") == "3 tries"
    assert plural(2, "expiry", "expiries") == "expiries"


@pytest.mark.parametrize(("name", "text"), [
    ("Alibaba Cloud", "an Alibaba Cloud"), ("American Express", "an American Express"),
    ("Visa", "a Visa"), ("UnionPay", "an UnionPay"), ("Huawei Cloud", "a Huawei Cloud")])
def test_with_article(name, text):
    from core.wording import with_article

    assert with_article(name) == text
    assert with_article(name, capital=True) == text[0].upper() + text[1:]


def test_no_unfinished_counts_are_left_in_the_flows_of_this_branch():
    """The texts of core's billing, products, catalogue, run and overview read finished."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "core"
    for name in ("billing.py", "billing_run.py", "products.py", "catalogue.py", "accounts.py",
                 "billing_address.py", "deletion.py", "logon_throttle.py", "message_caps.py",
                 "reconciliation.py"):
        text = (root / name).read_text(encoding="utf-8")
        assert not re.search(r"\w\((s|ies)\)", text), name


def test_a_payment_stopped_part_way_counts_the_bills_paid_first():
    from core.billing import PaymentFailed

    one = PaymentFailed("Card declined.", (object(),), 80)  # type: ignore[arg-type]
    assert "1 bill was paid first" in one.message
    two = PaymentFailed("Card declined.", (object(), object()), 80)  # type: ignore[arg-type]
    assert "2 bills were paid first" in two.message


def test_the_run_summary_counts_in_words():
    from core.billing import RunEvent
    from core.billing_run import BillingRunReport

    report = BillingRunReport(START, (
        RunEvent("bill", "", bill_id=1, amount_cents=16, charged=True),
        RunEvent("expiry", ""), RunEvent("expiry", ""), RunEvent("deletion", "")))
    assert report.summary == ("Billing run at 2026-12-01T10:00:00Z: 1 bill issued (0.16 USD), "
                              "0 left outstanding; 0 renewals, 2 expiries, 1 deletion "
                              "completed.")


def test_a_renewal_bill_says_1_month(active, clock):
    from core.billing_run import run_billing
    from core.models import Bill
    from core.products import place_order
    from tests.core.test_products import ready

    token, _ = active
    ready(token)
    view = place_order(token, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    clock.set_now(view.period_end)
    run_billing()
    renewal = Bill.get(Bill.kind == "renewal")
    assert "renewal for 1 month," in renewal.description


def test_a_card_brand_takes_its_article():
    from core.errors import ValidationError
    from core.validation import check_card_number

    with pytest.raises(ValidationError) as info:
        check_card_number("3400 0000 0000 0000")  # Luhn-valid, 16 digits: Amex has 15
    assert info.value.message == "An American Express card number has 15 digits."


def test_the_log_on_wait_counts_minutes(db):
    from core.accounts import log_on
    from core.errors import AuthenticationError, LockedError
    from tests.core.conftest import make_account

    make_account("mei@example.com")
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            log_on("mei@example.com", "wrong password here", origin="203.0.113.9")
    with pytest.raises(LockedError) as info:
        log_on("mei@example.com", "wrong password here", origin="203.0.113.9")
    assert info.value.message.endswith("Try again in 1 minute.")
    assert "(s)" not in info.value.message
