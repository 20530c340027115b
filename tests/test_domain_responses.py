"""What the bot can say: emotion-aware at the key turns, and never a threat."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from bot.settings import PROJECT_ROOT

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
RESPONSES: dict[str, list[dict[str, Any]]] = DOMAIN["responses"]
EMOTIONS = set(DOMAIN["slots"]["emotion"]["values"])
THREATS = re.compile(
    r"legal action|lawsuit|\bsue\b|court|arrest|jail|prison|police|garnish|seize|bailiff|"
    r"wage|repossess|criminal|last chance|or else",
    re.IGNORECASE,
)


def conditions(name: str) -> set[str]:
    found = set()
    for variation in RESPONSES[name]:
        for condition in variation.get("condition") or []:
            if condition.get("name") == "emotion":
                found.add(condition["value"])
    return found


@pytest.mark.parametrize(
    "name",
    ["utter_open_question", "utter_hardship_support", "utter_offers_intro", "utter_refuse_to_talk"],
)
def test_key_turns_answer_the_emotion_first(name: str) -> None:
    assert {"angry", "anxious", "sad"} <= conditions(name)
    assert any(not v.get("condition") for v in RESPONSES[name]), "a default variation is needed"


def test_sad_and_anxious_hardship_replies_mention_a_pause() -> None:
    for variation in RESPONSES["utter_hardship_support"]:
        emotion = next((c["value"] for c in variation.get("condition") or []), None)
        if emotion in ("sad", "anxious"):
            assert "pause" in variation["text"]


def test_conditions_use_real_emotions() -> None:
    for name in RESPONSES:
        assert conditions(name) <= EMOTIONS, name


def test_no_response_threatens() -> None:
    for name, variations in RESPONSES.items():
        for variation in variations:
            assert not THREATS.search(variation.get("text", "")), (name, variation["text"])


def test_no_response_names_the_debt_before_verification() -> None:
    # Responses used before identity is checked must not carry {creditor} or {balance}.
    before = ["utter_unknown_number", "utter_greet_unverified", "utter_ask_dob_answer", "utter_verify_first",
              "utter_wrong_person", "utter_opted_out", "utter_help", "utter_bot_challenge"]  # fmt: skip
    for name in before:
        for variation in RESPONSES[name]:
            assert "{balance}" not in variation["text"] and "{creditor}" not in variation["text"], (
                name
            )


def test_the_collection_disclosure_is_in_the_first_message_after_verification() -> None:
    text = RESPONSES["utter_disclosure"][0]["text"]
    assert "attempt to collect a debt" in text and "{creditor}" in text and "{balance}" in text
