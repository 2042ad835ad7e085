"""A conversation longer than one session (bot/rasa_server/tracker_store.py's `max_session_events`).

WhatsApp conversations run for months; each session is capped so that a message costs
the same at turn 300 as at turn 1. The person must not notice: every message is answered,
and what they told the bot before the new session still counts.
"""

import pytest

pytestmark = pytest.mark.e2e

NEUTRAL = ["does it hurt?", "how many sessions do I need?", "what is mesotherapy?", "is there any downtime?"]


def test_a_place_named_before_a_new_session_still_gives_its_emergency_number(conversation, tracker_events):
    person = conversation()
    person.say("I'm in Karachi. What is mesotherapy?")
    for turn in range(22):  # about 8 events a turn: past the 150-event session cap
        assert person.say(NEUTRAL[turn % len(NEUTRAL)])[0]["text"]
    events = [type_name for type_name, _ in tracker_events(person.sender)]
    assert events.count("session_started") >= 2, "the cap started a new session"
    replies = person.say("my face is swollen and hot since the injections")
    assert replies[0]["answer_id"] == "safety.urgent"
    assert "1122" in replies[0]["text"], "Pakistan's emergency number: the named place carried over"
    assert len([t for t in tracker_events(person.sender) if t[0] == "user"]) == 24, "every message kept once"
