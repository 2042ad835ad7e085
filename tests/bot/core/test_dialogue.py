"""One decision per turn: which answer, which language, which region."""

import pytest

from bot.core.dialogue import Turn, decide
from bot.core.safety import default_guard


def _decide(store, **turn):
    return decide(store, Turn(**turn), default_guard())


def test_an_information_intent_gets_its_answer(store):
    d = _decide(store, text="does it hurt?", intent="ask_pain")
    assert (d.answer_id, d.language, d.region) == ("procedure.pain", "en", None)


def test_the_guard_overrides_an_information_intent(store):
    d = _decide(store, text="does it hurt? I'm 4 months pregnant", intent="ask_pain")
    assert d.answer_id == "safety.clinician_redirect" and d.guard == "personal"
    d = _decide(
        store, text="is it normal that my face is swollen and hot with pus?", intent="ask_side_effects"
    )
    assert d.answer_id == "safety.urgent" and d.guard == "urgent"


def test_the_guard_never_downgrades_a_safety_intent(store):
    assert _decide(store, text="help", intent="report_adverse_reaction").answer_id == "safety.urgent"
    assert (
        _decide(store, text="what about me", intent="personal_medical_question").answer_id
        == "safety.clinician_redirect"
    )


def test_urgent_wins_over_personal_from_the_model(store):
    d = _decide(
        store, text="my face is swollen and hot since the injections", intent="personal_medical_question"
    )
    assert d.answer_id == "safety.urgent"


def test_low_confidence_and_unknown_intents_fall_back(store):
    assert _decide(store, text="blorp", intent="nlu_fallback").answer_id == "fallback.not_understood"
    assert _decide(store, text="blorp", intent=None).answer_id == "fallback.not_understood"


def test_a_topic_button_answers_that_topic_in_the_conversation_language(store):
    d = _decide(
        store,
        text='/ask_topic{"topic":"procedure.sessions"}',
        intent="ask_topic",
        entities={"topic": "procedure.sessions"},
        language="ur",
    )
    assert (d.answer_id, d.language) == ("procedure.sessions", "ur")
    d = _decide(
        store,
        text='/ask_topic{"topic":"nope"}',
        intent="ask_topic",
        entities={"topic": "nope"},
        language="ar",
    )
    assert (d.answer_id, d.language) == ("fallback.not_understood", "ar")


@pytest.mark.parametrize(
    "text, lang", [("English please", "en"), ("عربي", "ar"), ("اردو", "ur"), ("urdu mein baat karo", "ur")]
)
def test_switching_language(store, text, lang):
    d = _decide(store, text=text, intent="switch_language", language="en" if lang != "en" else "ar")
    assert (d.answer_id, d.language) == ("system.language_switched", lang)


def test_region_comes_from_the_page_or_locale_and_a_named_place_sticks(store):
    assert _decide(store, text="hi", intent="greet", metadata={"region": "SA"}).region == "SA"
    assert _decide(store, text="hi", intent="greet", metadata={"locale": "ur-PK"}).region == "PK"
    named = _decide(store, text="I'm in Karachi", intent="greet", metadata={"locale": "en-GB"})
    assert (named.region, named.named_region) == ("PK", "PK")
    later = _decide(
        store,
        text="my lips are swelling",
        intent="report_adverse_reaction",
        metadata={"locale": "en-GB"},
        named_region="PK",
    )
    assert (later.region, later.also_regions) == ("PK", ())


def test_the_urgent_reply_gives_both_numbers_when_clues_disagree(store):
    from bot.core.replies import compose_reply

    d = _decide(
        store,
        text="my face is swollen and hot since the injections",
        intent="report_adverse_reaction",
        metadata={"phone_region": "PK", "region": "AE"},
    )
    assert (d.region, d.also_regions) == ("PK", ("AE",))
    text = compose_reply(store, d.answer_id, "en", d.region, d.also_regions).text
    assert text.index("1122") < text.index("998")
    ar = compose_reply(store, d.answer_id, "ar", d.region, d.also_regions).text
    assert "1122" in ar and "998" in ar


