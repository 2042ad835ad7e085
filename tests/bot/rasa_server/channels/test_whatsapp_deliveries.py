"""A message is handled once, even delivered twice at once or after a restart."""

import threading
import time

import sqlalchemy as sa

from bot.rasa_server.channels._whatsapp_deliveries import KEEP_SECONDS, DeliveryLog, engine_of


def _engine(path):
    return sa.create_engine(f"sqlite:///{path}")


def test_a_second_claim_of_the_same_message_fails(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    assert log.claim("key-1", "wa-abc", 1000.0)
    assert not log.claim("key-1", "wa-abc", 1000.0)
    assert log.claim("key-2", "wa-abc", 1005.0)


def test_claims_survive_a_restart(tmp_path):
    assert DeliveryLog(_engine(tmp_path / "tracker.db")).claim("key-1", "wa-abc", 1000.0)
    restarted = DeliveryLog(_engine(tmp_path / "tracker.db"))  # a new process, a new engine
    assert not restarted.claim("key-1", "wa-abc", 1000.0)
    assert restarted.last_inbound("wa-abc") == 1000.0


def test_simultaneous_duplicates_are_claimed_once(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(log.claim("same", "wa-abc", 1.0))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]


def test_the_last_inbound_time_is_the_newest_message_of_that_conversation(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    assert log.last_inbound("wa-abc") is None
    log.claim("a", "wa-abc", 2000.0)
    log.claim("b", "wa-abc", 1000.0)  # delivered late
    log.claim("c", "wa-other", 3000.0)
    assert log.last_inbound("wa-abc") == 2000.0


def test_a_released_claim_can_be_claimed_again(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    log.claim("a", "wa-abc", 1.0)
    log.release("a")
    assert log.claim("a", "wa-abc", 1.0)


def test_old_claims_are_pruned(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    now = time.time()
    log.claim("old", "wa-abc", now - KEEP_SECONDS - 10, now=now - KEEP_SECONDS - 10)
    log._pruned_at = 0.0
    log.claim("new", "wa-abc", now, now=now)
    assert log.claim("old", "wa-abc", now)  # forgotten, as Meta stopped redelivering it long ago


def test_without_an_sql_tracker_store_claims_are_kept_in_memory():
    class InMemoryStore:
        pass

    assert engine_of(InMemoryStore()) is None
    log = DeliveryLog(None)
    assert log.claim("a", "wa-abc", 1.0) and not log.claim("a", "wa-abc", 1.0)


def test_the_engine_is_found_inside_rasas_wrapper(tmp_path):
    engine = _engine(tmp_path / "t.db")

    class SQLStore:
        pass

    class Wrapper:
        pass

    inner, outer = SQLStore(), Wrapper()
    inner.engine, outer._tracker_store = engine, inner
    assert engine_of(outer) is engine and engine_of(inner) is engine


# -- which answer each sent message carried (reactions, issue 18) ---------------------------------


def test_a_rating_is_kept_per_message_and_changes_are_reported(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    log.remember_answer("sent-1", "wa-abc", "procedure.pain", "ur", "2026-11-20")
    answer, changed = log.rate("sent-1", "wa-abc", False)
    assert (answer.answer_id, answer.lang, answer.version, answer.helpful, changed) == (
        "procedure.pain",
        "ur",
        "2026-11-20",
        False,
        True,
    )
    assert log.rate("sent-1", "wa-abc", False)[1] is False, "the same reaction again changes nothing"
    assert log.rate("sent-1", "wa-abc", True)[1] is True
    assert log.rate("sent-1", "wa-abc", None)[1] is True, "removed"
    restarted = DeliveryLog(_engine(tmp_path / "tracker.db"))
    assert restarted.rate("sent-1", "wa-abc", None)[1] is False, "the state survives a restart"


def test_a_reaction_on_an_unknown_or_another_conversations_message_is_not_an_answer(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    log.remember_answer("sent-1", "wa-abc", "procedure.pain", "en", "v1")
    assert log.rate("sent-2", "wa-abc", True) is None
    assert log.rate("sent-1", "wa-other", True) is None


def test_sent_answers_are_forgotten_after_a_month(tmp_path):
    log = DeliveryLog(_engine(tmp_path / "tracker.db"))
    log.remember_answer("sent-old", "wa-abc", "procedure.pain", "en", "v1", now=1000.0)
    log.claim("key-new", "wa-abc", 1000.0 + 31 * 24 * 3600, now=1000.0 + 31 * 24 * 3600)  # prunes
    assert log.rate("sent-old", "wa-abc", True) is None
