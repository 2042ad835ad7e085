"""The safety decision as the last step of the NLU pipeline.

Trained with the model: a text classifier of its own (bot/core/safety/classifier.py) on the
safety corpus (data/safety/corpus/) plus this model's NLU examples (the two safety intents
as urgent and personal, every other intent as a negative). At run time it decides once per
message, with the rules (read at load time: the lexicons are content) and the NLU model's
intent (bot/core/safety/decision.py), and
- publishes the verdict as `safety` in the parse data, for the action, the Rasa server's own
  reply when the action server is down, audits and `make review`;
- sets the intent to the safety intent when the decision escalates (the model's own
  prediction stays in `intent_ranking`), so rules and analytics see the safe intent.

A message that starts with `/` never reaches here unless it is not one of the bot's exact
button payloads (bot/core/payloads.py); such text is judged like any other.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core.payloads import is_button_press
from bot.core.safety import SAFETY_INTENTS, SafetyGuard, decide_safety
from bot.core.safety.classifier import (
    DEFAULT_C,
    DEFAULT_THRESHOLDS,
    SafetyTextClassifier,
    corpus_fingerprint,
    training_pairs,
)
from bot.rasa_server.nlu import safety_early_fit
from bot.rasa_server.nlu.normaliser import ORIGINAL_TEXT

logger = logging.getLogger(__name__)
SAFETY = "safety"
_MODEL_FILE = "safety_classifier.joblib"


def _thresholds(config: Dict[Text, Any]) -> Dict[str, float]:
    return {key: float(config[key]) for key in DEFAULT_THRESHOLDS}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SafetyLayer(GraphComponent):
    """Decides urgent / personal / neither for every message and publishes the verdict."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # bot/core/safety/classifier.py explains the two models; config.yml sets the thresholds.
        return {**DEFAULT_THRESHOLDS, "c": DEFAULT_C}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return corpus_fingerprint()  # the corpus is not a graph input; retrain when it changes

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: Optional[SafetyTextClassifier] = None,
    ) -> None:
        self.config = config
        self._storage, self._resource = model_storage, resource
        self.classifier = classifier or SafetyTextClassifier(thresholds=_thresholds(config))
        # Read at load time: content staff edit the lexicons without retraining.
        self.guard = SafetyGuard.load()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SafetyLayer":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = training_pairs(
            (example.get(ORIGINAL_TEXT) or example.get(TEXT), example.get(INTENT))
            for example in training_data.intent_examples
        )
        fitted = safety_early_fit.take(texts, labels, self.config["c"])  # `make train` started it
        if fitted is not None:
            self.classifier.pipelines = fitted
        else:
            self.classifier.fit(texts, labels, c=self.config["c"])
        with self._storage.write_to(self._resource) as directory:
            joblib.dump(self.classifier.pipelines, directory / _MODEL_FILE)
        logger.info("safety classifier trained on %d messages", len(texts))
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SafetyLayer":
        classifier = SafetyTextClassifier(thresholds=_thresholds(config))
        try:
            with model_storage.read_from(resource) as directory:
                classifier.pipelines = joblib.load(directory / _MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.error(
                "the safety classifier is missing from the model; deciding with rules and "
                "the NLU model only: retrain (`make train`)"
            )
        return cls(config, model_storage, resource, classifier)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._decide(message)
        return messages

    def _decide(self, message: Message) -> None:
        text = message.get(ORIGINAL_TEXT) or message.get(TEXT) or ""
        if not text or is_button_press(text):
            return  # the bot's own button: nothing the person wrote
        predicted = (message.get(INTENT) or {}).get("name")
        verdict = decide_safety(text, self.guard, self.classifier, predicted)
        message.set(SAFETY, verdict.as_dict(), add_to_output=True)
        safe_intent = verdict.intent
        if predicted == safe_intent:
            return  # the model already chose it
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != safe_intent]
        if safe_intent is None:
            if predicted in SAFETY_INTENTS:
                # The rules read an explicit denial or curiosity (decide_safety): the model's
                # best information intent answers; its safety guess stays in the ranking.
                others = [r for r in ranking if r.get("name") not in SAFETY_INTENTS]
                best = others[0] if others else {"name": "nlu_fallback", "confidence": 0.0}
                message.set(INTENT, best, add_to_output=True)
                message.set(
                    INTENT_RANKING_KEY, [best, *[r for r in ranking if r is not best]], add_to_output=True
                )
            return
        chosen = {"name": safe_intent, "confidence": 1.0}
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
