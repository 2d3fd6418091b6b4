"""The child of the crash tests (tests/core/test_crash.py): runs the money flows in a loop until
the parent kills it with SIGKILL. Uses the data directory of CLOUDACCT_HOME.

Each round: a new account signs up and verifies, adds a billing address, saves a card (the
1.00 USD hold and its release), buys a one-month subscription and a Pay-As-You-Go resource,
releases the latter and runs billing; a second new account saves a card and deletes itself.
It prints "ready" once imported and connected, then "round N" as rounds finish.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from itertools import count

STRONG = "correct horse battery staple 9"


def _code(to: str) -> str:
    from core.delivery import read_outbox

    return re.search(r"(?<!\d)\d{6}(?!\d)", read_outbox(to)[0].body).group()


def _payer(email: str, phone: str, origin: str) -> str:
    from core.accounts import sign_up
    from core.billing_address import save_billing_address
    from core.payments import save_card
    from core.verify_account import confirm_code, send_code

    token = sign_up("SG", email, STRONG, STRONG, True, origin=origin).token
    send_code(token, "signup", "email")
    confirm_code(token, "signup", "email", _code(email))
    send_code(token, "second_channel", "sms", phone)
    confirm_code(token, "second_channel", "sms", _code(phone), phone)
    save_billing_address(token, account_type="individual", full_name="Crash Test",
                         country="SG", region="SG-01", city="Singapore",
                         street="1 Raffles Place", postal_code="048616")
    save_card(token, "4242 4242 4242 4242", "12/30", "123", "")
    return token


def main() -> None:
    from core.billing_run import run_billing
    from core.config import settings
    from core.db import init_database
    from core.deletion import request_deletion
    from core.products import place_order, release_resource

    # Every round is new people from an address of their own: the per-address message cap
    # (30 a day) would otherwise stop the loop; the hourly ceiling is far above any real load.
    os.environ.setdefault("CLOUDACCT_MESSAGES_PER_HOUR", "1000000")
    init_database(settings().database_url)
    for heavy in ("phonenumbers", "zxcvbn", "argon2", "pycountry", "email_validator"):
        with contextlib.suppress(ImportError):  # core's lazy imports, loaded before "ready"
            __import__(heavy)
    tag = f"{os.getpid()}"
    print("ready", flush=True)
    for n in count():
        origin = f"10.{os.getpid() % 250}.{n // 250 % 250}.{n % 250}"
        buyer = _payer(f"buyer-{tag}-{n}@example.com",
                       f"+65 8123 {(os.getpid() * 7 + n) % 10000:04d}", origin)
        place_order(buyer, "ecs", "ap-southeast-1", "subscription", "1")
        payg = place_order(buyer, "ecs", "ap-southeast-1", "payg")
        release_resource(buyer, payg.id)
        run_billing()
        leaver = _payer(f"leaver-{tag}-{n}@example.com",
                        f"+65 8124 {(os.getpid() * 7 + n) % 10000:04d}", origin)
        request_deletion(leaver, STRONG, True)
        print(f"round {n}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