def test_the_published_verdict_decides_not_a_second_check(store):
    from bot.core.safety import SafetyClass, SafetyVerdict

    urgent = SafetyVerdict(SafetyClass.URGENT, by=("classifier",))
    assert _decide(store, text="something odd", intent="ask_pain", safety=urgent).answer_id == "safety.urgent"
    calm = SafetyVerdict(None)
    assert _decide(store, text="does it hurt?", intent="ask_pain", safety=calm).answer_id == "procedure.pain"


def test_a_message_without_a_published_verdict_is_still_checked(store):
    # e.g. a model trained before the safety layer: the action decides rather than answer unchecked.
    d = _decide(store, text="my face is swollen and hot since the injections", intent="ask_pain")
    assert d.answer_id == "safety.urgent"


@pytest.mark.parametrize(
    "text",
    [
        "/my face is swollen and hot since the injections",
        '/ask_topic{"topic":"procedure.pain"} my face is swollen and hot and I have a fever',
        '/ask_topic{"topic": "procedure.pain"}',
    ],
)
def test_only_an_exact_payload_is_a_button(store, text):
    turn = Turn(text=text, intent="ask_topic", entities={"topic": "procedure.pain"})
    assert not turn.is_button


def test_not_understood_about_treatment_gets_the_safety_net(store):
    from bot.core.safety import SafetyVerdict

    vague = SafetyVerdict(None, mentions_health=True)
    assert (
        _decide(store, text="my cheek since the meso hmm", intent="nlu_fallback", safety=vague).answer_id
        == "fallback.safety_net"
    )
    assert (
        _decide(store, text="qwzx plorb", intent="nlu_fallback", safety=SafetyVerdict(None)).answer_id
        == "fallback.not_understood"
    )


def _parts(*items):
    from bot.core.questions import Part

    return tuple(Part(text, intent, 0.9, verdict) for text, intent, verdict in items)


def test_each_question_of_a_message_gets_its_answer_in_order(store):
    from bot.core.safety import SafetyVerdict

    d = _decide(
        store,
        text="does it hurt and how many sessions",
        intent="ask_pain",
        safety=SafetyVerdict(None),
        questions=_parts(("does it hurt", "ask_pain", None), ("how many sessions", "ask_sessions", None)),
    )
    assert d.answer_ids == ("procedure.pain", "procedure.sessions") and d.answer_id == "procedure.pain"


def test_a_greeting_before_a_question_gets_the_questions_answer(store):
    from bot.core.safety import SafetyVerdict

    d = _decide(
        store,
        text="hi there, how much is it",
        intent="greet",
        safety=SafetyVerdict(None),
        questions=_parts(("how much is it", "ask_cost", None)),
    )
    assert d.answer_ids == ("booking.cost",)


def test_a_message_the_safety_layer_escalated_is_never_answered_in_parts(store):
    from bot.core.safety import SafetyClass, SafetyVerdict

    urgent = SafetyVerdict(SafetyClass.URGENT, by=("classifier",))
    d = _decide(
        store,
        text="my lips are swelling and how much is the next session",
        intent="ask_cost",
        safety=urgent,
        questions=_parts(
            ("my lips are swelling", "ask_side_effects", None),
            ("how much is the next session", "ask_cost", None),
        ),
    )
    assert d.answer_ids == ("safety.urgent",)


def test_parts_nobody_is_sure_of_leave_the_whole_messages_answer(store):
    from bot.core.questions import Part
    from bot.core.safety import SafetyVerdict

    d = _decide(
        store,
        text="hmm and so what",
        intent="ask_what_is",
        safety=SafetyVerdict(None),
        questions=(Part("hmm", "nlu_fallback", 0.3), Part("so what", "ask_cost", 0.2)),
    )
    assert d.answer_ids == ("about.what_is",)
