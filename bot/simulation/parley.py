"""Parley's side of a simulated conversation: the engine calls the bot's actions make.

The order follows the dialogue: a debtor with the cash offers to pay in full or to settle
(no budget needed); otherwise they give their budget (mentioning any hardship, which adds
a pause to the options) and get the options of :func:`bot.negotiation.build_quote`; if
none suits them, an engaged debtor proposes a monthly amount, which
:func:`bot.negotiation.evaluate_counter_offer` accepts, counters or refuses.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_DOWN, Decimal

from bot.negotiation import (
    CounterOffer,
    Frequency,
    Option,
    Policy,
    build_quote,
    default_first_due,
    evaluate_counter_offer,
    evaluate_deferral,
    evaluate_settlement,
)
from bot.negotiation.offers import full_payment
from bot.simulation.debtor import can_keep, counter_amount, preferred_option
from bot.simulation.population import Debtor
from bot.simulation.results import Negotiated, Status, refuse_or_person

CURRENCY = "USD"
# Debtors offering a settlement name a round sum.
SETTLEMENT_STEP = Decimal("10")


def negotiate_with_parley(debtor: Debtor, policy: Policy, today: datetime.date) -> Negotiated:
    """What Parley's engine agrees with ``debtor`` under ``policy``."""
    if debtor.willingness == "silent":
        return Negotiated(debtor.index, Status.SILENT)
    balance = debtor.balance
    if debtor.lump_sum >= balance:
        option = full_payment(balance, default_first_due(policy, today), CURRENCY)
        return Negotiated(
            debtor.index, Status.AGREED, option, debtor_lump_sum=True, note="pays in full"
        )
    settled = _settle_with_savings(debtor, policy, today)
    if settled is not None:
        return settled

    finances = debtor.stated_finances
    quote = build_quote(
        balance,
        finances,
        policy,
        today,
        currency=CURRENCY,
        temporary_hardship=debtor.hardship != "none",
    )
    if not quote.options:
        return Negotiated(debtor.index, Status.ESCALATED, note="nothing fits: handed to a person")
    if debtor.hardship == "temporary":
        pause = next((o for o in quote.options if o.kind == "deferral"), None)
        if pause is not None and can_keep(debtor, pause, today):
            return _agreement(debtor, pause, "asked for the pause")
    plans = [o for o in quote.options if o.schedule]
    chosen = preferred_option(debtor, plans, today)
    if chosen is not None:
        return _agreement(debtor, chosen, "chose an option")

    if debtor.willingness == "engaged":
        countered = _counter(debtor, policy, today)
        if countered is not None:
            return countered
    review = next((o for o in quote.options if o.requires_review), None)
    if review is not None:
        return _agreement(debtor, review, "nothing fits: a person reviews after the pause")
    return refuse_or_person(debtor, "nothing offered fits")


def _settle_with_savings(debtor: Debtor, policy: Policy, today: datetime.date) -> Negotiated | None:
    if debtor.lump_sum < SETTLEMENT_STEP:
        return None
    offer = (debtor.lump_sum / SETTLEMENT_STEP).quantize(
        Decimal(1), rounding=ROUND_DOWN
    ) * SETTLEMENT_STEP
    decision = evaluate_settlement(debtor.balance, policy, today, offer.quantize(Decimal("0.01")))
    if decision.option is not None and decision.option.total <= debtor.lump_sum:
        return Negotiated(
            debtor.index, Status.AGREED, decision.option, debtor_lump_sum=True, note="settled"
        )
    return None


def _counter(debtor: Debtor, policy: Policy, today: datetime.date) -> Negotiated | None:
    """The debtor's own proposal: a monthly amount, or a pause when they have nothing."""
    finances = debtor.stated_finances
    amount = counter_amount(debtor)
    if amount is None:
        if debtor.hardship != "temporary":
            return None
        decision = evaluate_deferral(debtor.balance, finances, policy, today, None)
        if decision.option is not None and can_keep(debtor, decision.option, today):
            return _agreement(debtor, decision.option, "asked for a pause")
        return None
    offer = CounterOffer(amount=amount, frequency=Frequency.MONTHLY)
    decision = evaluate_counter_offer(
        debtor.balance, finances, policy, today, offer, currency=CURRENCY
    )
    if decision.option is None:
        return None
    if can_keep(debtor, decision.option, today):
        # An amount that covers the balance is the debtor offering to pay in full.
        lump = decision.reason == "pays_in_full"
        return Negotiated(
            debtor.index,
            Status.AGREED,
            decision.option,
            debtor_lump_sum=lump,
            note=f"counter-offer {decision.reason}",
        )
    if debtor.accepts_under_pressure:
        return _agreement(debtor, decision.option, "took a plan they cannot keep")
    return None


def _agreement(debtor: Debtor, option: Option, note: str) -> Negotiated:
    status = Status.DEFERRED_FOR_REVIEW if option.requires_review else Status.AGREED
    return Negotiated(debtor.index, status, option, note=note)
