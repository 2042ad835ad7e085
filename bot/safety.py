"""The medical-safety guard: a deterministic check on every user message.

It runs before the model's answer is used. A reported reaction happening now gets
urgent-care advice; a personal medical decision goes to a licensed clinician. Urgent
wins over personal, personal wins over any information answer, and the guard never
downgrades what the model already classed as a safety intent.

The lexicon is content (`data/safety/triggers.yml`), in English, Arabic, Urdu and
Roman Urdu, matched after the same normalisation as everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Pattern

import yaml

from bot import PROJECT_ROOT
from bot.normalize import normalise_for_matching

TRIGGERS_FILE = PROJECT_ROOT / "data" / "safety" / "triggers.yml"
LISTS = ("urgent_always", "urgent_symptoms", "report_markers", "personal")
# Time phrases that put a reported symptom in the past: "my sister had swelling last year".
PAST = "past_markers"
# Phrases blanked out before the lists above are matched: negations ("I'm not pregnant",
# "مش حامل", "pregnant nahi") and harmless phrases ("I have a question", "hot shower").
IGNORE = "ignore_phrases"
# Phrases that make a symptom question general ("in general", "is that common", "بشكل عام"):
# a symptom with a report marker is then not treated as a report.
GENERAL = "general_markers"
# Words that negate the trigger right after them ("not pregnant", "ما اخذ مميعات", "مش حامل")
# or, in Urdu and Roman Urdu, right before them ("pregnant nahi", "حاملہ نہیں").
NEGATION_BEFORE = "negation_before"
NEGATION_AFTER = "negation_after"
NEGATION_WINDOW = 3  # words
# Regular expressions for amounts ("2 ml", "٢ مل"): personal, like the `personal` list.
PATTERNS = "personal_patterns"

# Arabic proclitics (and, so, with, for, the...) that attach to the next word.
_ARABIC_PREFIX = "(?:و|ف|ب|ل|ال|وال|بال|فال|لل|ك)?"
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")


# The NLU intents of the two safety classes (domain.yml), and the order of severity.
URGENT_INTENT = "report_adverse_reaction"
PERSONAL_INTENT = "personal_medical_question"
SAFETY_INTENTS = (PERSONAL_INTENT, URGENT_INTENT)


class SafetyClass(str, Enum):
    URGENT = "urgent"
    PERSONAL = "personal"


@dataclass(frozen=True)
class GuardResult:
    safety_class: Optional[SafetyClass]
    matched: tuple = ()

    @property
    def fired(self) -> bool:
        return self.safety_class is not None


def _term_pattern(term: str) -> Optional[str]:
    norm = normalise_for_matching(term.rstrip("*"))
    if not norm:
        return None
    words = [re.escape(w) for w in norm.split(" ")]
    if term.rstrip().endswith("*"):
        words[-1] += r"\w*"
    prefix = _ARABIC_PREFIX if _ARABIC_SCRIPT.match(norm) else ""
    return prefix + " ".join(words)


def _compile(terms: List[str]) -> Optional[Pattern]:
    parts = sorted({p for p in (_term_pattern(str(t)) for t in terms) if p}, key=len, reverse=True)
    if not parts:
        return None
    # Whole words only; an English possessive ("Hashimoto's") still matches its word.
    return re.compile(r"(?<![\w'])(?:" + "|".join(parts) + r")(?:'s)?(?![\w'])")


class SafetyGuard:
    """Classifies a message as urgent, personal or neither, from the trigger lexicon."""

    def __init__(self, lexicon: Dict[str, Dict[str, List[str]]]):
        missing = [name for name in LISTS if name not in lexicon]
        if missing:
            raise ValueError(f"{TRIGGERS_FILE.name}: missing list(s) {', '.join(missing)}")
        self._patterns = {
            name: _compile([t for terms in (lexicon.get(name) or {}).values() for t in (terms or [])])
            for name in (*LISTS, IGNORE, PAST, GENERAL)
        }
        norm_words = lambda key: {normalise_for_matching(str(w)) for ws in (lexicon.get(key) or {}).values()  # noqa: E731
                                  for w in (ws or [])}
        self._negation_before = norm_words(NEGATION_BEFORE)
        self._negation_after = norm_words(NEGATION_AFTER)
        self._personal_patterns = [re.compile(p) for p in lexicon.get(PATTERNS) or []]

    @classmethod
    def load(cls, path: Path = TRIGGERS_FILE) -> "SafetyGuard":
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def _find_patterns(self, text: str) -> List[str]:
        return [m.group(0) for p in self._personal_patterns for m in p.finditer(text)]

    def _find(self, name: str, text: str, negatable: bool = False) -> List[str]:
        pattern = self._patterns[name]
        if not pattern:
            return []
        return [m.group(0) for m in pattern.finditer(text) if not (negatable and self._negated(text, m))]

    def _negated(self, text: str, match: "re.Match") -> bool:
        """A trigger with a negation word just before it ("not", "ما", "مش") or, for Urdu
        word order, just after it ("nahi", "نہیں")."""
        before = text[: match.start()].split()[-NEGATION_WINDOW:]
        after = text[match.end():].split()[:NEGATION_WINDOW]
        stop = {"but", "bas", "لكن", "بس", "لیکن", "ليكن", "magar", "lekin"}
        for word in reversed(before):
            if word in stop:
                break
            if word in self._negation_before:
                return True
        for i, word in enumerate(after):
            if word in stop:
                break
            # "karwana chahiye ya nahi" / "یا نہیں": "or not" asks, it does not negate.
            if word in self._negation_after and not (i and after[i - 1] in ("ya", "یا", "يا")):
                return True
        return False

    def _blank(self, match: "re.Match") -> str:
        words = set(match.group(0).split())
        return " not " if words & (self._negation_before | self._negation_after) else " · "

    def check(self, text: str) -> GuardResult:
        norm = normalise_for_matching(text or "")
        if self._patterns[IGNORE]:
            # Ignore phrases are mostly negations ("not pregnant"): what follows them
            # within the window is negated too ("not pregnant nor breastfeeding").
            norm = self._patterns[IGNORE].sub(self._blank, norm)
        always = self._find("urgent_always", norm)
        if always:
            return GuardResult(SafetyClass.URGENT, tuple(always))
        symptoms = self._find("urgent_symptoms", norm, negatable=True)
        if symptoms and not self._find(PAST, norm) and not self._find(GENERAL, norm):
            markers = self._find("report_markers", norm)
            if markers:
                return GuardResult(SafetyClass.URGENT, tuple(symptoms + markers))
        personal = self._find("personal", norm, negatable=True) + self._find_patterns(norm)
        if personal:
            return GuardResult(SafetyClass.PERSONAL, tuple(personal))
        return GuardResult(None)


@lru_cache(maxsize=1)
def default_guard() -> SafetyGuard:
    return SafetyGuard.load()
