"""What to answer, in which language, for which region: the bot's one decision per turn.

Pure functions of the turn, so they are tested without Rasa. The action in
`actions/` only reads the tracker and calls `decide`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from bot.answer_store import AnswerStore
from bot.language import choose_reply_language, detect_language, requested_language
from bot import LANGUAGES
from bot.safety import PERSONAL_INTENT, URGENT_INTENT, SafetyClass, SafetyGuard

URGENT_ID = "safety.urgent"
REDIRECT_ID = "safety.clinician_redirect"
NOT_UNDERSTOOD_ID = "fallback.not_understood"
SWITCHED_ID = "system.language_switched"
SAFETY_INTENTS = {URGENT_INTENT: URGENT_ID, PERSONAL_INTENT: REDIRECT_ID}


@dataclass(frozen=True)
class Turn:
    """What the bot knows about the latest user message."""

    text: str = ""
    intent: Optional[str] = None
    entities: Dict[str, Any] = field(default_factory=dict)
    metadata: Dict[str, Any] = field(default_factory=dict)
    language: Optional[str] = None  # the conversation's language so far
    region: Optional[str] = None  # the conversation's region so far

    @property
    def is_button(self) -> bool:
        """A button payload (`/ask_topic{...}`) carries no language of its own."""
        return self.text.startswith("/")


@dataclass(frozen=True)
class Decision:
    answer_id: str
    language: str
    region: Optional[str]
    guard: Optional[str] = None  # "urgent" / "personal" when the safety guard decided


def _language(turn: Turn) -> str:
    hint = turn.metadata.get("locale")
    if turn.intent == "switch_language":
        asked = turn.entities.get("language")
        asked = asked if asked in LANGUAGES else requested_language(turn.text)
        if asked:
            return asked
    if turn.is_button:
        return turn.language if turn.language in LANGUAGES else choose_reply_language("", None, hint)
    return choose_reply_language(turn.text, turn.language, hint)


def _answer_id(store: AnswerStore, turn: Turn, guard: SafetyGuard) -> tuple:
    # The guard reads what the person wrote; a button payload is our own text.
    verdict = None if turn.is_button else guard.check(turn.text).safety_class
    model_safety = SAFETY_INTENTS.get(turn.intent or "")
    if verdict is SafetyClass.URGENT or model_safety == URGENT_ID:
        return URGENT_ID, verdict
    if verdict is SafetyClass.PERSONAL or model_safety == REDIRECT_ID:
        return REDIRECT_ID, verdict
    if turn.intent == "ask_topic":
        topic = turn.entities.get("topic")
        return (topic if topic in store.answers else NOT_UNDERSTOOD_ID), None
    if turn.intent == "switch_language":
        return SWITCHED_ID, None
    answer = store.for_intent(turn.intent)
    return (answer.id if answer else NOT_UNDERSTOOD_ID), None


def decide(store: AnswerStore, turn: Turn, guard: SafetyGuard) -> Decision:
    """The answer, language and region for this turn.

    Urgent beats personal, personal beats any information answer, and a safety intent
    predicted by the model is never downgraded by the guard.
    """
    region = store.regions.resolve(
        phone_number=turn.metadata.get("phone_number"),
        page_region=turn.metadata.get("region"),
        locale=turn.metadata.get("locale"),
        text="" if turn.is_button else turn.text,
        current=turn.region,
    )
    answer_id, verdict = _answer_id(store, turn, guard)
    return Decision(answer_id, _language(turn), region, verdict.value if verdict else None)


__all__ = ["Turn", "Decision", "decide", "detect_language"]
