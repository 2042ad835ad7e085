"""A Rasa graph component that folds Arabic-script spelling variants before featurisation.

People write الجلسة and الجلسه, فى and في, Urdu کیا and (on an Arabic keyboard) كيا.
Folding them to one form lets one training example cover them all, which matters most
for the smaller Arabic and Urdu data. The language is detected on the original text
first (folding removes the letters that tell Urdu from Arabic) and kept on the message
as `detected_language` for later components. Latin text is left as written.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language import detect_language
from bot.normalize import fold_arabic_script

DETECTED_LANGUAGE = "detected_language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class ArabicScriptNormaliser(GraphComponent):
    """Folds Arabic-script variants in the message text; records the detected language."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "ArabicScriptNormaliser":
        return cls()

    @staticmethod
    def _normalise(message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text or text.startswith("/"):
            return  # nothing to do, or an intent payload such as /ask_topic{...}
        message.set(DETECTED_LANGUAGE, detect_language(text).language)
        message.set(TEXT, fold_arabic_script(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalise(message)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalise(message)
        return messages
