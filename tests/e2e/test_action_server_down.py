"""Urgent care still reaches the person when the action server is down."""

import json
import sqlite3

import pytest

from bot.tools.servers import say

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bot_without_actions(bot):
    """The session's bot with its action server stopped for this module, started again after
    (a bot of its own cost another Rasa start)."""
    bot.stop_process("actions")
    try:
        yield bot
    finally:
        bot.start_actions()


@pytest.mark.parametrize(
    "message, lang",
    [
        ("my face is swollen and hot since the injections and I have a fever", "en"),
        ("وجهي منتفخ وحار من بعد الحقن وعندي حرارة", "ar"),
        ("mera chehra sooj gaya hai aur bukhar hai", "ur"),
    ],
)
def test_a_reaction_is_answered_by_the_rasa_server_itself(bot_without_actions, message, lang):
    sender = f"offline-{lang}"
    status, body = say(bot_without_actions.webhook, sender, message, timeout=60)
    assert status == 200, body
    reply = body[0]
    assert (reply["answer_id"], reply["kind"], reply["lang"]) == ("safety.urgent", "urgent", lang)
    assert "1122" in reply["text"] and "997" in reply["text"]
    with sqlite3.connect(bot_without_actions.tracker_db) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'bot'", (sender,))
        stored = [json.loads(r[0]) for r in rows]
    assert stored and stored[-1]["metadata"]["answer_id"] == "safety.urgent"


def test_other_questions_get_a_clear_try_again(bot_without_actions):
    status, body = say(
        bot_without_actions.webhook, "offline-info", "how many sessions do I need?", timeout=60
    )
    assert status == 503 and body["code"] == "unavailable"
