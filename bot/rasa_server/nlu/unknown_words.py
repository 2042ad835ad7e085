"""Low confidence for messages made only of words the bot has never seen.

DIET can be confidently wrong on gibberish ("qwzx plorb" -> thank, 0.69): its
character n-grams always resemble something. A person who types keyboard noise, or a
language the bot does not serve, should be asked to rephrase, not thanked. This
component remembers the training vocabulary (after normalisation) and turns the intent
into `nlu_fallback` when no word of the message is known or close to a known word.
It runs after FallbackClassifier and before the safety guard, so the guard still sees
and overrides everything.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Set, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core.payloads import reads_as_intent

FALLBACK = "nlu_fallback"


def _words(message: Message) -> List[str]:
    return [t.text.lower() for t in message.get(TOKENS_NAMES[TEXT]) or [] if any(c.isalpha() for c in t.text)]


def _trigrams(word: str) -> Set[str]:
    padded = f"#{word}#"
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class UnknownWordsFallback(GraphComponent):
    """Predicts `nlu_fallback` when a message shares nothing with the training vocabulary."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # A word counts as known when this share of its character trigrams occurs in
        # known words: typos ("mesotheraphy", "dard hta") stay known, noise does not.
        return {"min_trigram_overlap": 0.6}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: Optional[Set[str]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage, self._resource = model_storage, resource
        self.vocabulary = set(vocabulary or ())
        self._trigrams = {g for w in self.vocabulary for g in _trigrams(w)}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "UnknownWordsFallback":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        vocabulary = sorted({w for m in training_data.intent_examples for w in _words(m)})
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "vocabulary.json").write_text(
                json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "UnknownWordsFallback":
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / "vocabulary.json").read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            vocabulary = []
        return cls(config, model_storage, resource, set(vocabulary))

    def _known(self, word: str) -> bool:
        if word in self.vocabulary or len(word) <= 2:
            return True
        grams = _trigrams(word)
        return len(grams & self._trigrams) / len(grams) >= self._config["min_trigram_overlap"]

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.vocabulary:
            return messages
        for message in messages:
            text = message.get(TEXT) or ""
            words = _words(message)
            if reads_as_intent(text) or not words or any(self._known(w) for w in words):
                continue
            ranking = message.get(INTENT_RANKING_KEY) or []
            message.set(INTENT, {"name": FALLBACK, "confidence": 0.0}, add_to_output=True)
            message.set(
                INTENT_RANKING_KEY, [{"name": FALLBACK, "confidence": 0.0}, *ranking], add_to_output=True
            )
        return messages
