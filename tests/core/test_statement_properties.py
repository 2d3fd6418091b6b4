"""F17 on random lifecycles (Hypothesis, the movable clock): the whole-account state machine of
tests/core/test_lifecycle_state_machine.py (sign-up, cards that decline, purchases, releases,
auto-renewal, clock moves, billing runs, payments, deletion), with two more rules — paying
with a chosen method, and an order charged but never recorded, which reconciliation refunds —
and, after every step, for every account:

- each month's statement balances: opening + bills issued − payments = closing, to the cent;
  each month opens where the one before closed, and the last one closes at the sum of the
  account's outstanding bills (what the Billing section shows);
- the statements hold every bill and every ledger entry exactly once, and their totals are
  the ledger's: everything billed, every bill paid, every refund;
- invoices and credit notes: one per successful charge and per refund, numbered 1…n per
  account without a gap or a repeat; each credit note corrects the invoice of the charge it
  returns.

CLOUDACCT_FUZZ_SCALE=N runs N times as many examples.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import timedelta

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from core.errors import DomainError
from tests.core.test_lifecycle_state_machine import CARDS, SCALE, Lifecycle, email_st

GOOD_CARD = CARDS[0]


class StatementLifecycle(Lifecycle):
    @initialize(email=email_st, auto_renew=st.booleans())
    def start_with_resources(self, email, auto_renew):
        """A customer with a good card, a Pay-As-You-Go resource and a subscription, so that
        most examples reach bills, renewals and payments (the other initial customer may have
        a card that declines)."""
        from core.products import place_order

        self.onboard(email, GOOD_CARD)
        token = self.token(email)
        if token is not None:
            with contextlib.suppress(DomainError):
                place_order(token, "ecs", "us-west-1", "payg")
                place_order(token, "oss", "us-west-1", "subscription", 1, auto_renew)

    @rule(hours=st.sampled_from([49, 24 * 15, 24 * 32]))
    def advance_and_bill(self, hours):
        """Time passes and the billing run bills what fell due."""
        from core import clock
        from core.billing_run import run_billing

        clock.advance(timedelta(hours=hours))
        if run_billing().bills_issued:
            event("bills issued")

    @rule(email=email_st, pick=st.integers(0, 3))
    def pay_with_a_chosen_method(self, email, pick):
        from core.billing_run import pay_outstanding
        from core.payments import list_payment_methods

        token = self.token(email)
        if token is None:
            return
        methods = list_payment_methods(token)
        if not methods:
            return
        try:
            if pay_outstanding(token, methods[pick % len(methods)].id).paid:
                event("paid with a chosen method")
        except DomainError:
            event("chosen method refused")

    @rule(email=email_st, amount=st.integers(1, 5000))
    def order_not_recorded(self, email, amount):
        """A purchase charged whose order could not be recorded: refunded in full."""
        from core.payments import charge_default_method
        from core.reconciliation import reconcile

        account = self.account(email)
        if account is None or account.status != "active":
            return
        try:
            charge_default_method(account.id, amount, "An order that could not be recorded",
                                  idempotency_key=f"order-{secrets.token_hex(12)}")
        except DomainError:
            return
        assert reconcile(older_than=timedelta(0)).count("refund") == 1
        event("order refunded")

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def the_books_balance(self):
        """As the parent's, with refunds: a charge naming a bill paid it; one naming none (an
        order not recorded) was refunded."""
        from peewee import fn

        from core.models import Bill, LedgerEntry

        def total(*where) -> int:
            return (LedgerEntry.select(fn.COALESCE(fn.SUM(LedgerEntry.amount_cents), 0))
                    .where(LedgerEntry.status == "done", *where).scalar())

        paid = (Bill.select(fn.COALESCE(fn.SUM(Bill.amount_cents), 0))
                .where(Bill.status == "paid").scalar())
        assert total(LedgerEntry.kind == "charge", LedgerEntry.bill.is_null(False)) == paid
        assert total(LedgerEntry.kind == "charge", LedgerEntry.bill.is_null()) == \
            total(LedgerEntry.kind == "refund")
        rows = self._gateway("SELECT COALESCE(SUM(amount_cents), 0) FROM charges "
                             "WHERE state = 'succeeded'")
        assert (rows[0][0] if rows else 0) == total(LedgerEntry.kind == "charge")
        assert not LedgerEntry.select().where(LedgerEntry.status == "started").exists()

    @invariant()
    def statements_add_up_to_the_ledger(self):
        from core.models import Account, Bill, LedgerEntry
        from core.statements import build_statements, month_start, read_activity

        for (account_id,) in Account.select(Account.id).tuples():
            months = build_statements(read_activity(account_id))
            owed = 0
            for statement in months:
                assert statement.balances, statement.month
                assert statement.opening_owed_cents == owed
                assert all(statement.period_start <= line.at < statement.period_end
                           for line in statement.lines)
                assert statement.period_start == month_start(statement.month)
                owed = statement.closing_owed_cents
            bills = list(Bill.select().where(Bill.account == account_id))
            entries = LedgerEntry.select().where(LedgerEntry.account == account_id)
            assert owed == sum(b.amount_cents for b in bills if b.status == "outstanding")
            assert sum(len(s.lines) for s in months) == len(bills) + entries.count()
            assert sum(s.totals.billed_cents for s in months) == sum(b.amount_cents
                                                                     for b in bills)
            assert sum(s.totals.paid_cents for s in months) == sum(
                b.amount_cents for b in bills if b.status == "paid")
            assert sum(s.totals.refunded_cents for s in months) == sum(
                e.amount_cents for e in entries if e.kind == "refund" and e.status == "done")

    @invariant()
    def documents_are_numbered_without_gaps(self):
        from core.models import Account, Invoice, LedgerEntry

        for (account_id,) in Account.select(Account.id).tuples():
            documents = list(Invoice.select().where(Invoice.account == account_id))
            assert sorted(d.number for d in documents) == list(range(1, len(documents) + 1))
            moved = {e.id: e for e in LedgerEntry.select().where(
                LedgerEntry.account == account_id, LedgerEntry.status == "done",
                LedgerEntry.kind.in_(("charge", "refund")))}
            assert {d.ledger_entry_id for d in documents} == set(moved)
            by_id = {d.id: d for d in documents}
            for document in documents:
                entry = moved[document.ledger_entry_id]
                assert document.amount_cents == entry.amount_cents
                assert document.kind == ("invoice" if entry.kind == "charge" else "credit_note")
                if document.kind == "credit_note":
                    corrected = by_id[document.corrects_id]
                    assert moved[corrected.ledger_entry_id].gateway_ref == entry.gateway_ref


StatementLifecycle.TestCase.settings = settings(
    max_examples=12 * SCALE, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_statements_and_invoices_on_random_lifecycles(cloudacct_home):
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(StatementLifecycle,
                              settings=StatementLifecycle.TestCase.settings)
