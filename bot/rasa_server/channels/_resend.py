"""A message sent again ("Try again"): stored once, answered once.

The widget gives every message an id (`message_id`) and keeps it when the person presses
*Try again*, sending `"retry": true` with it. When the conversation already holds a
message with that id, it is not stored a second time:

- if the bot answered it (the first answer was lost on the way, e.g. a timeout in the
  browser), the stored answer is sent again;
- if nothing answered it (a `503` with `"stored": true`: the action server was down),
  the bot answers the stored message now: `action_answer` runs on the conversation as it
  is, the reply is recorded, then `action_listen`, exactly as if the first attempt had
  worked. Only the conversation's latest message can be answered this way.

Without `"retry": true` nothing is looked up, so an ordinary message costs no extra read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, List, Optional

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

logger = logging.getLogger(__name__)

ANSWER_ACTION = "action_answer"  # every intent is answered by it (data/rules/answers.yml)


@dataclass
class StoredMessage:
    latest: bool  # no later message in the conversation
    replies: List[BotUttered] = field(default_factory=list)  # what the bot answered it, in order


async def stored_message(agent: Any, sender: str, message_id: str) -> Optional[StoredMessage]:
    """The message `message_id` of the conversation and its replies, if the conversation holds it."""
    tracker = await agent.tracker_store.retrieve(sender)
    if tracker is None:
        return None
    found: Optional[StoredMessage] = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if found is not None:
                found.latest = False
                break
            if getattr(event, "message_id", None) == message_id:
                found = StoredMessage(latest=True)
        elif found is not None and isinstance(event, BotUttered):
            found.replies.append(event)
    return found


async def send_stored_replies(stored: StoredMessage, sender: str, output: OutputChannel) -> None:
    for reply in stored.replies:
        await output.send_response(sender, reply.message())


async def answer_again(agent: Any, sender: str, output: OutputChannel) -> bool:
    """Answer the conversation's latest (unanswered) message; True if an answer was sent.

    The steps of Rasa's own processor (`_run_action`) for `action_answer`, then
    `action_listen`, under the conversation's lock; nothing is recorded if the action fails.
    """
    from rasa.core.actions.action import action_for_name_or_text
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.constants import ACTION_LISTEN_NAME

    processor = agent.processor
    async with agent.lock_store.lock(sender):
        tracker = await processor.get_tracker(sender)
        action = action_for_name_or_text(ANSWER_ACTION, processor.domain, processor.action_endpoint)
        prediction = PolicyPrediction.for_action_name(processor.domain, ANSWER_ACTION, "resend")
        try:
            events = await action.run(output, processor.nlg, tracker, processor.domain)
        except Exception:  # noqa: BLE001 - still unanswered: the caller says so (503)
            logger.warning("webchat: a message sent again could still not be answered")
            return False
        tracker.update(action.event_for_successful_execution(prediction))
        tracker.update_with_events(events, processor.domain)
        await processor.execute_side_effects(events, tracker, output)
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await processor.save_tracker(tracker)
    return any(isinstance(e, BotUttered) for e in events)
