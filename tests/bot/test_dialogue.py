"""One decision per turn: which answer, which language, which region."""

import pytest

from bot.dialogue import Turn, decide
from bot.safety import default_guard


def _decide(store, **turn):
    return decide(store, Turn(**turn), default_guard())


def test_an_information_intent_gets_its_answer(store):
    d = _decide(store, text="does it hurt?", intent="ask_pain")
    assert (d.answer_id, d.language, d.region) == ("procedure.pain", "en", None)


def test_the_guard_overrides_an_information_intent(store):
    d = _decide(store, text="does it hurt? I'm 4 months pregnant", intent="ask_pain")
    assert d.answer_id == "safety.clinician_redirect" and d.guard == "personal"
    d = _decide(store, text="is it normal that my face is swollen and hot with pus?", intent="ask_side_effects")
    assert d.answer_id == "safety.urgent" and d.guard == "urgent"


def test_the_guard_never_downgrades_a_safety_intent(store):
    assert _decide(store, text="help", intent="report_adverse_reaction").answer_id == "safety.urgent"
    assert _decide(store, text="what about me", intent="personal_medical_question").answer_id == \
        "safety.clinician_redirect"


def test_urgent_wins_over_personal_from_the_model(store):
    d = _decide(store, text="my face is swollen and hot since the injections", intent="personal_medical_question")
    assert d.answer_id == "safety.urgent"


def test_low_confidence_and_unknown_intents_fall_back(store):
    assert _decide(store, text="blorp", intent="nlu_fallback").answer_id == "fallback.not_understood"
    assert _decide(store, text="blorp", intent=None).answer_id == "fallback.not_understood"


def test_a_topic_button_answers_that_topic_in_the_conversation_language(store):
    d = _decide(store, text='/ask_topic{"topic":"procedure.sessions"}', intent="ask_topic",
                entities={"topic": "procedure.sessions"}, language="ur")
    assert (d.answer_id, d.language) == ("procedure.sessions", "ur")
    d = _decide(store, text='/ask_topic{"topic":"nope"}', intent="ask_topic", entities={"topic": "nope"}, language="ar")
    assert (d.answer_id, d.language) == ("fallback.not_understood", "ar")


@pytest.mark.parametrize("text, lang", [("English please", "en"), ("عربي", "ar"), ("اردو", "ur"),
                                        ("urdu mein baat karo", "ur")])
def test_switching_language(store, text, lang):
    d = _decide(store, text=text, intent="switch_language", language="en" if lang != "en" else "ar")
    assert (d.answer_id, d.language) == ("system.language_switched", lang)


def test_region_comes_from_the_page_and_sticks(store):
    assert _decide(store, text="hi", intent="greet", metadata={"region": "SA"}).region == "SA"
    assert _decide(store, text="hi", intent="greet", region="SA").region == "SA"
    assert _decide(store, text="hi", intent="greet", metadata={"locale": "ur-PK"}).region == "PK"
