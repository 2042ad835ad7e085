"""Entities from a curated gazetteer: concern, body area and safety trigger.

A spaCy PhraseMatcher finds the phrases of `data/gazetteer/entities.yml` (English,
Arabic, Urdu and Roman Urdu synonyms of one canonical value each) in the normalised
message, so "تساقط الشعر", "baal girna" and "hair fall" all become
`concern: hair_loss`. Phrases ending in `*` match any word ending, through spaCy's
token Matcher. Matching is on folded text (bot/normalize.py), so spelling variants of
Arabic-script words match too. Entities are not learned: the list is content, edited
by staff and read when the model loads.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Text, Tuple

import spacy
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from spacy.matcher import Matcher, PhraseMatcher

from bot import PROJECT_ROOT
from bot._yaml import read_yaml
from bot.normalize import ARABIC_PROCLITICS, ARABIC_SCRIPT, fold_arabic_script
from bot.payloads import reads_as_intent

logger = logging.getLogger(__name__)
GAZETTEER_FILE = PROJECT_ROOT / "data" / "gazetteer" / "entities.yml"
EXTRACTOR = "GazetteerEntityExtractor"


def _normalise(text: str) -> str:
    return fold_arabic_script(text.lower())


class Gazetteer:
    """Finds gazetteer phrases in text; returns Rasa entity dicts."""

    def __init__(self, entries: Dict[str, Dict[str, Dict[str, List[str]]]]):
        self.nlp = spacy.blank("xx")  # language-neutral tokenizer: the same for phrases and messages
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.prefixes = Matcher(self.nlp.vocab)
        self.labels: Dict[str, Tuple[str, str]] = {}
        # The last words of the `*` phrases: spaCy's Matcher runs each REGEX in Python, for
        # every token and pattern (1.4 ms a message for 40 patterns), so it only runs when a
        # token starts with one of them (one C-level `startswith` per token).
        self.prefix_starts: Tuple[str, ...] = ()
        for entity, values in (entries or {}).items():
            for value, by_lang in (values or {}).items():
                key = f"{entity}|{value}"
                self.labels[key] = (entity, value)
                terms = [str(t) for ts in (by_lang or {}).values() for t in (ts or [])]
                self._add(key, terms)

    def _variants(self, term: str) -> List[str]:
        term = _normalise(term.strip())
        if ARABIC_SCRIPT.match(term):
            return [term] + [p + term for p in ARABIC_PROCLITICS]  # "and", "with", "the"... attach
        return [term]

    def _add(self, key: str, terms: List[str]) -> None:
        exact, wildcard = [], []
        for term in terms:
            for variant in self._variants(term.rstrip("*")):
                (wildcard if term.rstrip().endswith("*") else exact).append(variant)
        if exact:
            self.phrases.add(key, [self.nlp.make_doc(t) for t in exact])
        patterns = []
        for variant in wildcard:
            words = [t.text for t in self.nlp.make_doc(variant)]
            if words:
                self.prefix_starts += (words[-1].lower(),)
                patterns.append(
                    [{"LOWER": w} for w in words[:-1]] + [{"LOWER": {"REGEX": "^" + re.escape(words[-1])}}]
                )
        if patterns:
            self.prefixes.add(key, patterns)

    def find(self, text: str) -> List[Dict[str, Any]]:
        doc = self.nlp.make_doc(_normalise(text))
        found = [(s, e, self.nlp.vocab.strings[m]) for m, s, e in self.phrases(doc)]
        if self.prefix_starts and any(token.lower_.startswith(self.prefix_starts) for token in doc):
            found += [(s, e, self.nlp.vocab.strings[m]) for m, s, e in self.prefixes(doc)]
        # Longest match first; drop overlaps (the "double chin" beats "chin").
        found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
        taken, entities = set(), []
        for start, end, key in found:
            if taken & set(range(start, end)):
                continue
            taken |= set(range(start, end))
            entity, value = self.labels[key]
            span = doc[start:end]
            entities.append(
                {
                    "entity": entity,
                    "value": value,
                    "start": span.start_char,
                    "end": span.end_char,
                    "confidence_entity": 1.0,
                    "extractor": EXTRACTOR,
                }
            )
        return sorted(entities, key=lambda e: e["start"])


@lru_cache(maxsize=4)
def load_gazetteer(path: Path = GAZETTEER_FILE) -> Gazetteer:
    """The gazetteer; an absent file gives an empty one (`make validate` reports it)."""
    path = Path(path)
    if not path.exists():
        logger.warning("no gazetteer at %s: no concern/body_area/safety_trigger entities", path)
        return Gazetteer({})
    raw = read_yaml(path) or {}
    return Gazetteer(raw.get("entities") or {})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class GazetteerEntityExtractor(GraphComponent):
    """Adds concern, body_area and safety_trigger entities from the gazetteer."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "GazetteerEntityExtractor":
        return cls(load_gazetteer(GAZETTEER_FILE))

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or reads_as_intent(text):
                continue
            found = self.gazetteer.find(text)
            if found:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), *found], add_to_output=True)
        return messages
