"""Reading a rasa_sdk tracker into the plain `Turn` that `bot.core.dialogue` decides on."""

from __future__ import annotations

from typing import Any, Dict, Optional

from rasa_sdk import Tracker

from bot.core.dialogue import Turn
from bot.core.language import Detection
from bot.core.questions import parts_from
from bot.core.safety import SafetyVerdict


def _latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return event
    return {}


def _detection(raw: Any) -> Optional[Detection]:
    if not isinstance(raw, dict):
        return None
    try:
        return Detection(raw.get("code"), float(raw.get("confidence") or 0.0))
    except (TypeError, ValueError):
        return None


def turn_from_tracker(tracker: Tracker) -> Turn:
    """The latest message as the NLU pipeline published it: original text, language, safety."""
    latest = tracker.latest_message or {}
    event = _latest_user_event(tracker)
    metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    entities = {e.get("entity"): e.get("value") for e in latest.get("entities") or [] if e.get("entity")}
    return Turn(
        # The pipeline publishes what the person wrote (it folds its own working copy).
        text=latest.get("original_text") or event.get("text") or latest.get("text") or "",
        intent=(latest.get("intent") or {}).get("name"),
        entities=entities,
        metadata=metadata,
        language=tracker.get_slot("language"),
        named_region=tracker.get_slot("named_region"),
        safety=SafetyVerdict.from_dict(latest.get("safety")),
        detected=_detection(latest.get("language")),
        questions=parts_from(latest.get("questions")),
    )
