"""Each question of a message parsed by the same pipeline as the message (see bot/core/questions.py).

Two steps of the pipeline, first and last:

- `QuestionSplitter` finds the questions of a message (`bot.core.questions.question_parts`) and
  appends each as a message of its own to the batch the pipeline is processing, so the
  normaliser, tokenizer, featurizers, DIET, the fallbacks and the safety layer read every
  part exactly as they read a whole message, in the same call (no second request to the
  server, nothing for the channels to do, one parse in the tracker);
- `QuestionCollector` takes the parts out of the batch again and publishes what they were
  read as on their message: `questions: [{text, intent, confidence, safety}]`. The whole
  message's own intent, ranking and safety verdict are untouched.

The action (bot/core/dialogue.py) decides what to answer from them. Nothing here runs in
training: the model learns from whole examples.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core.payloads import is_button_press
from bot.core.questions import question_parts
from bot.rasa_server.nlu.normaliser import ORIGINAL_TEXT

QUESTIONS = "questions"
_PART_OF = "question_part_of"  # on a part: the index of its message in the batch


class _Passthrough(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_Passthrough":
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class QuestionSplitter(_Passthrough):
    """First in the pipeline: adds each question of a message to the batch as a message."""

    def process(self, messages: List[Message]) -> List[Message]:
        parts = []
        for index, message in enumerate(messages):
            text = message.get(TEXT)
            if message.get(_PART_OF) is not None or not isinstance(text, str) or is_button_press(text):
                continue
            parts += [Message(data={TEXT: part, _PART_OF: index}) for part in question_parts(text)]
        return messages + parts


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class QuestionCollector(_Passthrough):
    """Last in the pipeline: publishes the parts on their message and removes them from the batch."""

    def process(self, messages: List[Message]) -> List[Message]:
        whole = [m for m in messages if m.get(_PART_OF) is None]
        for part in messages:
            index = part.get(_PART_OF)
            if index is None or not 0 <= index < len(messages):
                continue
            intent = part.get(INTENT) or {}
            safety = part.get("safety") or {}
            read = {
                "text": part.get(ORIGINAL_TEXT) or part.get(TEXT),
                "intent": intent.get("name"),
                "confidence": round(float(intent.get("confidence") or 0.0), 4),
                "safety": {"verdict": safety.get("verdict"), "by": safety.get("by") or []},
            }
            parent = messages[index]
            parent.set(QUESTIONS, [*(parent.get(QUESTIONS) or []), read], add_to_output=True)
        return whole
