"""DIET's view of the concept lexicon: Rasa's RegexFeaturizer with one pattern per concept.

The linear intent and emotion models read bot/nlu/concepts.yml through ConceptAnalyzer;
this featurizer gives DIET the same knowledge as token and sentence features, next to the
regexes and lookup tables of the training data. The patterns are saved with the model, so
a trained model keeps the lexicon it was trained with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import concepts
from bot.nlu.sklearn_component import code_fingerprint


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class ConceptRegexFeaturizer(RegexFeaturizer):
    """RegexFeaturizer whose patterns are the training data's plus one per concept."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # The lexicon is lower case; match "Bye" and "BYE" too.
        return {**RegexFeaturizer.get_default_config(), "case_sensitive": False}

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        return code_fingerprint(Path(__file__), *concepts.FILES)

    def train(self, training_data: TrainingData) -> Resource:
        super().train(training_data)
        analyzer = concepts.ConceptAnalyzer()
        self.known_patterns += [
            {"name": f"concept:{name}", "pattern": pattern.pattern}
            for name, pattern in analyzer.patterns.items()
        ]
        self._persist()
        return self._resource
