"""Answering a reported reaction when the action server cannot.

Every reply normally comes from the action server. If it is down or too slow, Rasa
logs the failure and sends nothing; for most questions the widget then shows "try
again". A person reporting a reaction must not be left without an answer, so the Rasa
server sends the built-in `utter_urgent_offline` response (domain.yml, all three
languages) and records it in the tracker like any other bot message.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa.shared.core.events import BotUttered

from bot.core.language import choose_reply_language
from bot.core.safety import URGENT_INTENT, SafetyClass, SafetyVerdict, decide_safety, default_guard

logger = logging.getLogger(__name__)

OFFLINE_URGENT = "utter_urgent_offline"
# Rasa 3.6 waits up to 5 minutes for the action server; a person reporting a reaction
# must not. Seconds, set from credentials.yml (`action_timeout`) by the web channel.
DEFAULT_ACTION_TIMEOUT = 10


def limit_action_server_wait(seconds: float) -> None:
    """Cap how long Rasa waits for the action server (a module constant in Rasa 3.6)."""
    import rasa.core.actions.action as rasa_action
    import rasa.utils.endpoints as rasa_endpoints

    rasa_action.DEFAULT_REQUEST_TIMEOUT = seconds
    rasa_endpoints.DEFAULT_REQUEST_TIMEOUT = seconds


def _is_urgent(text: str, parse_data: Dict[str, Any]) -> bool:
    """The safety decision the NLU pipeline published for this message (decided only if missing)."""
    intent = (parse_data.get("intent") or {}).get("name")
    verdict = SafetyVerdict.from_dict(parse_data.get("safety"))
    if verdict is None:  # the message never reached the pipeline's decision: decide, fail safe
        verdict = decide_safety(text, default_guard(), None, intent)
    return intent == URGENT_INTENT or verdict.verdict is SafetyClass.URGENT


async def offline_reply(agent: Any, sender: str, text: str, metadata: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The built-in urgent reply for an unanswered urgent message, else nothing."""
    if agent is None or agent.processor is None:
        return []
    tracker = await agent.processor.get_tracker(sender)
    parse_data = (tracker.latest_message.parse_data or {}) if tracker.latest_message else {}
    if not _is_urgent(text, parse_data):
        return []
    lang = choose_reply_language(text, tracker.get_slot("language"), metadata.get("locale"))
    variations = agent.domain.responses.get(OFFLINE_URGENT) or []
    chosen = next((v for v in variations if (v.get("metadata") or {}).get("lang") == lang), None)
    chosen = chosen or (variations[0] if variations else None)
    if chosen is None:
        return []
    reply_metadata = dict(chosen.get("metadata") or {})
    async with agent.lock_store.lock(sender):
        tracker = await agent.processor.get_tracker(sender)
        tracker.update(
            BotUttered(chosen["text"], metadata={**reply_metadata, "utter_action": OFFLINE_URGENT})
        )
        await agent.tracker_store.save(tracker)
    logger.warning("the action server did not answer an urgent message; sent %s (%s)", OFFLINE_URGENT, lang)
    return [{"recipient_id": sender, "text": chosen["text"], **reply_metadata}]
