"""Which WhatsApp messages were already handled, kept beside the conversations.

Meta delivers webhooks at least once: the same message can arrive twice, minutes or a
server restart apart. Each message is claimed here before the bot sees it; the table's
primary key makes a second claim fail even when both copies arrive at the same moment.
The table lives in the tracker store's database, so it survives restarts with the
conversations. It holds keyed hashes only: a wamid encodes the sender's phone number.
The newest message time per conversation also says whether WhatsApp's 24-hour
customer-service window is still open.

A second table remembers which answer each message the bot sent carried, under a keyed
hash of the id the Graph API gave it, so an emoji reaction to that message (which names
only the message id) can be counted as feedback on the answer, and a reaction changed or
removed later replaces it. It holds no phone number and no wamid.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)

TABLE_NAME = "whatsapp_deliveries"
# Meta retries a delivery for up to 7 days; a claim older than that is never needed again,
# and a conversation silent for longer has no open window anyway.
KEEP_SECONDS = 8 * 24 * 3600
# People react to answers days later; after a month a reaction is no longer counted.
KEEP_ANSWERS_SECONDS = 30 * 24 * 3600
_PRUNE_EVERY = 3600.0

_metadata = sa.MetaData()
deliveries = sa.Table(
    TABLE_NAME,
    _metadata,
    sa.Column("message_key", sa.String(64), primary_key=True),  # keyed hash of the wamid
    sa.Column("conversation", sa.String(64), nullable=False, index=True),  # the hashed sender id
    sa.Column("sent_at", sa.Float, nullable=False),  # when the person sent it (WhatsApp's timestamp)
    sa.Column("received_at", sa.Float, nullable=False),
)
sent_answers = sa.Table(
    "whatsapp_sent_answers",
    _metadata,
    sa.Column("message_key", sa.String(64), primary_key=True),  # keyed hash of the wamid of our message
    sa.Column("conversation", sa.String(64), nullable=False),
    sa.Column("answer_id", sa.String(100), nullable=False),
    sa.Column("lang", sa.String(8), nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("helpful", sa.Boolean, nullable=True),  # the person's reaction as it stands; None: none
    sa.Column("sent_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class SentAnswer:
    """An answer the bot sent, as a reaction to it is recorded (no number, no wamid)."""

    answer_id: str
    lang: str
    version: str
    helpful: Optional[bool]


def engine_of(tracker_store: Any) -> Optional[sa.engine.Engine]:
    """The SQLAlchemy engine of Rasa's SQL tracker store (wrapped in Rasa 3.6), if it has one."""
    from bot.rasa_server.tracker_store import unwrapped

    engine = getattr(unwrapped(tracker_store), "engine", None)
    return engine if isinstance(engine, sa.engine.Engine) else None


class DeliveryLog:
    """Claims of handled messages, and the last time each conversation wrote."""

    def __init__(self, engine: Optional[sa.engine.Engine] = None) -> None:
        if engine is None:
            logger.warning(
                "whatsapp: the tracker store is not an SQL database; duplicate deliveries "
                "are recognised only until the server restarts"
            )
            engine = sa.create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        self.engine = engine
        _metadata.create_all(engine)
        self._pruned_at = 0.0

    def claim(self, message_key: str, conversation: str, sent_at: float, now: Optional[float] = None) -> bool:
        """Record a message as handled; False if it already was (a duplicate delivery)."""
        now = time.time() if now is None else now
        self._prune(now)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    deliveries.insert().values(
                        message_key=message_key,
                        conversation=conversation,
                        sent_at=float(sent_at),
                        received_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def release(self, message_key: str) -> None:
        """Forget a claim, so the redelivery of a message that could not be handled is handled."""
        with self.engine.begin() as conn:
            conn.execute(deliveries.delete().where(deliveries.c.message_key == message_key))

    def last_inbound(self, conversation: str) -> Optional[float]:
        """When the person last wrote (WhatsApp's time), as far as this server has seen."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.max(deliveries.c.sent_at)).where(deliveries.c.conversation == conversation)
            ).scalar()
        return float(value) if value is not None else None

    def remember_answer(
        self,
        message_key: str,
        conversation: str,
        answer_id: str,
        lang: str,
        version: str,
        now: Optional[float] = None,
    ) -> None:
        """Note that the message the API accepted under this key carried this answer."""
        now = time.time() if now is None else now
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sent_answers.insert().values(
                        message_key=message_key,
                        conversation=conversation,
                        answer_id=answer_id[:100],
                        lang=lang[:8],
                        version=version[:40],
                        helpful=None,
                        sent_at=now,
                    )
                )
        except IntegrityError:  # the same id twice: the API never does it; keep the first
            pass

    def rate(
        self, message_key: str, conversation: str, helpful: Optional[bool]
    ) -> Optional[Tuple[SentAnswer, bool]]:
        """Set the person's rating of one of our messages: (the answer, whether it changed),
        or None when the message is not a known answer in this conversation."""
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(sent_answers).where(
                    (sent_answers.c.message_key == message_key)
                    & (sent_answers.c.conversation == conversation)
                )
            ).first()
            if row is None:
                return None
            changed = row.helpful != helpful
            if changed:
                conn.execute(
                    sent_answers.update()
                    .where(sent_answers.c.message_key == message_key)
                    .values(helpful=helpful)
                )
        return SentAnswer(row.answer_id, row.lang, row.version, helpful), changed

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < _PRUNE_EVERY:
            return
        self._pruned_at = now
        with self.engine.begin() as conn:
            conn.execute(deliveries.delete().where(deliveries.c.received_at < now - KEEP_SECONDS))
            conn.execute(sent_answers.delete().where(sent_answers.c.sent_at < now - KEEP_ANSWERS_SECONDS))
