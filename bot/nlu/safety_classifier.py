"""The medical-safety guard as the last step of the NLU pipeline.

The model is good but statistical; the guard is a deterministic lexicon
(`data/safety/triggers.yml`, bot/safety.py). Running it inside the pipeline means the
intent every later step sees (rules, the action, the Rasa server's own urgent reply when
the action server is down, analytics) is already the safe one:
- a reported reaction becomes `report_adverse_reaction`, whatever the model said;
- a personal medical decision becomes `personal_medical_question`, unless the model
  already said `report_adverse_reaction` (the guard never downgrades);
- otherwise the model's intent stands.
The model's own prediction is kept in `intent_ranking`, and the guard's verdict and the
words that triggered it in `safety_guard`, for audits.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.safety import PERSONAL_INTENT, TRIGGERS_FILE, URGENT_INTENT, SafetyClass, SafetyGuard

SEVERITY = {URGENT_INTENT: 2, PERSONAL_INTENT: 1}
VERDICT_INTENT = {SafetyClass.URGENT: URGENT_INTENT, SafetyClass.PERSONAL: PERSONAL_INTENT}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class SafetyGuardClassifier(GraphComponent):
    """Overrides the predicted intent with a safety intent when the guard fires."""

    def __init__(self, guard: SafetyGuard) -> None:
        self.guard = guard

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "SafetyGuardClassifier":
        # Read at load time: content staff edit the lexicon without retraining.
        return cls(SafetyGuard.load(TRIGGERS_FILE))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._guard(message)
        return messages

    def _guard(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text or text.startswith("/"):
            return  # a button payload is the bot's own text
        result = self.guard.check(text)
        if not result.fired:
            return
        safe_intent = VERDICT_INTENT[result.safety_class]
        predicted = (message.get(INTENT) or {}).get("name")
        message.set("safety_guard", {"verdict": result.safety_class.value, "matched": list(result.matched),
                                     "model_intent": predicted}, add_to_output=True)
        if SEVERITY.get(predicted, 0) >= SEVERITY[safe_intent]:
            return  # the model already chose this safety intent or a more urgent one
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != safe_intent]
        chosen = {"name": safe_intent, "confidence": 1.0}
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen, *ranking], add_to_output=True)
