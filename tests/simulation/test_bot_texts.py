"""Reading the bot's words back into terms, and the texting debtor's answers."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest

from bot.dialogue.texts import confirmation_request, options_list
from bot.negotiation import (
    CounterOffer,
    Finances,
    Frequency,
    build_quote,
    evaluate_counter_offer,
    evaluate_deferral,
    evaluate_settlement,
    load_policy,
)
from bot.simulation import Status, load_assumptions
from bot.simulation.bot_texts import agreement_reference, numbered_options, proposal
from bot.simulation.population import Debtor, generate_population
from bot.simulation.texting import TextingDebtor, talk

POLICY = load_policy()
TODAY = datetime.date(2026, 11, 28)
CASES = list(
    itertools.product(
        ["35.75", "450.00", "1200.00", "9999.99"],
        ["1000", "2000", "3500"],
        ["900", "1700", "3400"],
        [False, True],
    )
)


@pytest.mark.parametrize(("balance", "income", "expenses", "hardship"), CASES)
def test_offers_and_confirmations_read_back_exactly(
    balance: str, income: str, expenses: str, hardship: bool
) -> None:
    owed = Decimal(balance)
    finances = Finances(Decimal(income), Decimal(expenses))
    quote = build_quote(owed, finances, POLICY, TODAY, temporary_hardship=hardship)
    read = numbered_options(options_list(list(quote.options)), owed)
    assert [o.option for o in read] == list(quote.options)
    for option in quote.options:
        assert proposal(confirmation_request(option), owed) == option


@pytest.mark.parametrize(("balance", "income", "expenses", "hardship"), CASES[::3])
def test_counter_offers_read_back_exactly(
    balance: str, income: str, expenses: str, hardship: bool
) -> None:
    owed = Decimal(balance)
    finances = Finances(Decimal(income), Decimal(expenses))
    decisions = [
        evaluate_counter_offer(
            owed, finances, POLICY, TODAY, CounterOffer(Decimal(a), Frequency.MONTHLY)
        )
        for a in ("10", "60", "150.50", "5000")
    ]
    decisions += [
        evaluate_deferral(owed, finances, POLICY, TODAY, None),
        evaluate_deferral(owed, finances, POLICY, TODAY, TODAY + datetime.timedelta(days=200)),
        evaluate_settlement(owed, POLICY, TODAY, Decimal("20.00")),
    ]
    for decision in decisions:
        if decision.outcome.value != "countered" and "pause" not in decision.message:
            continue
        assert proposal(decision.message + " Would that work for you?", owed) == decision.option


def test_the_reference_is_found_in_the_written_confirmation() -> None:
    text = "Done. Your agreement reference is PLY-TSY3E5MW (made November 28, 2026): ..."
    assert agreement_reference(text) == "PLY-TSY3E5MW"
    assert agreement_reference("Reply YES to agree") is None


README_BOT = [
    [
        "Hi, this is Parley, an automated assistant, with a personal message for Maria.",
        "Could you send me your date of birth? For example 03/14/1985 or March 14 1985.",
    ],
    [
        "Thank you, Maria. This is an attempt to collect a debt owed to Northwind Clinic, "
        "and any information obtained will be used for that purpose. The balance is $1,200.00.",
        "Before we talk about payments, how are things going for you at the moment?",
    ],
    ["To suggest something that fits your budget, roughly how much comes in each month?"],
    ["And roughly how much goes on essentials each month: rent, bills, food, transport?"],
    [
        "Here's what would work with your budget:",
        "1) 8 payments of $150.00 a month, from December 5, 2026 to July 5, 2027\n"
        "2) A pause until January 27, 2027, then 8 payments of $150.00 a month to August 27, 2027",
        "Reply with the number of the option you'd like, or tell me what would work better.",
    ],
    [
        "To confirm: 8 payments of $150.00 a month, from December 5, 2026 to July 5, 2027. "
        "Total: $1,200.00.",
        "Reply YES to agree, or tell me what you'd like to change.",
    ],
    ["Done. Your agreement reference is PLY-TSY3E5MW (made November 28, 2026): ..."],
]


def scripted(replies: list[list[str]]) -> tuple[Callable[[str, str], list[str]], list[str]]:
    sent: list[str] = []

    def send(sender: str, text: str) -> list[str]:
        sent.append(text)
        return replies[len(sent) - 1] if len(sent) <= len(replies) else []

    return send, sent


def engaged_debtor() -> Debtor:
    for debtor in generate_population(load_assumptions(), 200, 1):
        if debtor.willingness == "engaged" and debtor.lump_sum == 0:
            return replace(
                debtor,
                balance=Decimal("1200.00"),
                hardship="none",
                recovery_days=None,
                income=Decimal("2000.00"),
                expenses=Decimal("1650.00"),
                stated_income=Decimal("2000.00"),
                stated_expenses=Decimal("1700.00"),
                acceptance_share=Decimal("0.90"),
            )
    raise AssertionError("no engaged debtor without cash in the sample")


def test_the_texting_debtor_answers_the_readme_conversation() -> None:
    debtor = engaged_debtor()
    send, sent = scripted(README_BOT)
    conversation = talk(debtor, send, "+12025550100", POLICY, TODAY)
    assert conversation.status is Status.AGREED and conversation.reference == "PLY-TSY3E5MW"
    assert debtor.birth_date.strftime("%Y") in sent[1]
    assert "2,000" in sent[3] or "2000" in sent[3]
    assert "1,700" in sent[4] or "1700" in sent[4]
    assert re.search(r"\b1\b", sent[5])
    assert conversation.yes_sent and conversation.violations == []
    assert conversation.confirmed is not None and conversation.confirmed.total == Decimal("1200")


def test_a_debt_named_before_identity_is_checked_is_a_violation() -> None:
    debtor = engaged_debtor()
    leaky = [["Hi Maria, you owe Northwind Clinic $1,200.00. Send your date of birth."]]
    send, _ = scripted(leaky)
    conversation = TextingDebtor(debtor, POLICY, TODAY).talk(send, "+12025550100")
    assert "debt disclosed before identity was checked" in conversation.violations


def test_the_same_bot_line_three_times_is_a_stuck_loop() -> None:
    debtor = engaged_debtor()
    loop = [["Sorry, I can only help with your account here."]] * 5
    send, sent = scripted(loop)
    conversation = talk(debtor, send, "+12025550100", POLICY, TODAY)
    assert conversation.status is Status.STUCK and conversation.stuck_loop
    assert len(sent) == 3
