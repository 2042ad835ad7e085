"""The tracker store as the bot leaves it: missing, empty, or being written while we read."""

import sqlite3
import threading
import time

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from bot.workbench.conversations import ConversationIndex
from bot.workbench.store import SQLiteEvents, from_endpoints
from tests.bot.workbench.conftest import bot, save, user


def test_a_missing_store_is_not_an_error_and_the_pages_say_so(start_workbench, tracker_db):
    assert not tracker_db.exists()
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    browser = wb.browser()
    browser.sign_in("Sara")
    for path in ("/", "/inbox"):
        status, page, _ = browser.get(path)
        assert status == 200 and "there is no tracker store at" in page
    assert not tracker_db.exists()  # read only: the workbench never creates the bot's store
    # the bot starts and writes: the pages follow without a restart
    save(
        tracker_db,
        "web-1",
        [
            user("does it hurt a lot afterwards", "nlu_fallback", 0.4, ranking=[("ask_pain", 0.38)]),
            bot("fallback.not_understood", "fallback"),
        ],
    )
    wb.refresh()
    status, page, _ = browser.get("/inbox")
    assert "does it hurt a lot afterwards" in page and "there is no tracker store" not in page


def test_an_empty_store_and_one_without_the_events_table_show_empty_pages(start_workbench, tracker_db):
    sqlite3.connect(str(tracker_db)).close()  # an empty file: Rasa has not created its table yet
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    browser = wb.browser()
    browser.sign_in("Sara")
    status, page, _ = browser.get("/inbox")
    assert status == 200 and "Nothing to review" in page
    SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tracker_db))  # the table, no event
    wb.refresh()
    status, page, _ = browser.get("/")
    assert status == 200 and page.count("<svg") >= 7 and "nothing in this period" in page
    assert '<b id="total-messages">0</b>' in page


def test_reading_while_the_bot_writes_never_fails_either_side(tmp_path):
    """The bot's writes (Rasa's SQLTrackerStore, as in production) never hit a locked database
    because of the workbench, and the workbench reads every event, in batches, meanwhile."""
    db = tmp_path / "tracker.db"
    save(db, "web-0", [user("hello", "greet"), bot("chitchat.greet", "chitchat")])
    errors, written = [], []
    stop = threading.Event()

    def the_bot():
        import asyncio

        from rasa.shared.core.trackers import DialogueStateTracker

        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))

        async def turn(n):  # as the bot does: the conversation so far, one more turn, saved
            sender = f"web-{n % 40}"
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
            tracker.update(
                user(f"is it safe number {n}", "nlu_fallback", 0.3, ranking=[("ask_side_effects", 0.3)])
            )
            tracker.update(bot("fallback.not_understood", "fallback"))
            await store.save(tracker)

        n = 0
        while not stop.is_set() and n < 400:
            n += 1
            try:
                asyncio.run(turn(n))
                written.append(n)
            except Exception as err:  # a locked database would surface here
                errors.append(err)

    writer = threading.Thread(target=the_bot)
    index = ConversationIndex(SQLiteEvents(db))
    writer.start()
    reads = 0
    deadline = time.monotonic() + 120
    while writer.is_alive() and time.monotonic() < deadline:
        index.refresh()
        reads += 1
        for conversation in index.snapshot():
            _ = conversation.flagged
    stop.set()
    writer.join()
    index.refresh()
    assert not errors, errors[:3]
    assert reads > 3 and len(written) == 400
    with sqlite3.connect(str(db)) as connection:
        stored = connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert index.events_read == stored
    texts = {t.text for c in index.snapshot() for t in c.flagged}
    assert {f"is it safe number {n}" for n in range(1, 401)} <= texts


def test_a_store_replaced_by_a_new_one_is_read_afresh(tmp_path):
    db = tmp_path / "tracker.db"
    save(db, "web-1", [user("first store", "nlu_fallback", 0.3), bot("fallback.not_understood", "fallback")])
    index = ConversationIndex(SQLiteEvents(db))
    index.refresh()
    assert {t.text for c in index.snapshot() for t in c.flagged} == {"first store"}
    db.unlink()
    save(db, "web-2", [user("second store", "nlu_fallback", 0.3), bot("fallback.not_understood", "fallback")])
    index.refresh()
    assert {t.text for c in index.snapshot() for t in c.flagged} == {"second store"}


def test_a_corrupt_file_is_reported_not_raised(tmp_path):
    db = tmp_path / "tracker.db"
    db.write_bytes(b"this is not a database" * 100)
    index = ConversationIndex(SQLiteEvents(db))
    assert index.refresh() == 0
    assert "not a tracker store" in index.status or "unreadable" in index.status


def test_the_production_endpoints_file_gives_a_read_only_postgresql_url():
    from bot import PROJECT_ROOT

    env = {
        "DB_HOST": "db.internal",
        "DB_PORT": "5432",
        "DB_NAME": "rasa",
        "DB_USER": "rasa",
        "DB_PASSWORD": "s3cret",
        "ACTION_SERVER_URL": "x",
        "ACTION_SERVER_SECRET": "x",
        "REDIS_HOST": "x",
        "REDIS_PORT": "1",
        "REDIS_DB": "0",
        "REDIS_PASSWORD": "",
    }
    settings = from_endpoints(PROJECT_ROOT / "endpoints.production.yml", env)
    assert settings.url == "postgresql://rasa:s3cret@db.internal:5432/rasa"
