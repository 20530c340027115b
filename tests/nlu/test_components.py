"""Parley's Rasa components, trained and loaded through LocalModelStorage like Rasa does."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bench.intent_loop import crisis_looks
from bot.nlu.card_redactor import CARD_NUMBER_REDACTED, CardNumberRedactor
from bot.nlu.concepts import ConceptAnalyzer
from bot.nlu.crisis_cues import CrisisCues
from bot.nlu.emotion import EmotionClassifier, EmotionTrainingError, texting_form
from bot.nlu.entity_normalizer import EntityNormalizer, conversation_today
from bot.nlu.keyword_intents import KeywordIntentOverride
from bot.nlu.linear_intents import LinearIntentBlender, number_shape
from bot.settings import PROJECT_ROOT

LABELLED = {
    "angry": [
        "THIS IS A JOKE",
        "stop harassing me you idiots!!!",
        "YOU PEOPLE ARE THIEVES 😡",
        "i am SO done with you",
        "f off already",
    ],
    "anxious": [
        "im so scared what will happen",
        "please im panicking",
        "i'm really worried about this 😰",
        "stressed out, what do i do",
        "will i lose my house? im terrified",
    ],
    "sad": [
        "i feel so ashamed",
        "its hopeless 😢",
        "i just feel defeated",
        "everything is falling apart",
        "i cant stop crying about money",
    ],
    "positive": [
        "thank you so much!! 🙂",
        "that's a relief, great",
        "awesome thanks for helping",
        "really appreciate it 👍",
        "this is great news",
    ],
    "neutral": [
        "ok",
        "what is the balance",
        "i can pay on friday",
        "my dob is 3/4/85",
        "monthly works",
    ],
}


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


def training_data() -> TrainingData:
    return TrainingData(
        [
            Message.build(text, "inform", intent_metadata={"emotion": emotion})
            for emotion, texts in LABELLED.items()
            for text in texts
        ]
    )


def test_emotion_classifier_trains_persists_and_loads(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("emotion_classifier")
    component = EmotionClassifier.create(
        {**EmotionClassifier.get_default_config()}, storage, resource, context()
    )
    component.train(training_data())
    loaded = EmotionClassifier.load(
        {**EmotionClassifier.get_default_config()}, storage, resource, context()
    )
    messages = [
        Message({"text": t})
        for t in (
            "YOU ARE ALL THIEVES!!!",
            "thank you so much, great 🙂",
            "im so scared, please",
            "",
        )
    ]
    loaded.process(messages)
    names = [m.get("emotion")["name"] for m in messages]
    assert names[:3] == ["angry", "positive", "anxious"]
    assert messages[3].get("emotion") == {"name": "neutral", "confidence": 1.0}
    for message in messages:
        emotion = message.get("emotion")
        assert 0.0 <= emotion["confidence"] <= 1.0
        entity = [e for e in message.get("entities") if e["entity"] == "emotion"]
        assert entity and entity[0]["value"] == emotion["name"]
        assert "emotion" in message.as_dict(only_output_properties=True)


def test_emotion_labels_can_be_per_example(tmp_path: Path) -> None:
    data = TrainingData(
        [
            Message.build(t, "inform", example_metadata={"emotion": e})
            for e, texts in LABELLED.items()
            for t in texts
        ]
    )
    component = EmotionClassifier.create({}, LocalModelStorage(tmp_path), Resource("e"), context())
    component.train(data)
    assert component.predict("PATHETIC COMPANY!!! 😡")[0] == "angry"


def test_texting_spelling_reads_written_out_words_as_debtors_text_them() -> None:
    assert texting_form("I'm sorry, Thank you. You're kind, PLEASE don’t") == (
        "im sorry, ty u. ur kind, pls dont"
    )
    # Whole words only: "young" and "area" keep their letters.
    assert texting_form("young area") == "young area"


def test_texting_spelling_makes_written_out_and_texted_forms_one(tmp_path: Path) -> None:
    config = {**EmotionClassifier.get_default_config(), "texting_spelling": True}
    component = EmotionClassifier.create(
        config, LocalModelStorage(tmp_path), Resource("e"), context()
    )
    component.train(training_data())
    features = component._pipeline.named_steps["features"]
    words = dict(features.transformer_list)["words"]
    assert (
        words.transform(["thank you, you're great"]) != words.transform(["ty u ur great"])
    ).nnz == 0
    loaded = EmotionClassifier.load(config, LocalModelStorage(tmp_path), Resource("e"), context())
    assert loaded.predict("im so scared, pls")[0] == "anxious"


def test_emotion_training_errors_are_clear(tmp_path: Path) -> None:
    component = EmotionClassifier.create({}, LocalModelStorage(tmp_path), Resource("e"), context())
    with pytest.raises(EmotionTrainingError, match="unknown emotion label"):
        component.train(
            TrainingData([Message.build("hi", "greet", intent_metadata={"emotion": "furious"})])
        )
    with pytest.raises(EmotionTrainingError, match="at least two emotions"):
        component.train(
            TrainingData([Message.build("hi", "greet", intent_metadata={"emotion": "neutral"})])
        )


def test_untrained_emotion_model_reads_neutral(tmp_path: Path) -> None:
    loaded = EmotionClassifier.load({}, LocalModelStorage(tmp_path), Resource("missing"), context())
    message = Message({"text": "I HATE THIS"})
    loaded.process([message])
    assert message.get("emotion")["name"] == "neutral"


@pytest.mark.parametrize("text", ["x" * 5000, "🙂" * 50, "a\x00b\x07c", "hola 你好 مرحبا", "   "])
def test_emotion_handles_odd_input(tmp_path: Path, text: str) -> None:
    component = EmotionClassifier.create({}, LocalModelStorage(tmp_path), Resource("e"), context())
    component.train(training_data())
    message = Message({"text": text})
    component.process([message])
    assert message.get("emotion")["name"] in LABELLED


def test_card_redactor_masks_text_and_marks_the_message() -> None:
    redactor = CardNumberRedactor.create({}, None, None, context())  # type: ignore[arg-type]
    card = Message({"text": "my card is 4111-1111-1111-1111 ok"})
    phone = Message({"text": "call me on +1 202 555 0143, dob 03/14/1985, i can pay 1200"})
    flagged = Message({"text": "[card number removed]", "metadata": {CARD_NUMBER_REDACTED: True}})
    redactor.process([card, phone, flagged])
    assert card.get("text") == "my card is [card number removed] ok" and card.get(
        CARD_NUMBER_REDACTED
    )
    assert phone.get("text").startswith("call me on +1 202 555 0143") and not phone.get(
        CARD_NUMBER_REDACTED
    )
    assert flagged.get(CARD_NUMBER_REDACTED) is True
    data = TrainingData([Message.build("pay with 4111111111111111", "inform")])
    redactor.process_training_data(data)
    assert "4111" not in data.training_examples[0].get("text")


def test_entity_normalizer_uses_the_debtors_time_zone() -> None:
    normalizer = EntityNormalizer.create({}, None, None, context())  # type: ignore[arg-type]
    entities = [
        {"entity": "amount", "value": "fifty bucks", "start": 0, "end": 11},
        {"entity": "frequency", "value": "every 2 weeks", "start": 12, "end": 25},
        {"entity": "duration", "value": "3 months", "start": 26, "end": 34},
        {"entity": "date", "value": "after payday", "start": 35, "end": 47},
        {"entity": "emotion", "value": "neutral", "start": 0, "end": 47},
    ]
    message = Message(
        {"text": "x", "entities": entities, "metadata": {"timezone": "America/New_York"}}
    )
    normalizer.process([message])
    values = {e["entity"]: e["value"] for e in message.get("entities")}
    assert values == {
        "amount": "50.00",
        "frequency": "biweekly",
        "duration": 90,
        "emotion": "neutral",
    }
    # 02:00 UTC on Nov 29 is still Nov 28 in New York
    late = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)
    assert str(conversation_today({"timezone": "America/New_York"}, late)) == "2026-11-28"
    assert str(conversation_today({"timezone": "Not/AZone"}, late)) == "2026-11-29"
    assert str(conversation_today(None, late)) == "2026-11-29"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("STOP", "request_stop_contact"), (" stop. ", "request_stop_contact"), ("Unsubscribe", "request_stop_contact"),
     ("START", "resubscribe"), ("unstop!", "resubscribe"), ("HELP", "ask_help"), ("person", "request_human"),
     ("A person.", "request_human")],
)  # fmt: skip
def test_keywords_decide_the_intent(text: str, intent: str) -> None:
    override = KeywordIntentOverride.create({}, None, None, context())  # type: ignore[arg-type]
    message = Message({"text": text, "intent": {"name": "greet", "confidence": 0.9}})
    override.process([message])
    assert message.get("intent") == {"name": intent, "confidence": 1.0}
    assert message.get("intent_ranking")[0]["name"] == intent


@pytest.mark.parametrize(
    "text", ["stop texting me", "please help me understand", "a person called me", "stopwatch"]
)
def test_keywords_only_as_the_whole_message(text: str) -> None:
    override = KeywordIntentOverride.create({}, None, None, context())  # type: ignore[arg-type]
    message = Message({"text": text, "intent": {"name": "greet", "confidence": 0.9}})
    override.process([message])
    assert message.get("intent")["name"] == "greet"


INTENT_TEXTS = {
    "affirm": ["yes", "yep that works", "ok sounds good", "sure go ahead", "yes please"],
    "deny": ["no", "nope", "no thanks", "not really", "nah"],
    "greet": ["hi", "hello there", "hey", "good morning", "hiya"],
}


def intent_data() -> TrainingData:
    return TrainingData(
        [Message.build(text, intent) for intent, texts in INTENT_TEXTS.items() for text in texts]
    )


def diet_says(text: str, intent: str, confidence: float) -> Message:
    rest = (1 - confidence) / 2
    others = [name for name in INTENT_TEXTS if name != intent]
    message = Message({"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set(
        "intent_ranking",
        [{"name": intent, "confidence": confidence}]
        + [{"name": name, "confidence": rest} for name in others],
    )
    return message


def test_linear_blender_trains_persists_loads_and_reranks(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intents")
    config = {**LinearIntentBlender.get_default_config(), "weight": 0.75}
    LinearIntentBlender.create(config, storage, resource, context()).train(intent_data())
    loaded = LinearIntentBlender.load(config, storage, resource, context())

    # DIET is unsure and wrong; the linear model knows "nope" and wins the blend.
    [message] = loaded.process([diet_says("nope", "greet", 0.4)])
    assert message.get("intent")["name"] == "deny"
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "deny"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert ranking == sorted(ranking, key=lambda r: r["confidence"], reverse=True)


def test_linear_blender_weight_zero_keeps_diet(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear_intents")
    config = {**LinearIntentBlender.get_default_config(), "weight": 0.0}
    component = LinearIntentBlender.create(config, storage, resource, context())
    component.train(intent_data())
    [message] = component.process([diet_says("nope", "greet", 0.4)])
    assert message.get("intent")["name"] == "greet"
    assert message.get("intent")["confidence"] == pytest.approx(0.4)


def test_untrained_linear_blender_leaves_messages_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    component = LinearIntentBlender.load(
        LinearIntentBlender.get_default_config(), storage, Resource("missing"), context()
    )
    [message] = component.process([diet_says("nope", "greet", 0.4)])
    assert message.get("intent")["name"] == "greet"


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂🙂", "x" * 5000, "hola ¿qué tal? 你好", "a\x00b\x1f"]
)
def test_linear_blender_handles_odd_input(tmp_path: Path, text: str) -> None:
    storage = LocalModelStorage(tmp_path)
    component = LinearIntentBlender.create(
        LinearIntentBlender.get_default_config(), storage, Resource("linear_intents"), context()
    )
    component.train(intent_data())
    [message] = component.process([diet_says(text, "greet", 0.9)])
    assert message.get("intent")["name"] in INTENT_TEXTS


@pytest.mark.parametrize(
    ("text", "shaped"),
    [
        ("I can do 40", "i can do 99"),
        ("1,700 a month", "1,999 a month"),
        ("03/04/1985", "99/99/9999"),
        ("option 2", "option 2"),
        ("123456", "9999"),
    ],
)
def test_linear_model_sees_number_shapes_not_values(text: str, shaped: str) -> None:
    assert number_shape(text) == shaped


def test_linear_model_reads_any_bare_amount_alike(tmp_path: Path) -> None:
    data = TrainingData(
        [Message.build(t, "inform") for t in ("1700", "2400", "850", "about 900", "12")]
        + [Message.build(t, "offer_payment") for t in ("i can do 40 a month", "50 on friday")]
        + [Message.build(t, "choose_option") for t in ("1", "2", "3", "option 2")]
    )
    component = LinearIntentBlender.create(
        {**LinearIntentBlender.get_default_config(), "weight": 1.0},
        LocalModelStorage(tmp_path),
        Resource("linear_intents"),
        context(),
    )
    component.train(data)
    # "40" appears only inside an offer, yet a bare 40 is an answer like any bare figure.
    [message] = component.process([diet_says("40", "greet", 0.9)])
    assert message.get("intent")["name"] == "inform"


def test_concept_featurizer_gives_diet_the_lexicon_and_keeps_it_in_the_model(
    tmp_path: Path,
) -> None:
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    from bot.nlu.concept_featurizer import ConceptRegexFeaturizer

    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    storage = LocalModelStorage(tmp_path)
    resource = Resource("concepts")
    featurizer = ConceptRegexFeaturizer.create(
        ConceptRegexFeaturizer.get_default_config(), storage, resource, context()
    )
    data = training_data()
    tokenizer.process_training_data(data)
    featurizer.train(data)
    loaded = ConceptRegexFeaturizer.load(
        ConceptRegexFeaturizer.get_default_config(), storage, resource, context()
    )
    names = [p["name"] for p in loaded.known_patterns]
    assert "concept:farewell" in names and "concept:crisis" in names

    message = Message.build("OK G2G")
    tokenizer.process([message])
    loaded.process([message])
    sequence, sentence = message.get_sparse_features("text")
    assert sequence is not None and sentence is not None
    row = sentence.features.toarray()[0]
    assert row[names.index("concept:farewell")] == 1.0
    assert row[names.index("concept:yes_word")] == 1.0
    assert row[names.index("concept:crisis")] == 0.0
    # Token "G2G" (the second token) carries the farewell concept, "OK" does not.
    tokens = sequence.features.toarray()
    assert tokens[1][names.index("concept:farewell")] == 1.0
    assert tokens[0][names.index("concept:farewell")] == 0.0


def hardship_read(text: str) -> Message:
    return Message(
        {
            "text": text,
            "intent": {"name": "explain_hardship", "confidence": 0.62},
            "intent_ranking": [
                {"name": "explain_hardship", "confidence": 0.62},
                {"name": "express_vulnerability", "confidence": 0.21},
                {"name": "inform", "confidence": 0.1},
            ],
        }
    )


@pytest.mark.parametrize(
    "text",
    [
        "my wife's funeral was last week and the cost wiped out our savings",
        "we lost our daughter in may and the bills just stopped mattering",
        "ive lost both parents this year and im just not coping",
        "he takes my wages every friday so theres nothing left for this",
    ],
)
def test_a_crisis_told_as_hardship_is_a_crisis(text: str) -> None:
    cues = CrisisCues.create({}, None, None, context())  # type: ignore[arg-type]
    message = hardship_read(text)
    cues.process([message])
    assert message.get("intent") == {"name": "express_vulnerability", "confidence": 0.62}
    ranking = [(r["name"], r["confidence"]) for r in message.get("intent_ranking")]
    assert ranking == [("express_vulnerability", 0.62), ("explain_hardship", 0.21), ("inform", 0.1)]


@pytest.mark.parametrize(
    "text",
    [
        # A carer's or a patient's money trouble stays hardship: severe illness is no cue.
        "my dad had a stroke and ive been looking after him so i had to cut back at work",
        "had surgery in march and im on half pay till june",
        "lost my job in april and the bills keep coming",
    ],
)
def test_ordinary_hardship_stays_hardship(text: str) -> None:
    cues = CrisisCues.create({}, None, None, context())  # type: ignore[arg-type]
    message = hardship_read(text)
    cues.process([message])
    assert message.get("intent") == {"name": "explain_hardship", "confidence": 0.62}


def read_as(intent: str, text: str) -> Message:
    return Message(
        {
            "text": text,
            "intent": {"name": intent, "confidence": 0.55},
            "intent_ranking": [
                {"name": intent, "confidence": 0.55},
                {"name": "wrong_person", "confidence": 0.2},
                {"name": "express_vulnerability", "confidence": 0.15},
            ],
        }
    )


def looked_at(intent: str, text: str) -> Message:
    """`text` read as `intent` (read_as), after CrisisCues with its default looks."""
    message = read_as(intent, text)
    CrisisCues.create({}, None, None, context()).process([message])  # type: ignore[arg-type]
    return message


@pytest.mark.parametrize(
    "text",
    [
        "i dont want to carry on, the debt is just one more thing",
        "my husband made me take out loans in my name and i'm scared to tell anyone",
    ],
)
def test_a_crisis_or_abuse_told_as_a_dispute_is_a_crisis(text: str) -> None:
    message = looked_at("dispute_debt", text)
    assert message.get("intent") == {"name": "express_vulnerability", "confidence": 0.55}
    ranking = [r["name"] for r in message.get("intent_ranking")]
    assert ranking == ["express_vulnerability", "dispute_debt", "wrong_person"]


@pytest.mark.parametrize(
    "text",
    [
        # A bereavement with a dispute stays a dispute: the dead person's debt is not theirs.
        "my dad died last year and this debt was never his, he paid everything",
        "this amount is wrong and i've told you twice",
    ],
)
def test_a_dispute_without_a_crisis_or_abuse_cue_stays_a_dispute(text: str) -> None:
    message = looked_at("dispute_debt", text)
    assert message.get("intent")["name"] == "dispute_debt"


@pytest.mark.parametrize(
    ("intent", "text"),
    [
        # Words that often come with a crisis but say none on their own (concepts.yml's
        # `distress`): before 2026-12-02 each of these turned the message into a crisis.
        (
            "dispute_debt",
            "cancelled by recorded delivery and i have the receipt, this debt does not exist",
        ),
        ("dispute_debt", "complete rip off, i don't owe that much"),
        ("dispute_debt", "ur letters keep going to my old address and i never had this account"),
        ("dispute_debt", "ur website won't let me see the agreement and i never signed one"),
        ("explain_hardship", "my car died and i need it to get to work"),
        ("explain_hardship", "buried in debt since the cost of living crisis started"),
        ("explain_hardship", "i feel hopeless about money since my hours were cut"),
        ("explain_hardship", "the bills keep going up and my pay doesnt"),
    ],
)
def test_words_near_a_crisis_are_no_cue_on_their_own(intent: str, text: str) -> None:
    message = looked_at(intent, text)
    assert message.get("intent")["name"] == intent
    # ...but the models still see them, as the `distress` concept.
    assert "distress" in ConceptAnalyzer().concepts(text)


@pytest.mark.parametrize(
    "text",
    [
        "since my mum died i cant open any of these letters",
        "he hit me again last night when the letter came",
        "my husband won't let me have a bank card so i cant pay",
        "ive got the tablets out, theres no point paying anything",
    ],
)
def test_a_crisis_named_outright_still_gets_the_look(text: str) -> None:
    message = looked_at("explain_hardship", text)
    assert message.get("intent")["name"] == "express_vulnerability"


def test_crisis_cues_read_their_looks_from_the_config() -> None:
    # With a look only at hardship, a dispute naming a crisis is left alone.
    cues = CrisisCues.create(  # type: ignore[arg-type]
        {"looks": {"explain_hardship": ["crisis"]}}, None, None, context()
    )
    message = read_as("dispute_debt", "i dont want to carry on, the debt is just one more thing")
    cues.process([message])
    assert message.get("intent")["name"] == "dispute_debt"
    with pytest.raises(ValueError, match="needs no second look"):
        CrisisCues.create(  # type: ignore[arg-type]
            {"looks": {"express_vulnerability": ["crisis"]}}, None, None, context()
        )


def test_only_hardship_and_disputes_get_the_second_look() -> None:
    cues = CrisisCues.create({}, None, None, context())  # type: ignore[arg-type]
    # A deceased account holder's relative is a wrong person, not the debtor's crisis.
    message = Message(
        {
            "text": "that was my mums phone, she passed away in the summer",
            "intent": {"name": "wrong_person", "confidence": 0.8},
            "intent_ranking": [{"name": "wrong_person", "confidence": 0.8}],
        }
    )
    cues.process([message])
    assert message.get("intent")["name"] == "wrong_person"


def test_crisis_cues_refuse_an_unknown_cue() -> None:
    with pytest.raises(ValueError, match="not crisis concepts"):
        CrisisCues.create(  # type: ignore[arg-type]
            {"looks": {"explain_hardship": ["chatter"]}}, None, None, context()
        )


VULN = "express_vulnerability"
# CrisisCues with the `looks` of config.yml's pipeline, as the served model has them.
SERVED_CUES = CrisisCues.create(  # type: ignore[arg-type]
    {"looks": crisis_looks(PROJECT_ROOT / "config.yml")}, None, None, context()
)


@pytest.mark.parametrize(
    ("intent", "text", "read"),
    [
        # A crisis behind another answer is a crisis.
        ("ask_installments", "honestly the only plan i have is not waking up, dont bother", VULN),
        ("request_later", "text me next week, if im still here. i cant do this anymore", VULN),
        ("refuse_to_talk", "i dont want to talk about money, i cant see a way out", VULN),
        ("ask_deferral", "can it wait a month, hes took all my wages again", VULN),
        # Chatter may say it in jest; a stop request and a wrong person are acted on as
        # such (compliance), whatever else they say; a plan without a cue stays a plan.
        ("out_of_scope", "i cant cope with this heat lol", "out_of_scope"),
        ("request_stop_contact", "stop texting me, i cant cope with this", "request_stop_contact"),
        (
            "wrong_person",
            "not me, the guy who had this number was abusive to his ex",
            "wrong_person",
        ),
        ("ask_installments", "can i pay 20 a month, its been a tough year", "ask_installments"),
    ],
)
def test_the_served_looks(intent: str, text: str, read: str) -> None:
    message = read_as(intent, text)
    SERVED_CUES.process([message])
    assert message.get("intent") == {"name": read, "confidence": 0.55}
