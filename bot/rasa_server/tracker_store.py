"""Rasa's SQL tracker store, with conversations kept ready between their messages.

Rasa's `SQLTrackerStore` reads and rebuilds the whole conversation session from the
database for every message (every stored event parsed as JSON and turned back into an
event object), and before saving counts the session's stored events to find the new
ones. Both grow with the conversation: at turn 300 of one conversation the load alone
took half of the Rasa server's time per message (README "Performance").

`CachedSQLTrackerStore` keeps the most recently used conversations in memory, exactly as
last saved, and checks with one indexed query (the conversation's newest event id) that
nobody has written to the conversation since: another Rasa server (several run behind a
load balancer, docs/deploy.md), another Sanic worker, or this process on another path.
If someone has, or the conversation is not in memory, it is read from the database as
Rasa reads it. Saving inserts only the events added since the tracker was read (known,
not counted). So the database stays the record, and a message costs the same at turn 300
as at turn 1.

Hand-over rule: a kept tracker is handed to one reader at a time (taken out of memory on
`retrieve` and put back by `save`), because the dialogue engine changes the tracker it
gets. A second reader meanwhile, or a reader that never saves, reads the database.

A session of at most `max_session_events` events. Rasa's dialogue engine works on the
latest session of a conversation: it features every past turn of it before each
prediction, applies every event to find the session's state, and sends every event to the
action server. A session ends after 60 minutes of silence (domain.yml), so one busy
WhatsApp conversation is one ever-growing session. Here a session also ends once it holds
`max_session_events` events: the next message starts a new one the way an expired one
does (Rasa's `action_session_start`; each slot's latest value carried over), so every per-message
cost is bounded. Nothing the bot decides looks further back: the policies read the last 3
turns, rules 2, the action the latest message and the slots; the whole conversation stays
in the database for the workbench and staff hand-over (`retrieve_full_tracker`).

Event types resolved once: Rasa turns each stored event back into an object by looking
its type name up among all `Event` subclasses, walking the class tree for every event
(`Event.resolve_by_type`); a dictionary built once answers the same. And the model's
graph is run in an order worked out once rather than through dask (bot/rasa_server/graph_runner.py).

Configured in endpoints.yml / endpoints.production.yml:

    tracker_store:
      type: bot.rasa_server.tracker_store.CachedSQLTrackerStore
      dialect: "sqlite"         # or postgresql, with url/port/db/username/password
      db: "var/tracker.db"
      keep_conversations: 1000  # how many conversations stay in memory (default 1000)
      max_session_events: 150   # a longer session starts a new one (default 150; 0: no cap)
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.rasa_server import graph_runner

logger = logging.getLogger(__name__)

DEFAULT_KEEP = 1000
# About 25 turns (a turn stores ~6 events: the message, the action, 1-3 replies, a slot,
# listening). The policies' longest look back is 3 turns.
DEFAULT_MAX_SESSION_EVENTS = 150
# One index that answers "this conversation's newest event" without reading its events.
_NEWEST_INDEX = "ix_events_sender_id_id"


@dataclass(frozen=True)
class _Stored:
    """What of a tracker object is in the database: its first `events` events, up to `newest_id`."""

    events: int
    newest_id: int


_MARK = "_bot_stored"  # the attribute of a DialogueStateTracker holding its _Stored


def _mark(tracker: DialogueStateTracker, stored: Optional[_Stored]) -> None:
    setattr(tracker, _MARK, stored)


def _marked(tracker: DialogueStateTracker) -> Optional[_Stored]:
    return getattr(tracker, _MARK, None)


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that keeps recently used conversations in memory, checked against the database."""

    def __init__(
        self,
        *args: Any,
        keep_conversations: int = DEFAULT_KEEP,
        max_session_events: int = DEFAULT_MAX_SESSION_EVENTS,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.keep_conversations = max(0, int(keep_conversations))
        self.max_session_events = max(0, int(max_session_events))
        _install_session_cap()
        _install_event_type_table()
        graph_runner.install()  # the rest of our per-message path (bot/rasa_server/graph_runner.py)
        self._kept: "OrderedDict[str, DialogueStateTracker]" = OrderedDict()
        self._kept_lock = threading.Lock()  # the workbench and tests read from threads
        self.hits = 0
        self.misses = 0
        self._create_newest_index()
        events = self.SQLEvent.__table__
        self._newest_statement = sa.select(sa.func.max(events.c.id)).where(
            events.c.sender_id == sa.bindparam("sender_id")
        )
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self._write_ahead_log()

    def _create_newest_index(self) -> None:
        table = self.SQLEvent.__table__
        # One Index object per process: it joins the table's metadata, so Rasa creates it with
        # the table in a new database; an existing database gets it here.
        index = next((i for i in table.indexes if i.name == _NEWEST_INDEX), None)
        if index is None:
            index = sa.Index(_NEWEST_INDEX, table.c.sender_id, table.c.id)
        try:
            index.create(self.engine, checkfirst=True)
        except sa.exc.SQLAlchemyError as err:  # another server created it at the same moment
            logger.debug("tracker store: index %s not created: %s", _NEWEST_INDEX, err)

    def _write_ahead_log(self) -> None:
        """SQLite in write-ahead-log mode on kept connections.

        A commit appends to the log instead of syncing the database file twice (the commit
        was a fifth of a message's time on a busy disk), and readers (the workbench, `make
        review`, a second worker) never block the writer. With `synchronous=NORMAL` a power
        cut can lose the last messages, never the database. SQLAlchemy 1.4 opens and closes
        a new SQLite connection for every session (NullPool), three times a message; a small
        pool keeps them open (each is used by one session at a time)."""

        def configure(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8,
            connect_args={"check_same_thread": False},
        )  # fmt: skip
        sa.event.listen(self.engine, "connect", configure)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # -- the in-memory conversations ---------------------------------------------------------

    def _take(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        with self._kept_lock:
            return self._kept.pop(sender_id, None)

    def _keep(self, tracker: DialogueStateTracker) -> None:
        if not self.keep_conversations:
            return
        with self._kept_lock:
            self._kept[tracker.sender_id] = tracker
            self._kept.move_to_end(tracker.sender_id)
            while len(self._kept) > self.keep_conversations:
                self._kept.popitem(last=False)

    def forget(self, sender_id: Optional[Text] = None) -> None:
        """Drop one kept conversation (or all): the next read comes from the database."""
        with self._kept_lock:
            if sender_id is None:
                self._kept.clear()
            else:
                self._kept.pop(sender_id, None)

    def _newest_id(self, session: Any, sender_id: Text) -> Optional[int]:
        """The conversation's newest event id: one lookup in the (sender_id, id) index.

        One statement built once (an ORM query built per call cost six times the lookup)."""
        return session.execute(self._newest_statement, {"sender_id": sender_id}).scalar()

    # -- TrackerStore ------------------------------------------------------------------------

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        kept = self._take(sender_id)
        with self.session_scope() as session:
            newest = self._newest_id(session, sender_id)
            stored = _marked(kept) if kept is not None else None
            if (
                kept is not None
                and stored is not None
                and newest == stored.newest_id
                and len(kept.events) == stored.events
            ):
                self.hits += 1
                return kept
            self.misses += 1
            if newest is None:
                return None
            return self._read(session, sender_id)

    def _read(self, session: Any, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The latest session's events, as Rasa reads them, marked with what is stored."""
        rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(row.data) for row in rows], self.domain.slots
        )
        if tracker.events.maxlen is None:  # a capped history cannot be matched with the rows
            _mark(tracker, _Stored(events=len(rows), newest_id=rows[-1].id))
        return tracker

    async def exists(self, conversation_id: Text) -> bool:
        with self.session_scope() as session:
            return self._newest_id(session, conversation_id) is not None

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        stored = _marked(tracker)
        with self.session_scope() as session:
            newest = self._newest_id(session, tracker.sender_id)
            if stored is not None and newest == stored.newest_id and stored.events <= len(tracker.events):
                start = stored.events
            elif stored is None and newest is None and tracker.events.maxlen is None:
                start = 0  # a new conversation
            else:
                # Written elsewhere since this tracker was read, or not read here: Rasa's way
                # (count what is stored, add the rest), and this tracker is not kept.
                _mark(tracker, None)
                self.forget(tracker.sender_id)
                start = None
            if start is None:
                new_events = list(self._additional_events(session, tracker))
            else:  # from the end of the deque: indexing near its ends is cheap
                count = len(tracker.events)
                new_events = [tracker.events[i - count] for i in range(start, count)]
            rows = [self._row(tracker.sender_id, event) for event in new_events]
            if rows:  # one multi-row INSERT, not an ORM object per event
                session.execute(self.SQLEvent.__table__.insert(), rows)
                # The conversation's lock keeps other writers out until this commits.
                newest_id = self._newest_id(session, tracker.sender_id)
            else:
                newest_id = newest
            session.commit()
            if start is None or newest_id is None:
                return
        _mark(tracker, _Stored(events=len(tracker.events), newest_id=newest_id))
        # A new session is read back from the database as its own events only: not kept.
        if not any(isinstance(event, SessionStarted) for event in new_events):
            self._keep(tracker)

    @staticmethod
    def _row(sender_id: Text, event: Any) -> Dict[str, Any]:
        """The `events` row of one event, as Rasa's `save` writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }


def unwrapped(tracker_store: Any) -> Any:
    """The store itself: Rasa 3.6 wraps the configured one in an `AwaitableTrackerStore`,
    which has no engine and answers `exists` by reading the whole conversation."""
    return getattr(tracker_store, "_tracker_store", tracker_store)


# -- the dialogue engine's side ------------------------------------------------------------


def _session_cap(processor: Any) -> int:
    return getattr(unwrapped(processor.tracker_store), "max_session_events", 0) or 0


def _install_session_cap() -> None:
    """A session holding `max_session_events` events has expired, as after 60 silent minutes."""
    from rasa.core.actions.action import ActionSessionStart
    from rasa.core.processor import MessageProcessor

    original = MessageProcessor._has_session_expired
    if getattr(original, "_bot_session_cap", False):
        return

    def _has_session_expired(self: Any, tracker: DialogueStateTracker) -> bool:
        cap = _session_cap(self)
        if cap and len(tracker.events) >= cap and self.domain.session_config.are_sessions_enabled():
            logger.debug(
                "a session of %d events ends; the next message starts a new one", len(tracker.events)
            )
            return True
        return original(self, tracker)

    _has_session_expired._bot_session_cap = True  # type: ignore[attr-defined]
    MessageProcessor._has_session_expired = _has_session_expired

    # A new session carries the slots over as SlotSet events. Rasa copies every SlotSet
    # of the old session, so each session would start with more events than the last (and,
    # capped, the sessions would get shorter until each message started one). The latest
    # value of each slot gives the same state.
    carried = ActionSessionStart._slot_set_events_from_tracker

    def _slot_set_events_from_tracker(tracker: DialogueStateTracker) -> List[Any]:
        latest: Dict[str, Any] = {}
        for event in carried(tracker):
            latest.pop(event.key, None)
            latest[event.key] = event
        return list(latest.values())

    ActionSessionStart._slot_set_events_from_tracker = staticmethod(_slot_set_events_from_tracker)


def _install_event_type_table() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    if getattr(original, "_bot_table", False):
        return
    table: Dict[str, Any] = {}

    def resolve_by_type(type_name: Text, default: Optional[Any] = None) -> Optional[Any]:
        found = table.get(type_name)
        if found is None:
            found = original(type_name, default)  # the same answer and the same errors
            if found is not None and found is not default:
                table[type_name] = found
        return found

    resolve_by_type._bot_table = True  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)
