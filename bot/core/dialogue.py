"""What to answer, in which language, for which region: the bot's one decision per turn.

Pure functions of the turn, so they are tested without Rasa. The action in `actions/`
only reads the tracker and calls `decide`. The safety verdict and the detected language
come from the NLU pipeline (bot/rasa_server/nlu/): they are read here, not worked out again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot import LANGUAGES
from bot.core.answer_store import AnswerStore
from bot.core.language import Detection, choose_reply_language, detect_language, requested_language
from bot.core.payloads import button_press
from bot.core.questions import Part, answers_for_parts
from bot.core.safety import (
    PERSONAL_INTENT,
    URGENT_INTENT,
    SafetyClass,
    SafetyGuard,
    SafetyVerdict,
    decide_safety,
)

URGENT_ID = "safety.urgent"
REDIRECT_ID = "safety.clinician_redirect"
NOT_UNDERSTOOD_ID = "fallback.not_understood"
OUT_OF_SCOPE_ID = "fallback.out_of_scope"
# "I didn't understand" for a message about treatment, the body, a sign or a time since
# treatment: it also says what to do in a reaction and that personal questions go to a
# clinician (../shared/spec/red-flags.md, "When the bot does not understand").
SAFETY_NET_ID = "fallback.safety_net"
SWITCHED_ID = "system.language_switched"
SAFETY_ANSWERS = {URGENT_INTENT: URGENT_ID, PERSONAL_INTENT: REDIRECT_ID}
_VERDICT_ANSWER = {SafetyClass.URGENT: URGENT_ID, SafetyClass.PERSONAL: REDIRECT_ID}


@dataclass(frozen=True)
class Turn:
    """What the bot knows about the latest user message."""

    text: str = ""  # as the person wrote it (or the bot's own button payload)
    intent: Optional[str] = None
    entities: Dict[str, Any] = field(default_factory=dict)
    metadata: Dict[str, Any] = field(default_factory=dict)
    language: Optional[str] = None  # the conversation's language so far
    named_region: Optional[str] = None  # a region the person named or pinned earlier
    safety: Optional[SafetyVerdict] = None  # published by the NLU pipeline (None: a button press)
    detected: Optional[Detection] = None  # the language the NLU pipeline detected
    questions: Tuple[Part, ...] = ()  # its questions, when it asks several (bot/core/questions.py)

    @property
    def is_button(self) -> bool:
        """Only the bot's own exact payloads are buttons (bot/core/payloads.py)."""
        return button_press(self.text) is not None


@dataclass(frozen=True)
class Decision:
    answer_id: str  # the first (or only) answer
    language: str
    region: Optional[str]
    also_regions: Tuple[str, ...] = ()
    named_region: Optional[str] = None
    guard: Optional[str] = None  # "urgent" / "personal" when the safety layer decided
    answer_ids: Tuple[str, ...] = ()  # every answer, in order: one per question asked

    def __post_init__(self) -> None:
        if not self.answer_ids:
            object.__setattr__(self, "answer_ids", (self.answer_id,))


def _language(turn: Turn) -> str:
    hint = turn.metadata.get("locale")
    if turn.intent == "switch_language":
        asked = turn.entities.get("language")
        asked = asked if asked in LANGUAGES else requested_language(turn.text)
        if asked:
            return asked
    if turn.is_button:
        return turn.language if turn.language in LANGUAGES else choose_reply_language("", None, hint)
    return choose_reply_language(turn.text, turn.language, hint, detection=turn.detected)


def safety_of(turn: Turn, guard: SafetyGuard) -> Optional[SafetyVerdict]:
    """The published verdict; decided here only if a message somehow arrived without one."""
    if turn.safety is not None or turn.is_button:
        return turn.safety
    # A person's text with no published verdict (a model trained before the safety layer, or
    # a path that skipped the NLU pipeline): decide now rather than answer unchecked.
    return decide_safety(turn.text, guard, None, turn.intent)


def _answer_id(store: AnswerStore, turn: Turn, verdict: Optional[SafetyVerdict]) -> str:
    safety = verdict.verdict if verdict else None
    # The published decision already weighed the model's intent; without one, the intent counts.
    model_safety = None if turn.safety is not None else SAFETY_ANSWERS.get(turn.intent or "")
    if safety is SafetyClass.URGENT or model_safety == URGENT_ID:
        return URGENT_ID
    if safety is SafetyClass.PERSONAL or model_safety == REDIRECT_ID:
        return REDIRECT_ID
    pressed = button_press(turn.text)
    if pressed and pressed.intent == "ask_topic":
        return pressed.value if pressed.value in store.answers else NOT_UNDERSTOOD_ID
    if turn.intent == "switch_language":
        return SWITCHED_ID
    answer = store.for_intent(turn.intent)
    answer_id = answer.id if answer else NOT_UNDERSTOOD_ID
    if (
        answer_id in (NOT_UNDERSTOOD_ID, OUT_OF_SCOPE_ID)
        and verdict
        and verdict.mentions_health
        and SAFETY_NET_ID in store.answers
    ):
        return SAFETY_NET_ID
    return answer_id


def _answer_ids(store: AnswerStore, turn: Turn, verdict: Optional[SafetyVerdict]) -> List[str]:
    """One answer per question of the message; the whole message's answer when it asks one.

    A message the safety layer escalated is never answered in parts: the safety reply alone.
    A part it escalates on its own comes first (bot/core/questions.py).
    """
    whole = _answer_id(store, turn, verdict)
    if whole in (URGENT_ID, REDIRECT_ID) or turn.is_button or turn.intent == "switch_language":
        return [whole]
    return answers_for_parts(turn.questions, store, _VERDICT_ANSWER) or [whole]


def decide(store: AnswerStore, turn: Turn, guard: SafetyGuard) -> Decision:
    """The answers, language and region for this turn.

    Urgent beats personal, personal beats any information answer, and a safety intent
    predicted by the model is never downgraded.
    """
    choice = store.regions.resolve(
        phone_region=turn.metadata.get("phone_region"),
        page_region=turn.metadata.get("region"),
        locale=turn.metadata.get("locale"),
        text="" if turn.is_button else turn.text,
        named_before=turn.named_region,
        pin_region=turn.metadata.get("pin_region"),
    )
    verdict = safety_of(turn, guard)
    answer_ids = _answer_ids(store, turn, verdict)
    return Decision(
        answer_ids[0],
        _language(turn),
        choice.primary,
        choice.also,
        choice.named,
        verdict.verdict.value if verdict and verdict.verdict else None,
        tuple(answer_ids),
    )


__all__ = ["Turn", "Decision", "decide", "detect_language", "safety_of"]
