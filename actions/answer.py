"""`action_answer`: every reply the bot sends goes through here."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.turn import turn_from_tracker
from bot.core.answer_store import AnswerStore
from bot.core.clinic_contact import clinics
from bot.core.dialogue import decide
from bot.core.replies import compose_reply, replies_for_several_questions
from bot.core.safety import SafetyGuard
from bot.core.settings import strict_mode

logger = logging.getLogger(__name__)

# Loaded once at start: an invalid store stops the action server from starting,
# rather than letting it answer badly.
STORE = AnswerStore.load(strict=strict_mode())
# The clinic's contact details and hours (data/clinic.yml), for handoff and booking answers:
# an invalid file stops the start too.
clinics()
# Only for a message that reaches the action without the pipeline's published verdict.
GUARD = SafetyGuard.load()


class ActionAnswer(Action):
    def name(self) -> Text:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        decision = decide(STORE, turn_from_tracker(tracker), GUARD)
        replies = [
            compose_reply(STORE, answer_id, decision.language, decision.region, decision.also_regions)
            for answer_id in decision.answer_ids
        ]
        if decision.guard:
            logger.info("safety: %s -> %s", decision.guard, decision.answer_id)
        for reply in replies_for_several_questions(replies):
            dispatcher.utter_message(**reply.as_message())
        return [
            SlotSet("language", decision.language),
            SlotSet("region", decision.region),
            SlotSet("named_region", decision.named_region),
        ]
