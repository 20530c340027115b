"""Every conversation path, end to end over the REST channel against the running bot."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from bot.negotiation import Finances, Frequency, affordable_installment, load_policy
from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import RunningBot, phone

pytestmark = pytest.mark.e2e

FORBIDDEN = ("legal action", "lawsuit", "sue you", "arrest", "jail", "police", "garnish", "seize")


def joined(replies: list[list[str]] | list[str]) -> str:
    flat = [t for r in replies for t in (r if isinstance(r, list) else [r])]
    return "\n".join(flat).lower()


def verify(bot: RunningBot, sender: str) -> None:
    first = bot.chat(sender, "hi who is this")
    assert "date of birth" in joined(first)
    assert "1,200" not in joined(first) and "northwind" not in joined(first)
    disclosed = bot.chat(sender, "march 14 1985")
    assert "attempt to collect a debt owed to northwind clinic" in joined(disclosed)
    assert "$1,200.00" in joined(disclosed)


def test_affordable_agreement_is_stored_once_after_explicit_yes(bot: RunningBot) -> None:
    sender, ref = phone(0), "E2E-00"
    verify(bot, sender)
    reflected = bot.chat(sender, "i lost my job in may and things have been really hard")
    assert "losing your job" in joined(reflected)
    assert "each month" in joined(reflected)  # the finances form asks gently
    bot.chat(sender, "about 2000")
    offers = bot.chat(sender, "1700")
    assert "i'd suggest" in joined(offers)
    bot.chat(sender, "1")
    assert bot.agreements(ref) == []  # terms stated, nothing stored yet
    done = bot.chat(sender, "yes")
    stored = bot.agreements(ref)
    assert len(stored) == 1 and stored[0]["reference"].lower() in joined(done)
    bot.chat(sender, "yes")  # a repeated yes
    assert len(bot.agreements(ref)) == 1
    agreement = stored[0]
    amounts = [Decimal(p["amount"]) for p in agreement["schedule"]]
    assert sum(amounts) == Decimal("1200.00") == Decimal(agreement["total"])
    policy = load_policy(PROJECT_ROOT / "policies" / "default.yml")
    limit = affordable_installment(
        policy, Finances(Decimal("2000"), Decimal("1700")), Frequency(agreement["frequency"])
    )
    assert max(amounts) <= limit
    account = bot.account(ref)
    assert account["status"] == "in_agreement" and account["agreements"] == [agreement["reference"]]


def test_counter_offer_before_budget_is_evaluated_after_it(bot: RunningBot) -> None:
    sender, ref = phone(1), "E2E-01"
    verify(bot, sender)
    asked = bot.chat(sender, "can i pay 100 a month")
    assert "each month" in joined(asked)
    bot.chat(sender, "2600")
    answer = bot.chat(sender, "1400")
    assert "$100.00" in joined(answer) and (
        "confirm" in joined(answer) or "would that work" in joined(answer)
    )
    bot.chat(sender, "yes")
    [agreement] = bot.agreements(ref)
    assert agreement["schedule"][0]["amount"] == "100.00" and len(agreement["schedule"]) == 12


def test_unknown_number_hears_nothing_about_any_debt(bot: RunningBot) -> None:
    replies = bot.talk("+14155550199", "hi", "how much do i owe")
    text = joined(replies)
    assert "couldn't match this number" in text
    assert "northwind" not in text and "1,200" not in text


def test_wrong_person_is_flagged_and_told_nothing(bot: RunningBot) -> None:
    sender, ref = phone(2), "E2E-02"
    bot.chat(sender, "hello?")
    reply = bot.chat(sender, "this isnt maria, you have the wrong number")
    assert "wrong number" in joined(reply) and "northwind" not in joined(reply)
    assert "wrong_person" in bot.account(ref)["flags"]


def test_dispute_pauses_collection_and_keeps_the_words(bot: RunningBot) -> None:
    sender, ref = phone(3), "E2E-03"
    verify(bot, sender)
    words = "i never had any account with northwind, this is not my debt"
    reply = bot.chat(sender, words)
    assert "recorded your dispute" in joined(reply)
    account = bot.account(ref)
    assert account["status"] == "paused" and "disputed" in account["flags"]
    assert any(e["kind"] == "dispute" and e["debtor_words"] == words for e in account["events"])
    pushed = bot.chat(sender, "i can pay 50 a month")
    assert "paused" in joined(pushed) and "$" not in joined(pushed)


def test_already_paid_is_recorded_with_payment_details(bot: RunningBot) -> None:
    sender, ref = phone(4), "E2E-04"
    verify(bot, sender)
    ask = bot.chat(sender, "i already paid this off in june")
    assert "when and how you paid" in joined(ask)
    bot.chat(sender, "june 3rd, 1200 by bank transfer, confirmation 88812")
    account = bot.account(ref)
    assert "already_paid" in account["flags"] and account["status"] == "paused"
    assert any(
        e["kind"] == "payment_details" and "88812" in e["debtor_words"] for e in account["events"]
    )


def test_stop_confirms_once_then_silence_until_start(bot: RunningBot) -> None:
    sender, ref = phone(5), "E2E-05"
    bot.chat(sender, "hi")
    confirmation = bot.chat(sender, "STOP")
    assert "opted out" in joined(confirmation)
    assert bot.chat(sender, "hello? anyone") == []
    assert bot.chat(sender, "what do you want from me") == []
    account = bot.account(ref)
    assert account["status"] == "opted_out" and "opted_out" in account["flags"]
    back = bot.chat(sender, "START")
    assert "subscribed again" in joined(back)
    assert "opted_out" not in bot.account(ref)["flags"]


def test_free_text_stop_request_opts_out(bot: RunningBot) -> None:
    sender, ref = phone(6), "E2E-06"
    bot.chat(sender, "hi")
    reply = bot.chat(sender, "please stop contacting me, dont text this number again")
    assert "opted out" in joined(reply)
    assert "opted_out" in bot.account(ref)["flags"]


def test_vulnerability_pauses_everything_for_a_person(bot: RunningBot) -> None:
    sender, ref = phone(7), "E2E-07"
    verify(bot, sender)
    reply = bot.chat(sender, "honestly i cant go on anymore, i dont want to be here")
    assert "988" in joined(reply)
    account = bot.account(ref)
    assert {"vulnerable", "handoff"} <= set(account["flags"]) and account["status"] == "paused"
    assert bot.chat(sender, "ok") == []  # the conversation waits for a trained person
    assert bot.tracker(sender)["paused"] is True


def test_request_for_a_person_hands_off(bot: RunningBot) -> None:
    sender, ref = phone(8), "E2E-08"
    bot.chat(sender, "hi")
    reply = bot.chat(sender, "i want to talk to a real person")
    assert "member of our team" in joined(reply)
    assert "handoff" in bot.account(ref)["flags"]


def test_refusal_is_gentle_and_later_is_recorded(bot: RunningBot) -> None:
    sender, ref = phone(9), "E2E-09"
    verify(bot, sender)
    gentle = bot.chat(sender, "i dont want to talk about this")
    assert (
        "no pressure" in joined(gentle)
        or "no rush" in joined(gentle)
        or "won't push" in joined(gentle)
    )
    later = bot.chat(sender, "im at work, text me tomorrow")
    assert "noted" in joined(later)
    account = bot.account(ref)
    assert "callback_requested" in account["flags"]
    assert any(e["kind"] == "request_later" for e in account["events"])


def test_questions_get_factual_answers_without_threats(bot: RunningBot) -> None:
    sender = phone(10)
    verify(bot, sender)
    robot = bot.chat(sender, "am i talking to a robot")
    assert "automated assistant" in joined(robot) and "person" in joined(robot)
    scam = bot.chat(sender, "how do i know this isnt a scam")
    assert "northwind clinic" in joined(scam)
    consequences = bot.chat(sender, "what happens if i dont pay")
    assert "credit" in joined(consequences)
    methods = bot.chat(sender, "how can i pay you")
    assert "bank transfer" in joined(methods)
    details = bot.chat(sender, "how much do i owe exactly")
    assert "$1,200.00" in joined(details)
    everything = joined([robot, scam, consequences, methods, details])
    assert not any(word in everything for word in FORBIDDEN)


def test_agitation_is_met_with_calm_and_a_person(bot: RunningBot) -> None:
    sender = phone(11)
    verify(bot, sender)
    # Angry without asking to stop: "STOP HARASSING ME" reads as a possible stop request
    # (complaint 0.41, stop 0.41), whose yes/no check takes an unclear answer as a stop.
    bot.chat(sender, "YOU PEOPLE ARE A JOKE, THIS IS HARASSMENT")
    second = bot.chat(sender, "THIS IS RIDICULOUS!!! I HATE YOUR COMPANY")
    text = joined(second)
    assert "frustrated" in text and "person" in text
    assert not any(word in text for word in FORBIDDEN)


def test_three_wrong_birth_dates_go_to_a_person(bot: RunningBot) -> None:
    sender, ref = phone(12), "E2E-12"
    bot.chat(sender, "hi")
    bot.chat(sender, "01/01/1990")
    bot.chat(sender, "02/02/1991")
    final = bot.chat(sender, "03/03/1992")
    assert "couldn't confirm your identity" in joined(final)
    assert {"verification_failed", "handoff"} <= set(bot.account(ref)["flags"])


def test_card_number_never_reaches_the_tracker_store(bot: RunningBot) -> None:
    sender = phone(13)
    verify(bot, sender)
    card = "4111 1111 1111 1111"
    reply = bot.chat(sender, f"can i just pay with my card {card} exp 12/29")
    assert "don't send card numbers" in joined(reply)
    database = bot.database_url.split("///", 1)[1]
    with sqlite3.connect(database) as conn:
        rows = conn.execute("select data from events").fetchall()
        everything = " ".join(r[0] for r in rows)
        other = " ".join(
            str(r) for r in conn.execute("select debtor_words from account_events").fetchall()
        )
    assert len(rows) > 10
    for text in (everything, other, "\n".join(bot.output)):
        assert "4111 1111 1111 1111" not in text and "4111111111111111" not in text
    assert "[card number removed]" in everything


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "🙂🙂🙂",
        "x" * 5000,
        "hola 你好 مرحبا привет",
        "line\x00with\x07control\x1bchars",
        "\u202eevil",
    ],
)
def test_odd_messages_get_an_answer_not_an_error(bot: RunningBot, text: str) -> None:
    sender = phone(20)
    replies = bot.chat(sender, text)
    assert isinstance(replies, list)


def test_a_transcript_exports_as_a_test_story(bot: RunningBot) -> None:
    import yaml

    sender = phone(14)
    bot.talk(sender, "hi who is this", "march 14 1985", "what happens if i dont pay")
    story_yaml = bot.parley("export-story", sender, "--name", "reviewed transcript")
    story = yaml.safe_load(story_yaml)["stories"][0]
    assert story["story"] == "reviewed transcript"
    users = [s["user"].strip() for s in story["steps"] if "user" in s]
    assert users == ["hi who is this", "march 14 1985", "what happens if i dont pay"]
    assert [s.get("intent") for s in story["steps"] if "user" in s][0] == "greet"
    actions = [s["action"] for s in story["steps"] if "action" in s]
    assert (
        actions[:2] == ["utter_greet_unverified", "verify_identity_form"]
        and "action_after_verification" in actions
        and actions[-2:] == ["utter_consequences", "action_resume"]
    )
