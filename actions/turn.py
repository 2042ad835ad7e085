"""Reading a rasa_sdk tracker into the plain `Turn` that `bot.dialogue` decides on."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker

from bot.dialogue import Turn


def _latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return event
    return {}


def turn_from_tracker(tracker: Tracker) -> Turn:
    latest = tracker.latest_message or {}
    event = _latest_user_event(tracker)
    metadata = event.get("metadata") if isinstance(event.get("metadata"), dict) else {}
    entities = {e.get("entity"): e.get("value") for e in latest.get("entities") or [] if e.get("entity")}
    return Turn(
        # The event keeps what the person wrote; the NLU pipeline may have folded
        # Arabic-script letters in latest_message's copy.
        text=event.get("text") or latest.get("text") or "",
        intent=(latest.get("intent") or {}).get("name"),
        entities=entities,
        metadata=metadata,
        language=tracker.get_slot("language"),
        region=tracker.get_slot("region"),
    )
