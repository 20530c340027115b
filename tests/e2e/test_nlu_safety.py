"""The trained model never reads unrelated chatter as agreement (issue: NLU).

Every out_of_scope message of the held-out set (written apart from the training data)
goes through the real model over /model/parse; none may come back as affirm, pay_in_full
or offer_payment, the intents that can move a debtor towards a stored agreement.
"""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from bot.settings import PROJECT_ROOT
from tests.e2e.conftest import RunningBot

AGREEMENT_INTENTS = {"affirm", "pay_in_full", "offer_payment"}


def held_out_chatter() -> list[str]:
    data = load_data(str(PROJECT_ROOT / "tests" / "nlu" / "holdout.yml"))
    return [m.get("text") for m in data.intent_examples if m.get("intent") == "out_of_scope"]


def test_the_held_out_set_has_chatter_to_check() -> None:
    assert len(held_out_chatter()) >= 30


@pytest.mark.parametrize("text", held_out_chatter())
def test_held_out_chatter_is_never_read_as_agreement(bot: RunningBot, text: str) -> None:
    result = bot.parse(text)
    assert result["intent"]["name"] not in AGREEMENT_INTENTS, result["intent"]
    assert result["emotion"]["name"] in {"angry", "anxious", "sad", "positive", "neutral"}
