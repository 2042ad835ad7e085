"""A WhatsApp conversation's stored state: read when a message needs it, and the channel's
own events (its notices, a pinned region, a reaction's feedback) added to it.

Events the channel adds go through Rasa's tracker store under the conversation's lock,
like the dialogue's own: the audit trail shows every message the person got, with its
answer id, and the `named_region` slot a pin sets is what the dialogue reads next turn.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Sequence

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered, Event

logger = logging.getLogger(__name__)

# The fields of a bot message that are not its text or buttons: what an audit reads.
_NOT_METADATA = ("text", "buttons", "recipient_id")


def bot_event(message: Dict[str, Any]) -> BotUttered:
    """The tracker event for a bot message the channel composed (as the action's are stored)."""
    data = {"buttons": message["buttons"]} if message.get("buttons") else {}
    metadata = {k: v for k, v in message.items() if k not in _NOT_METADATA}
    return BotUttered(str(message.get("text") or ""), data=data, metadata=metadata)


def _latest(tracker: Any) -> float:
    return max((getattr(e, "timestamp", 0.0) or 0.0 for e in tracker.events), default=0.0)


class ConversationState:
    """The conversation's tracker, read once per message unless refreshed."""

    def __init__(self, agent: Any, conversation: str) -> None:
        self.agent, self.conversation = agent, conversation
        self._tracker: Any = None
        self._read = False

    async def _get(self, refresh: bool = False) -> Any:
        if refresh or not self._read:
            self._read = True
            try:
                self._tracker = await self.agent.tracker_store.retrieve(self.conversation)
            except Exception:  # noqa: BLE001 - a notice in all languages is better than none
                logger.exception("whatsapp: could not read the conversation %s", self.conversation)
                self._tracker = None
        return self._tracker

    async def slot(self, name: str, refresh: bool = False) -> Any:
        tracker = await self._get(refresh)
        return tracker.get_slot(name) if tracker is not None else None

    async def language(self, refresh: bool = False) -> Optional[str]:
        return await self.slot("language", refresh)

    async def last_buttons(self) -> List[Dict[str, str]]:
        """The choices the bot offered last, for a person answering with a number."""
        tracker = await self._get()
        for event in reversed(list(tracker.events) if tracker is not None else []):
            if isinstance(event, BotUttered):
                return list(event.data.get("buttons") or [])
        return []

    async def record(self, events: Sequence[Event], metadata: Optional[Dict[str, Any]] = None) -> bool:
        """Append the channel's events; False (logged) if the store could not take them.

        A conversation that starts with one of them is started as Rasa starts one
        (`action_session_start`), so the dialogue's rules apply to the next message.
        """
        processor = getattr(self.agent, "processor", None)
        if processor is None or not events:
            return False
        try:
            async with self.agent.lock_store.lock(self.conversation):
                tracker = await processor.fetch_tracker_with_initial_session(
                    self.conversation, CollectingOutputChannel(), metadata
                )
                for event in events:
                    # Rasa's SQL store reads events back in timestamp order: an event made
                    # before the session start just added would land before it, and a
                    # session start resets the slots.
                    event.timestamp = max(time.time(), _latest(tracker) + 1e-6)
                    tracker.update(event)
                await self.agent.tracker_store.save(tracker)
        except Exception:  # noqa: BLE001 - the person still gets the message
            logger.exception("whatsapp: could not record the channel's events in %s", self.conversation)
            return False
        self._read = False  # what was just written is read back next time
        return True
