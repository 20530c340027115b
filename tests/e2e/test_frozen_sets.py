"""The trained model on the frozen evaluation sets: a regression cannot land silently.

The sets (tests/nlu/frozen/) were written apart from the training data and are never
tuned on. The texting set is the second edition, frozen on 2026-12-03 (the first, scored
after every modelling choice of two days, is now tests/nlu/texting_dev.yml). The floors
sit a little under what the model measured on it (2026-12-03, see config.yml's comments),
two or three messages' worth on each safety intent; issue 14's targets (intent macro-F1
0.93, emotion 0.88, recall 0.95 on each safety intent, fallback at most 8%, no unrelated
chatter read as agreement) are all reached there but one: recall on crises was 0.94 (46 of
49) on 2026-12-03's first model and 0.92 (45 of 49) on its second, under the 0.95 asked.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.frozen_sets import REGISTER, SAFETY_INTENTS, TEXTING, evaluate, load, markdown
from tests.e2e.conftest import RunningBot

pytestmark = pytest.mark.e2e

# Measured 2026-12-01. Before the sentence encoder (n-grams only): intent 0.918, emotion
# 0.832, fallback 7.6%, register emotion 0.522; recall stop 0.780, wrong person 0.520,
# dispute 0.863, vulnerability 0.867; 2 chatter messages read as agreement. With the
# encoder and safety weights (config.yml): intent 0.964, emotion 0.841, fallback 2.7%,
# register emotion 0.671; recall stop 0.940, wrong person 0.780, dispute 0.941,
# vulnerability 0.889; no chatter read as agreement. With the emotion data of 2026-12-01
# (151 texting-style examples) and texting_spelling: intent 0.973, emotion 0.875, fallback
# 2.4%, register emotion 0.695 (+0.173 on the n-grams-only model); recall stop 0.940, wrong
# person 0.920, dispute 0.922, vulnerability 0.889; other intents read as one of the four
# 0 of 478; no chatter read as agreement. With the safety paraphrases, carers' hardship,
# the second look at hardship (bot/nlu/crisis_cues.py) and 50 everyday emotion examples
# (2026-12-01, reports/nlu/ablation.md): intent 0.977, emotion 0.882, fallback 2.2%,
# register emotion 0.697; recall stop 0.980, wrong person 0.940, dispute 0.922,
# vulnerability 0.933; other intents read as one of the four 0 of 478; no chatter read as
# agreement. With the second safety data of 2026-12-02 (240 examples), a dispute weighed 2
# instead of 3 and the `distress` words out of the second look's cues: intent 0.975, emotion
# 0.882, fallback 1.9%, register emotion 0.704; recall stop 0.980, wrong person 0.960,
# dispute 0.902, vulnerability 0.911; other intents read as one of the four 2 of 478; no
# chatter read as agreement. Each floor sits two or three messages under (50, 50, 51 and
# 45 messages). Those were on the first edition of the texting set.
# On the second edition (2026-12-03; 674 messages, 50 stop requests, 49 wrong person, 50
# disputes, 49 crises): the model of the day the issue was filed (commit 1e1ff23, n-grams
# only): intent 0.912, emotion 0.857, fallback 11.1%, register emotion 0.522; recall stop
# 0.880, wrong person 0.571, dispute 0.680, vulnerability 0.673; 1 chatter message read
# as agreement. The model of 2026-12-02 (91dacf1): intent 0.952, emotion 0.887, fallback
# 4.2%, register 0.704; recall stop 1.000, wrong person 0.959, dispute 0.920,
# vulnerability 0.898; no chatter read as agreement. With that day's indirect crises,
# disputes of amounts, their everyday neighbours and cue phrases: intent 0.955, emotion
# 0.890, fallback 3.9%, register 0.706 (+0.184); recall stop 1.000, wrong person 0.959,
# dispute 0.960, vulnerability 0.939; no chatter read as agreement. With the 260 examples
# of that day's second round (crises told indirectly and their neighbours, chosen on
# tests/nlu/crisis_dev.yml, where crises went 85 -> 91 of 100): intent 0.949, emotion
# 0.886, fallback 4.3%, register 0.679 (+0.157); recall stop 0.980, wrong person 0.959,
# dispute 0.960, vulnerability 0.918; no chatter read as agreement.
FLOORS = {
    "intent_macro_f1": 0.94,
    "emotion_macro_f1": 0.86,
    "register_emotion_macro_f1": 0.67,
    "fallback_rate_max": 0.05,
    "chatter_as_agreement_max": 0,
    "safety_recall": {
        "request_stop_contact": 0.92,
        "wrong_person": 0.9,
        "dispute_debt": 0.9,
        "express_vulnerability": 0.88,
    },
}


def test_the_frozen_sets_are_big_enough() -> None:
    texting, register = load(TEXTING), load(REGISTER)
    for intent in SAFETY_INTENTS:
        assert sum(e.intent == intent for e in texting) >= 40, intent
    assert min(sum(e.intent == i for e in texting) for i in {e.intent for e in texting}) >= 15
    assert len(register) >= 250
    assert len({e.text.lower() for e in texting + register}) == len(texting) + len(register)


@pytest.fixture(scope="module")
def result(bot: RunningBot) -> dict[str, Any]:
    scored = evaluate(lambda texts: [bot.parse(t) for t in texts])
    print("\n" + markdown(scored))
    return scored


def test_intents_and_emotions_stay_above_their_floors(result: dict[str, Any]) -> None:
    texting = result["texting"]
    assert texting["intent_macro_f1"] >= FLOORS["intent_macro_f1"]
    assert texting["emotion_macro_f1"] >= FLOORS["emotion_macro_f1"]
    assert texting["fallback_rate"] <= FLOORS["fallback_rate_max"]
    assert result["register"]["emotion_macro_f1"] >= FLOORS["register_emotion_macro_f1"]


def test_safety_intents_are_not_lost(result: dict[str, Any]) -> None:
    recall = result["texting"]["safety_recall"]
    for intent, floor in FLOORS["safety_recall"].items():
        assert recall[intent] >= floor, (intent, recall[intent])


def test_chatter_is_not_read_as_agreement(result: dict[str, Any]) -> None:
    found = result["texting"]["chatter_as_agreement"]
    assert len(found) <= FLOORS["chatter_as_agreement_max"], found
