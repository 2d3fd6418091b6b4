"""Draw docs/statement-first-page.png: the first page of a real statement, as the README shows.

    python docs/make_statement_picture.py

A sandbox account lives through December 2026 on the movable clock in a throw-away data
directory (two cards saved with their 1.00 USD holds, a subscription, Pay-As-You-Go usage
billed 48 hours after it ends, a declined charge, the bills paid in January with a chosen
card), then the Billing section's Export writes the statement, and `pdftoppm` (poppler-utils)
renders its first page.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PICTURE = ROOT / "docs" / "statement-first-page.png"
PASSWORD = "Violet-Harbour-Lantern-1987"


def latest_code(to: str) -> str:
    from core.delivery import read_outbox

    return re.search(r"\b\d{6}\b", read_outbox(to)[0].body).group(0)


def live_through_december() -> str:
    """The account's session token, after a December with every kind of entry."""
    from core import clock
    from core.accounts import sign_up
    from core.billing_address import save_billing_address
    from core.billing_run import pay_outstanding, run_billing
    from core.payments import list_payment_methods, save_card, set_default_method
    from core.products import place_order, release_resource
    from core.step_up import step_up
    from core.verify_account import confirm_code, send_code

    clock.set_now(datetime(2026, 12, 1, 9, 30))
    email = "mei.tan@example.com"
    token = sign_up("SG", email, PASSWORD, PASSWORD, True).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", latest_code(email))
    phone = "+6581234567"  # F4: an individual verifies a phone too
    send_code(token, "second_channel", "sms", phone)
    confirm_code(token, "second_channel", "sms", latest_code(phone), phone)
    save_billing_address(token, account_type="individual", full_name="Mei Tan", country="SG",
                         city="Singapore", street="1 Raffles Place", street_2="#20-01",
                         postal_code="048616")
    step_up(token, PASSWORD)
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "Mei Tan")
    save_card(token, "4000 0000 0000 0341", "12/30", "123", "Mei Tan")  # declines later
    place_order(token, "ecs", "us-west-1", "subscription", 1, auto_renew=True)
    first = place_order(token, "ecs", "us-west-1", "payg")
    clock.advance(timedelta(hours=5))
    release_resource(token, first.id)
    second = place_order(token, "oss", "us-west-1", "payg")
    clock.advance(timedelta(hours=50))
    run_billing()
    methods = {m.last4: m.id for m in list_payment_methods(token)}
    set_default_method(token, methods["0341"])
    release_resource(token, second.id)
    clock.advance(timedelta(hours=49))
    run_billing()
    clock.set_now(datetime(2027, 1, 1, 10))
    run_billing()
    step_up(token, PASSWORD)
    pay_outstanding(token, methods["4242"])
    clock.set_now(datetime(2027, 1, 5, 10))
    return token


def main() -> int:
    if shutil.which("pdftoppm") is None:
        print("pdftoppm is needed (Debian: apt install poppler-utils)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(CLOUDACCT_HOME=home, CLOUDACCT_HASH_PROFILE="test",
                          CLOUDACCT_SESSION_IDLE_MINUTES=str(60 * 24 * 366),
                          CLOUDACCT_SESSION_ABSOLUTE_HOURS=str(24 * 366))
        sys.path.insert(0, str(ROOT))
        from core.config import settings
        from core.db import init_database
        from core.documents import export_document

        init_database(settings().database_url)
        token = live_through_december()
        pdf = next(p for p in export_document(token, "statement-2026-12") if p.suffix == ".pdf")
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(PICTURE.with_suffix(""))], check=True)
    print(f"{PICTURE.relative_to(ROOT)}: {PICTURE.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
