"""action_answer against recorded trackers (tests/data/trackers/*.json)."""

import asyncio
import json
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswer

TRACKERS = Path(__file__).resolve().parents[1] / "data" / "trackers"


def run_action(name: str):
    tracker = Tracker.from_dict(json.loads((TRACKERS / f"{name}.json").read_text(encoding="utf-8")))
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswer().run(dispatcher, tracker, {}))
    assert len(dispatcher.messages) == 1
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return dispatcher.messages[0], slots


def test_an_english_question(store):
    message, slots = run_action("pain_en")
    assert message["answer_id"] == "procedure.pain" and message["lang"] == "en" and message["dir"] == "ltr"
    assert message["kind"] == "answer" and message["version"] == store.get("procedure.pain").version
    assert message["text"].startswith(store.get("procedure.pain").text["en"])
    assert [b["payload"] for b in message["buttons"]][0].startswith("/ask_topic")
    assert slots == {"language": "en", "region": "GB", "named_region": None}


def test_a_personal_question_in_roman_urdu_goes_to_a_clinician_in_urdu(store):
    message, slots = run_action("pregnant_roman_ur")
    assert message["answer_id"] == "safety.clinician_redirect" and message["kind"] == "safety"
    assert message["lang"] == "ur" and message["dir"] == "rtl"
    assert slots["language"] == "ur"


def test_a_reported_reaction_gets_the_saudi_emergency_number(store):
    message, slots = run_action("urgent_ar_sa")
    assert message["answer_id"] == "safety.urgent" and message["kind"] == "urgent" and message["lang"] == "ar"
    assert store.regions.get("SA").emergency["ar"] in message["text"]
    assert slots == {"language": "ar", "region": "SA", "named_region": None}


def test_ok_keeps_the_conversation_in_urdu():
    message, slots = run_action("ok_keeps_urdu")
    assert message["answer_id"] == "fallback.not_understood" and message["lang"] == "ur"
    assert slots == {"language": "ur", "region": "PK", "named_region": None}
    assert message["buttons"], "the fallback offers topic buttons"


def test_the_published_verdict_is_read_not_recomputed(store):
    # The pipeline's classifier escalated a message the rules alone would let through.
    message, _ = run_action("classifier_urgent_en")
    assert message["answer_id"] == "safety.urgent"


def test_a_named_place_is_remembered(store):
    message, slots = run_action("named_place_pk")
    assert message["answer_id"] == "safety.urgent" and "1122" in message["text"]
    assert slots["named_region"] == "PK" and slots["region"] == "PK"


def test_a_topic_button(store):
    message, _ = run_action("button_sessions")
    assert message["answer_id"] == "procedure.sessions" and message["lang"] == "ar"
    assert message["text"].startswith(store.get("procedure.sessions").text["ar"])
