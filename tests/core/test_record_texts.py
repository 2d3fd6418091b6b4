"""Bills and ledger entries keep their description as issued (English, as the statements and
reports read it) and the text it was made from, so the console shows them in the reader's
language (F18)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.i18n import translate
from core.wording import record_text, stored_text, verbatim


@pytest.fixture(autouse=True)
def long_sessions(cloudacct_home, monkeypatch):
    """The clock moves by days: the buyer's session must outlive that."""
    from core.config import reset_settings

    monkeypatch.setenv("CLOUDACCT_SESSION_IDLE_MINUTES", str(10 * 366 * 24 * 60))
    monkeypatch.setenv("CLOUDACCT_SESSION_ABSOLUTE_HOURS", str(10 * 366 * 24))
    reset_settings()


def _buyer_with_a_bill(clock) -> str:
    from core.billing_run import run_billing
    from tests.tui.test_billing import usage
    from tests.tui.test_products import ready_buyer

    token = ready_buyer()
    usage(token, hours=10)
    clock.advance(timedelta(hours=49))
    run_billing()
    return token


def test_a_usage_bill_reads_in_chinese_and_keeps_its_english(db, clock):
    from core.billing import list_bills
    from core.models import Bill

    token = _buyer_with_a_bill(clock)
    bill = list_bills(token)[0]
    stored = Bill.get_by_id(bill.id).description
    assert stored.startswith("ECS instance #") and " usage in us-west-1, " in stored
    assert bill.description == stored  # reads as issued wherever a str goes
    chinese = translate(bill.description, "zh-Hans")
    assert "在 us-west-1 的用量" in chinese and "usage" not in chinese


def test_the_hold_and_its_release_read_in_chinese(db, clock):
    from core.billing import billing_page
    from tests.tui.test_products import ready_buyer

    token = ready_buyer()
    entries = billing_page(token).ledger
    english = [str(entry.description) for entry in entries]
    assert any(text.startswith("Pre-authorization hold on Visa") for text in english)
    chinese = [translate(entry.description, "zh-Hans") for entry in entries]
    assert any("预授权冻结" in text and "Visa •••• 4242" in text for text in chinese)
    assert not any("hold" in text for text in chinese)


def test_a_record_made_before_texts_were_kept_shows_as_stored():
    assert record_text("Old description", None) == "Old description"
    assert record_text("Old description", "{not json") == "Old description"
    assert record_text("Old description", '{"t": 3}') == "Old description"


def test_a_stored_text_comes_back_whole():
    from core.i18n import phrase, plural_text

    made = phrase("{product}, renewal for {period}, {start} – {end}",
                  product="ECS instance", period=plural_text("{n} month", "{n} months", n=3),
                  start=verbatim("2026-12-01"), end=verbatim("2027-03-01"))
    back = record_text(str(made), stored_text(made))
    assert back == made == "ECS instance, renewal for 3 months, 2026-12-01 – 2027-03-01"
    assert translate(back, "zh-Hans") == translate(made, "zh-Hans")
    assert "2026-12-01" in translate(back, "zh-Hans")
    assert stored_text("a plain str") is None
