"""Which WhatsApp messages were already handled, kept beside the conversations.

Meta delivers webhooks at least once: the same message can arrive twice, minutes or a
server restart apart. Each message is claimed here before the bot sees it; the table's
primary key makes a second claim fail even when both copies arrive at the same moment.
The table lives in the tracker store's database, so it survives restarts with the
conversations. It holds keyed hashes only: a wamid encodes the sender's phone number.
The newest message time per conversation also says whether WhatsApp's 24-hour
customer-service window is still open.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)

TABLE_NAME = "whatsapp_deliveries"
# Meta retries a delivery for up to 7 days; a claim older than that is never needed again,
# and a conversation silent for longer has no open window anyway.
KEEP_SECONDS = 8 * 24 * 3600
_PRUNE_EVERY = 3600.0

_metadata = sa.MetaData()
deliveries = sa.Table(
    TABLE_NAME, _metadata,
    sa.Column("message_key", sa.String(64), primary_key=True),  # keyed hash of the wamid
    sa.Column("conversation", sa.String(64), nullable=False, index=True),  # the hashed sender id
    sa.Column("sent_at", sa.Float, nullable=False),  # when the person sent it (WhatsApp's timestamp)
    sa.Column("received_at", sa.Float, nullable=False),
)


def engine_of(tracker_store: Any) -> Optional[sa.engine.Engine]:
    """The SQLAlchemy engine of Rasa's SQL tracker store (wrapped in Rasa 3.6), if it has one."""
    inner = getattr(tracker_store, "_tracker_store", tracker_store)
    engine = getattr(inner, "engine", None)
    return engine if isinstance(engine, sa.engine.Engine) else None


class DeliveryLog:
    """Claims of handled messages, and the last time each conversation wrote."""

    def __init__(self, engine: Optional[sa.engine.Engine] = None) -> None:
        if engine is None:
            logger.warning("whatsapp: the tracker store is not an SQL database; duplicate deliveries "
                           "are recognised only until the server restarts")
            engine = sa.create_engine("sqlite://", poolclass=StaticPool,
                                      connect_args={"check_same_thread": False})
        self.engine = engine
        _metadata.create_all(engine)
        self._pruned_at = 0.0

    def claim(self, message_key: str, conversation: str, sent_at: float, now: Optional[float] = None) -> bool:
        """Record a message as handled; False if it already was (a duplicate delivery)."""
        now = time.time() if now is None else now
        self._prune(now)
        try:
            with self.engine.begin() as conn:
                conn.execute(deliveries.insert().values(message_key=message_key, conversation=conversation,
                                                        sent_at=float(sent_at), received_at=now))
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
            value = conn.execute(sa.select(sa.func.max(deliveries.c.sent_at))
                                 .where(deliveries.c.conversation == conversation)).scalar()
        return float(value) if value is not None else None

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < _PRUNE_EVERY:
            return
        self._pruned_at = now
        with self.engine.begin() as conn:
            conn.execute(deliveries.delete().where(deliveries.c.received_at < now - KEEP_SECONDS))
