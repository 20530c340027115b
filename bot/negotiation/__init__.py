"""Parley's negotiation engine: pure functions over frozen dataclasses and Decimal.

Policy, affordability, payment plans, the options to offer (:func:`build_quote`) and the
answers to a debtor's own proposals (:func:`evaluate_counter_offer`,
:func:`evaluate_settlement`, :func:`evaluate_deferral`). No I/O apart from
:func:`load_policy`.
"""

from bot.negotiation.affordability import Finances, affordable_installment, disposable_income
from bot.negotiation.counter_offers import (
    REASONS,
    CounterOffer,
    Decision,
    Outcome,
    evaluate_counter_offer,
    evaluate_deferral,
    evaluate_settlement,
)
from bot.negotiation.errors import NegotiationError
from bot.negotiation.money import MoneyFormatError, format_money, parse_money, to_money
from bot.negotiation.offers import (
    Quote,
    best_installment_plan,
    build_quote,
    check_installment_terms,
    default_first_due,
    latest_deferral,
    latest_first_due,
    smallest_installment_plan,
)
from bot.negotiation.plans import Installment, Option, even_schedule, installment_schedule
from bot.negotiation.policy import (
    DEFAULT_POLICY_PATH,
    Frequency,
    Policy,
    PolicyError,
    QuietHours,
    load_policy,
    policy_from_dict,
)

__all__ = [
    "DEFAULT_POLICY_PATH",
    "REASONS",
    "CounterOffer",
    "Decision",
    "Finances",
    "Frequency",
    "Installment",
    "MoneyFormatError",
    "NegotiationError",
    "Option",
    "Outcome",
    "Policy",
    "PolicyError",
    "QuietHours",
    "Quote",
    "affordable_installment",
    "best_installment_plan",
    "build_quote",
    "check_installment_terms",
    "default_first_due",
    "disposable_income",
    "evaluate_counter_offer",
    "evaluate_deferral",
    "evaluate_settlement",
    "even_schedule",
    "format_money",
    "installment_schedule",
    "latest_deferral",
    "latest_first_due",
    "load_policy",
    "parse_money",
    "policy_from_dict",
    "smallest_installment_plan",
    "to_money",
]
