"""bot/rasa_server/tracker_store.py on a real SQLite database: kept conversations, other writers, sessions."""

import asyncio
import sqlite3
from types import SimpleNamespace

import pytest
from rasa.core.actions.action import ActionSessionStart
from rasa.core.processor import MessageProcessor
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered

from bot import PROJECT_ROOT
from bot.core.settings import is_sql_tracker_store
from bot.rasa_server.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "tracker.db"


def store_on(db, **options) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db), **options)


def stored(db, sender):
    with sqlite3.connect(db) as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)
            )
        ]


def one_turn(tracker, text="does it hurt?"):
    tracker.update(UserUttered(text, {"name": "procedure_pain", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_answer"))
    tracker.update(BotUttered("It is practically painless."))
    tracker.update(ActionExecuted("action_listen"))


def test_a_conversation_is_kept_between_its_messages_and_only_new_events_are_written(db):
    store = store_on(db)
    tracker = run(store.get_or_create_tracker("amira"))
    for _ in range(3):
        tracker = run(store.retrieve("amira"))
        one_turn(tracker)
        run(store.save(tracker))
    assert store.hits == 3
    assert stored(db, "amira") == ["action"] + ["user", "action", "bot", "action"] * 3


def test_another_server_writing_meanwhile_is_read_from_the_database(db):
    # Two Rasa servers (or Sanic workers) on one database, one conversation alternating
    # between them: each must see every event the other wrote, and nothing is written twice.
    first, second = store_on(db), store_on(db)
    run(first.get_or_create_tracker("bilal"))
    for turn in range(6):
        server = (first, second)[turn % 2]
        tracker = run(server.retrieve("bilal"))
        assert len(tracker.events) == 1 + 4 * turn
        one_turn(tracker, f"message {turn}")
        run(server.save(tracker))
    texts = [e.text for e in run(first.retrieve("bilal")).events if isinstance(e, UserUttered)]
    assert texts == [f"message {turn}" for turn in range(6)]
    assert len(stored(db, "bilal")) == 1 + 4 * 6


def test_a_message_that_failed_before_saving_leaves_no_trace_in_the_next_read(db):
    store = store_on(db)
    run(store.get_or_create_tracker("chen"))
    tracker = run(store.retrieve("chen"))
    one_turn(tracker, "lost")  # the dialogue engine failed here: no save
    again = run(store.retrieve("chen"))
    assert [e for e in again.events if isinstance(e, UserUttered)] == []
    one_turn(again, "kept")
    run(store.save(again))
    assert [e.text for e in run(store.retrieve("chen")).events if isinstance(e, UserUttered)] == ["kept"]


def test_a_second_reader_meanwhile_gets_its_own_copy_from_the_database(db):
    store = store_on(db)
    run(store.get_or_create_tracker("dana"))
    run(store.save(run(store.retrieve("dana"))))
    handling = run(store.retrieve("dana"))
    one_turn(handling)  # not saved yet
    reader = run(store.retrieve("dana"))
    assert reader is not handling and len(reader.events) == 1


def test_exists_asks_the_database_without_reading_the_conversation(db):
    store = store_on(db)
    assert run(store.exists("eve")) is False
    run(store.get_or_create_tracker("eve"))
    assert run(store.exists("eve")) is True
    assert run(store.retrieve("eve")) is not None and store.hits == 1  # still kept after `exists`


def test_a_new_session_is_read_back_as_its_own_events(db):
    store = store_on(db)
    tracker = run(store.get_or_create_tracker("farah"))
    one_turn(tracker)
    run(store.save(tracker))
    tracker = run(store.retrieve("farah"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    run(store.save(tracker))
    again = run(store.retrieve("farah"))
    assert isinstance(again.events[0], SessionStarted) and len(again.events) == 2
    full = run(store.retrieve_full_tracker("farah"))
    assert len(full.events) == 7


def test_a_session_ends_once_it_holds_max_session_events():
    store = SimpleNamespace(max_session_events=10)
    processor = SimpleNamespace(tracker_store=SimpleNamespace(_tracker_store=store), domain=DOMAIN)
    store_on_disk = CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=":memory:")  # installs the cap
    assert store_on_disk.max_session_events == 150
    tracker = run(store_on_disk.get_or_create_tracker("gul"))
    one_turn(tracker)  # 5 events, the last message seconds ago
    assert MessageProcessor._has_session_expired(processor, tracker) is False
    one_turn(tracker)
    one_turn(tracker)
    assert MessageProcessor._has_session_expired(processor, tracker) is True
    store.max_session_events = 0  # no cap: only 60 silent minutes end it
    assert MessageProcessor._has_session_expired(processor, tracker) is False


def test_a_new_session_carries_each_slots_latest_value_once(db):
    store = store_on(db)
    tracker = run(store.get_or_create_tracker("hina"))
    for value in ("en", "ar", "ur"):
        tracker.update(SlotSet("language", value))
    tracker.update(SlotSet("named_region", "PK"))
    carried = ActionSessionStart._slot_set_events_from_tracker(tracker)
    assert [(e.key, e.value) for e in carried] == [("language", "ur"), ("named_region", "PK")]


def test_event_types_resolve_as_rasa_resolves_them(db):
    store_on(db)  # installs the table
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("user") is UserUttered  # from the table
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no-such-event")


def test_endpoints_files_name_an_sql_store():
    assert is_sql_tracker_store({"type": "SQL"})
    assert is_sql_tracker_store({"type": "bot.rasa_server.tracker_store.CachedSQLTrackerStore"})
    assert not is_sql_tracker_store({"type": "redis"})
    assert not is_sql_tracker_store({})


def test_sqlite_keeps_a_write_ahead_log_and_stays_readable_read_only(db):
    store = store_on(db)
    tracker = run(store.get_or_create_tracker("ines"))
    one_turn(tracker)
    run(store.save(tracker))
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # the workbench and `make review` open it read-only, while the bot runs and after
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert reader.execute("SELECT count(*) FROM events WHERE sender_id = 'ines'").fetchone()[0] == 5
    reader.close()
    store.engine.dispose()
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == 5
    reader.close()
