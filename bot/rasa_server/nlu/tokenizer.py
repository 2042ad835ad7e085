"""Tokenisation with spaCy's own rules for each language, inside one multilingual model.

spaCy's blank `en`, `ar` and `ur` pipelines (no model download) know each language's
punctuation and exceptions: Arabic ؟ ، ؛ and Urdu ۔ split off, English contractions
("I'm", "don't") kept as one would expect. The pipeline is chosen per message from the
language the normaliser detected; Roman Urdu is Latin text, so it uses English rules.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

import spacy
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.util import compile_infix_regex

from bot.core.normalize import ARABIC_SCRIPT
from bot.rasa_server.nlu.normaliser import DETECTED_LANGUAGE

SPACY_LANG = {"en": "en", "roman_ur": "en", "ar": "ar", "ur": "ur"}
# People type "نعم،لا" or "ہاں۔نہیں" or "hurt?why" with no space after the mark.
_GLUED_PUNCTUATION = r"(?<=[^\W\d_])[،؛؟۔?!,;:](?=[^\W\d_])"


def _blank(lang: str) -> "spacy.language.Language":
    nlp = spacy.blank(lang)
    infixes = list(nlp.Defaults.infixes or []) + [_GLUED_PUNCTUATION]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    return nlp


def _script_language(text: str) -> str:
    return "ar" if ARABIC_SCRIPT.search(text) else "en"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MultilingualSpacyTokenizer(Tokenizer):
    """Splits text into tokens with the spaCy rules of the message's language."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self._pipelines = {lang: _blank(lang) for lang in set(SPACY_LANG.values())}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "MultilingualSpacyTokenizer":
        return cls(config)

    def _pipeline_for(self, message: Message, attribute: Text, text: str) -> "spacy.language.Language":
        detected: Optional[str] = message.get(DETECTED_LANGUAGE) if attribute == TEXT else None
        return self._pipelines[SPACY_LANG.get(detected or "", _script_language(text))]

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        doc = self._pipeline_for(message, attribute, text).make_doc(text)
        tokens = [Token(t.text, t.idx) for t in doc if not (t.is_punct or t.is_space)]
        if not tokens and text.strip():
            tokens = [Token(text.strip(), text.index(text.strip()))]  # e.g. a lone "?" or emoji
        return self._apply_token_pattern(tokens)
