"""A Rasa graph component that folds Unicode and Arabic-script spelling variants first.

People write الجلسة and الجلسه, فى and في, Urdu کیا and (on an Arabic keyboard) كيا.
Folding them to one form lets one training example cover them all, which matters most
for the smaller Arabic and Urdu data. The language is detected on the original text
first (folding removes the letters that tell Urdu from Arabic) and published as `language`
(with its confidence), with the text as the person wrote it as `original_text`: the action
and the safety layer read them instead of detecting again. Full-width letters, presentation
forms and invisible characters are folded first (bot.core.normalize.fold_unicode), so a disguised
message reads like a plain one to every later step.
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

from bot.core.language import detect_language
from bot.core.normalize import fold_arabic_script, fold_unicode
from bot.core.payloads import is_button_press

DETECTED_LANGUAGE = "detected_language"
LANGUAGE = "language"
ORIGINAL_TEXT = "original_text"


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
    def _normalise(message: Message, publish: bool = True) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text or is_button_press(text):
            return  # nothing to do, or one of the bot's own button payloads
        folded = fold_unicode(text)
        detection = detect_language(folded)
        message.set(DETECTED_LANGUAGE, detection.language)
        if publish:
            message.set(ORIGINAL_TEXT, text, add_to_output=True)
            message.set(
                LANGUAGE, {"code": detection.language, "confidence": detection.confidence}, add_to_output=True
            )
        message.set(TEXT, fold_arabic_script(folded))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            if message.get(TEXT) and not message.get(ORIGINAL_TEXT):
                message.set(ORIGINAL_TEXT, message.get(TEXT))
            self._normalise(message, publish=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalise(message)
        return messages
