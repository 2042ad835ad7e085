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
# Phrases blanked out before the lists above are matched: negations ("I'm not pregnant",
# "مش حامل", "pregnant nahi") and harmless phrases ("I have a question", "hot shower").
IGNORE = "ignore_phrases"

# Arabic proclitics (and, so, with, for, the...) that attach to the next word.
_ARABIC_PREFIX = "(?:و|ف|ب|ل|ال|وال|بال|فال|لل|ك)?"
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff]")


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
            for name in (*LISTS, IGNORE)
        }

    @classmethod
    def load(cls, path: Path = TRIGGERS_FILE) -> "SafetyGuard":
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def _find(self, name: str, text: str) -> List[str]:
        pattern = self._patterns[name]
        return [m.group(0) for m in pattern.finditer(text)] if pattern else []

    def check(self, text: str) -> GuardResult:
        norm = normalise_for_matching(text or "")
        if self._patterns[IGNORE]:
            norm = self._patterns[IGNORE].sub(" | ", norm)
        always = self._find("urgent_always", norm)
        if always:
            return GuardResult(SafetyClass.URGENT, tuple(always))
        symptoms = self._find("urgent_symptoms", norm)
        if symptoms:
            markers = self._find("report_markers", norm)
            if markers:
                return GuardResult(SafetyClass.URGENT, tuple(symptoms + markers))
        personal = self._find("personal", norm)
        if personal:
            return GuardResult(SafetyClass.PERSONAL, tuple(personal))
        return GuardResult(None)


@lru_cache(maxsize=1)
def default_guard() -> SafetyGuard:
    return SafetyGuard.load()
