"""Finances, offers, counter-offers and the explicit yes, with real agreements stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from actions.finances import ActionPresentOffers, ValidateFinancesForm
from actions.negotiation import (
    ActionConfirmProposal,
    ActionEvaluateRequest,
    ActionNoteHardship,
    ActionPickOption,
    ActionWithdrawProposal,
)
from actions.respond import ActionRespond
from bot.negotiation import Finances, Frequency, Option, affordable_installment, load_policy
from bot.settings import get_settings
from tests.actions.conftest import (
    account_state,
    agreements_count,
    make_tracker,
    responses,
    run_action,
    slot_event,
    slots_set,
    user_event,
)

pytestmark = pytest.mark.asyncio

VERIFIED = {"account_ref": "ACC-1", "verified": True}
BUDGET = {**VERIFIED, "monthly_income": "2000.00", "monthly_expenses": "1700.00"}


def finances_tracker(
    slot: str,
    text: str,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
):  # type: ignore[no-untyped-def]
    return make_tracker(
        slots={**VERIFIED, slot: text, "requested_slot": slot, **(slots or {})},
        events=[user_event(text, "inform", entities=entities), slot_event(slot, text)],
        active_loop="finances_form",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("about 1800", "1800.00"),
        ("2k", "2000.00"),
        ("$1,450 after tax", "1450.00"),
        ("nothing right now", "0.00"),
        ("i make like 2.5k a month", "2500.00"),
    ],
)
async def test_income_answers_are_understood(
    text: str, expected: str, accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(
        ValidateFinancesForm(), finances_tracker("monthly_income", text), domain
    )
    assert slots_set(events)["monthly_income"] == expected
    assert messages == []


async def test_unusable_answers_reask_then_offer_a_way_out(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(
        ValidateFinancesForm(), finances_tracker("monthly_income", "why do you need that"), domain
    )
    assert slots_set(events)["monthly_income"] is None and slots_set(events)["form_failures"] == 1.0
    assert responses(messages) == ["utter_amount_unreadable"]
    events, messages = await run_action(
        ValidateFinancesForm(),
        finances_tracker("monthly_income", "idk", {"form_failures": 1.0}),
        domain,
    )
    # The rephrased question (and then the way out) is the form's next prompt: the
    # domain words it by form_failures, so nothing else is said here.
    assert slots_set(events)["form_failures"] == 2.0 and messages == []
    events, _ = await run_action(
        ValidateFinancesForm(),
        finances_tracker("monthly_income", "dunno", {"form_failures": 2.0}),
        domain,
    )
    assert slots_set(events)["form_failures"] == 0.0


@pytest.mark.parametrize(
    "question", ["utter_ask_monthly_income", "utter_ask_monthly_expenses", "utter_ask_dob_answer"]
)
def test_a_repeated_question_is_never_worded_the_same_twice_in_a_row(
    question: str, domain: dict[str, Any]
) -> None:
    variations = domain["responses"][question]
    by_failures = {
        next((c["value"] for c in v.get("condition") or []), 0.0): v["text"] for v in variations
    }
    assert set(by_failures) == {0.0, 1.0, 2.0}
    assert len(set(by_failures.values())) == 3
    assert "later" in by_failures[2.0] and "person" in by_failures[2.0]


async def test_income_and_expenses_in_one_message_are_both_kept(
    accounts: str, domain: dict[str, Any]
) -> None:
    text = "2600, and my expenses are 2100"
    amounts = [{"entity": "amount", "value": "2600.00"}, {"entity": "amount", "value": "2100.00"}]
    events, messages = await run_action(
        ValidateFinancesForm(), finances_tracker("monthly_income", text, entities=amounts), domain
    )
    slots = slots_set(events)
    assert slots["monthly_income"] == "2600.00" and slots["monthly_expenses"] == "2100.00"
    assert messages == []


async def test_implausible_amount_is_confirmed_before_use(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(
        ValidateFinancesForm(), finances_tracker("monthly_income", "180000"), domain
    )
    assert slots_set(events)["monthly_income"] is None
    assert "Just to check: $180,000.00 a month?" in messages[0]["text"]
    events, _ = await run_action(
        ValidateFinancesForm(),
        finances_tracker("monthly_income", "180000", {"unconfirmed_amount": "180000.00"}),
        domain,
    )
    assert slots_set(events)["monthly_income"] == "180000.00"


async def test_offers_fit_the_policy_and_nothing_is_stored_before_yes(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(ActionPresentOffers(), make_tracker(slots=BUDGET), domain)
    offers = [Option.from_dict(o) for o in slots_set(events)["offers"]]
    assert 1 <= len(offers) <= 3
    policy = load_policy(get_settings().policy_file)
    finances = Finances(Decimal("2000"), Decimal("1700"))
    for option in offers:
        assert sum(p.amount for p in option.schedule) in (option.total, Decimal(0))
        if option.kind == "installment":
            assert option.frequency is not None
            limit = affordable_installment(policy, finances, option.frequency)
            assert max(p.amount for p in option.schedule) <= limit
    assert responses(messages)[0] == "utter_offers_intro"
    assert messages[1]["text"].startswith("I'd suggest: ")  # one recommended plan a yes accepts
    shown = [e for e in account_state()["events"] if e["kind"] == "options_shown"]
    assert shown and shown[0]["detail"]["count"] == len(offers)
    assert agreements_count() == 0


async def test_pick_confirm_and_repeat_yes_stores_exactly_one_agreement(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, _ = await run_action(ActionPresentOffers(), make_tracker(slots=BUDGET), domain)
    offers = slots_set(events)["offers"]
    slots = {**BUDGET, "offers": offers}
    events, messages = await run_action(
        ActionPickOption(),
        make_tracker(slots=slots, events=[user_event("the first one", "choose_option")]),
        domain,
    )
    proposal = slots_set(events)["proposal"]
    assert proposal == offers[0]
    assert slots_set(events)["stage"] == "proposal"
    assert messages[0]["text"].startswith("To confirm:")
    assert agreements_count() == 0  # stating terms stores nothing
    slots["proposal"] = proposal
    events, messages = await run_action(
        ActionConfirmProposal(),
        make_tracker(slots=slots, events=[user_event("yes", "affirm")]),
        domain,
    )
    reference = slots_set(events)["agreement_ref"]
    assert slots_set(events)["stage"] == "agreed"
    assert reference in messages[0]["text"]
    # the same "yes" delivered again (retry) with the proposal still in the tracker
    events, _ = await run_action(
        ActionConfirmProposal(),
        make_tracker(slots=slots, events=[user_event("yes", "affirm")]),
        domain,
    )
    assert slots_set(events)["agreement_ref"] == reference
    # and a later "yes" after the proposal was cleared
    _, messages = await run_action(
        ActionConfirmProposal(),
        make_tracker(
            slots={**BUDGET, "agreement_ref": reference}, events=[user_event("yes!!", "affirm")]
        ),
        domain,
    )
    assert reference in messages[0]["text"]
    assert agreements_count() == 1
    state = account_state()
    assert state["status"] == "in_agreement" and state["agreements"] == [reference]


async def test_counter_offer_above_budget_is_countered_not_accepted(
    accounts: str, domain: dict[str, Any]
) -> None:
    entities = [
        {"entity": "amount", "value": "400.00"},
        {"entity": "frequency", "value": "monthly"},
    ]
    events, messages = await run_action(
        ActionEvaluateRequest(),
        make_tracker(
            slots=BUDGET,
            events=[user_event("i can do 400 a month", "offer_payment", entities=entities)],
        ),
        domain,
    )
    proposal = Option.from_dict(slots_set(events)["proposal"])
    assert proposal.frequency is Frequency.MONTHLY
    assert proposal.schedule[0].amount == Decimal("150.00")  # 50% of 300 disposable
    assert "more than your budget" in messages[0]["text"]
    assert agreements_count() == 0


async def test_counter_offer_before_finances_waits_for_the_budget(
    accounts: str, domain: dict[str, Any]
) -> None:
    entities = [
        {"entity": "amount", "value": "100.00"},
        {"entity": "frequency", "value": "monthly"},
    ]
    events, messages = await run_action(
        ActionEvaluateRequest(),
        make_tracker(
            slots=VERIFIED,
            events=[user_event("can i do 100 a month", "offer_payment", entities=entities)],
        ),
        domain,
    )
    slots = slots_set(events)
    assert slots["next_step"] == "finances" and slots["pending_request"]["amount"] == "100.00"
    events, messages = await run_action(
        ActionPresentOffers(),
        make_tracker(slots={**BUDGET, "pending_request": slots["pending_request"]}),
        domain,
    )
    proposal = Option.from_dict(slots_set(events)["proposal"])
    assert proposal.schedule[0].amount == Decimal("100.00") and len(proposal.schedule) == 12
    assert messages[0]["text"].startswith("To confirm:")


async def test_nothing_affordable_offers_a_pause_or_a_person(
    accounts: str, domain: dict[str, Any]
) -> None:
    broke = {**VERIFIED, "monthly_income": "1000.00", "monthly_expenses": "1100.00"}
    events, messages = await run_action(ActionPresentOffers(), make_tracker(slots=broke), domain)
    offers = [Option.from_dict(o) for o in slots_set(events)["offers"] or []]
    assert all(o.kind == "deferral" for o in offers)
    assert "pause" in messages[0]["text"] or "person" in messages[0]["text"]


async def test_deny_clears_the_proposal_and_asks_what_works(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, messages = await run_action(
        ActionWithdrawProposal(),
        make_tracker(
            slots={**BUDGET, "proposal": {"kind": "full"}},
            events=[user_event("no that doesnt work", "deny")],
        ),
        domain,
    )
    assert slots_set(events)["proposal"] is None
    assert messages == []  # the rule says utter_ask_what_works


async def test_hardship_is_reflected_before_money(accounts: str, domain: dict[str, Any]) -> None:
    entities = [{"entity": "hardship", "value": "job_loss"}]
    events, messages = await run_action(
        ActionNoteHardship(),
        make_tracker(
            slots=VERIFIED,
            events=[
                user_event(
                    "i lost my job in may", "explain_hardship", entities=entities, emotion="sad"
                )
            ],
        ),
        domain,
    )
    # The rules say utter_reflect_hardship (worded for the `hardship` slot) and support.
    assert messages == [] and slots_set(events)["hardship"] == "job_loss"
    assert account_state()["events"][-1]["detail"] == {"kind": "job_loss"}


async def test_an_unclear_yes_stores_nothing(accounts: str, domain: dict[str, Any]) -> None:
    events, _ = await run_action(ActionPresentOffers(), make_tracker(slots=BUDGET), domain)
    slots = {
        **BUDGET,
        "offers": slots_set(events)["offers"],
        "proposal": slots_set(events)["offers"][0],
    }
    events, messages = await run_action(
        ActionConfirmProposal(),
        make_tracker(slots=slots, events=[user_event("yes but can i start later?", "affirm")]),
        domain,
    )
    assert messages[0]["response"] == "utter_confirm_plain_yes"
    assert "proposal" not in slots_set(events)  # the terms stay on the table
    assert agreements_count() == 0


@pytest.mark.parametrize("text", ["yes but can i start later?", "maybe", "ok?", "1", "hi"])
async def test_the_storing_step_itself_needs_a_plain_yes(
    text: str, accounts: str, domain: dict[str, Any]
) -> None:
    """Whatever rule or story reaches it, confirm_proposal stores nothing on a maybe."""
    from rasa_sdk.executor import CollectingDispatcher

    from actions.common import tracker_account
    from actions.offers import confirm_proposal

    events, _ = await run_action(ActionPresentOffers(), make_tracker(slots=BUDGET), domain)
    offer = slots_set(events)["offers"][0]
    tracker = make_tracker(slots={**BUDGET, "proposal": offer}, events=[user_event(text, "affirm")])
    account = tracker_account(tracker)
    assert account is not None
    dispatcher = CollectingDispatcher()
    assert confirm_proposal(dispatcher, tracker, account) == []
    assert agreements_count() == 0
    assert dispatcher.messages[0]["response"] == "utter_confirm_plain_yes"
    yes = make_tracker(slots={**BUDGET, "proposal": offer}, events=[user_event("yes", "affirm")])
    confirm_proposal(CollectingDispatcher(), yes, account)
    assert agreements_count() == 1


async def test_temporary_hardship_adds_the_deferral_option(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, _ = await run_action(
        ActionPresentOffers(), make_tracker(slots={**BUDGET, "hardship": "job_loss"}), domain
    )
    kinds = [o["kind"] for o in slots_set(events)["offers"]]
    assert "deferral" in kinds and len(kinds) <= 3


async def test_payment_details_are_kept_verbatim_and_bounded(
    accounts: str, domain: dict[str, Any]
) -> None:
    from actions.payment_details import ValidatePaymentDetailsForm

    long = "paid " + "x" * 3000
    tracker = make_tracker(
        slots={**VERIFIED, "payment_details": long, "requested_slot": "payment_details"},
        events=[user_event(long, "inform"), slot_event("payment_details", long)],
        active_loop="payment_details_form",
    )
    events, _ = await run_action(ValidatePaymentDetailsForm(), tracker, domain)
    assert slots_set(events)["payment_details"] == long[:2000]


async def test_a_bare_number_after_the_options_picks_one(
    accounts: str, domain: dict[str, Any]
) -> None:
    events, _ = await run_action(
        ActionPresentOffers(), make_tracker(slots={**BUDGET, "hardship": "job_loss"}), domain
    )
    offers = slots_set(events)["offers"]
    entities = [{"entity": "amount", "value": "2.00"}]
    events, _ = await run_action(
        ActionEvaluateRequest(),
        make_tracker(
            slots={**BUDGET, "offers": offers},
            events=[user_event("2", "inform", entities=entities)],
        ),
        domain,
    )
    assert slots_set(events)["proposal"] == offers[1]


async def test_an_amount_read_as_inform_is_kept_for_after_the_budget(
    accounts: str, domain: dict[str, Any]
) -> None:
    entities = [{"entity": "amount", "value": "50.00"}]
    events, _ = await run_action(
        ActionEvaluateRequest(),
        make_tracker(
            slots=VERIFIED, events=[user_event("i can pay 50", "inform", entities=entities)]
        ),
        domain,
    )
    slots = slots_set(events)
    assert slots["next_step"] == "finances" and slots["pending_request"]["amount"] == "50.00"


@pytest.mark.parametrize(
    ("text", "entities", "income", "expenses"),
    [
        # an amount told with a hardship is what comes in; the budget goes on to expenses
        ("my hours got cut so im only bringing in like 1700 a month now",
         [("amount", "1700.00"), ("hardship", "reduced_income")], "1700.00", None),
        # both figures, told before they were asked
        ("my income is about 2600 and rent and bills are 2100",
         [("amount", "2600.00"), ("amount", "2100.00")], "2600.00", "2100.00"),
    ],
)  # fmt: skip
async def test_a_budget_told_before_it_was_asked_is_kept(
    text: str,
    entities: list[tuple[str, str]],
    income: str,
    expenses: str | None,
    accounts: str,
    domain: dict[str, Any],
) -> None:
    parsed = [{"entity": name, "value": value} for name, value in entities]
    events, messages = await run_action(
        ActionEvaluateRequest(),
        make_tracker(slots=VERIFIED, events=[user_event(text, "inform", entities=parsed)]),
        domain,
    )
    slots = slots_set(events)
    assert slots["monthly_income"] == income and slots.get("monthly_expenses") == expenses
    assert slots["next_step"] == "finances" and "pending_request" not in slots
    assert messages == []


@pytest.mark.parametrize(
    "text",
    [
        "i lost my job, all i can do is 100 a month",  # an offer, told with a hardship
        "my hours got cut, can i pay 150 a month",  # paying, told with a hardship
    ],
)
async def test_an_offer_told_with_a_hardship_is_still_a_request(
    text: str, accounts: str, domain: dict[str, Any]
) -> None:
    parsed = [{"entity": "amount", "value": "100.00"}, {"entity": "hardship", "value": "job_loss"}]
    events, _ = await run_action(
        ActionEvaluateRequest(),
        make_tracker(slots=VERIFIED, events=[user_event(text, "inform", entities=parsed)]),
        domain,
    )
    slots = slots_set(events)
    assert "monthly_income" not in slots and slots["pending_request"]["amount"] == "100.00"


def unclear(text: str, ranking: list[tuple[str, float]], entities: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    event = user_event(text, "nlu_fallback", entities=entities)
    event["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        *({"name": n, "confidence": c} for n, c in ranking),
    ]
    return event


async def test_an_unclear_message_torn_between_two_requests_is_evaluated(
    accounts: str, domain: dict[str, Any]
) -> None:
    text = "oh thats it? ill just pay the whole 1200 friday"
    entities = [{"entity": "amount", "value": "1200.00"}, {"entity": "date", "value": "2099-01-02"}]
    tracker = make_tracker(
        slots=VERIFIED,
        events=[unclear(text, [("pay_in_full", 0.47), ("offer_payment", 0.35)], entities)],
    )
    events, _ = await run_action(ActionRespond(), tracker, domain)
    assert slots_set(events)["next_step"] == "evaluate"
    # action_evaluate_request then takes it as the better guess: paying in full
    events, messages = await run_action(ActionEvaluateRequest(), tracker, domain)
    proposal = slots_set(events)["proposal"]
    assert proposal["total"] == "1200.00" and proposal["installment_count"] == 1
    assert agreements_count() == 0 and any("To confirm" in m.get("text", "") for m in messages)


@pytest.mark.parametrize(
    ("ranking", "entities"),
    [
        ([("pay_in_full", 0.47), ("greet", 0.35)], [{"entity": "amount", "value": "1200.00"}]),
        ([("pay_in_full", 0.47), ("offer_payment", 0.35)], []),  # nothing concrete named
    ],
)
async def test_other_unclear_messages_are_not_taken_as_requests(
    ranking: list[tuple[str, float]],
    entities: list[dict[str, Any]],
    accounts: str,
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(
        slots=VERIFIED, events=[unclear("hmm the whole thing maybe", ranking, entities)]
    )
    events, _ = await run_action(ActionRespond(), tracker, domain)
    assert slots_set(events)["next_step"] != "evaluate"
