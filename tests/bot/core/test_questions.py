"""Finding the questions of one message, and choosing which of them to answer."""

import pytest

from bot.core.questions import MAX_ANSWERS, Part, answers_for_parts, parts_from, question_parts

SAFETY = {"urgent": "safety.urgent", "personal": "safety.clinician_redirect"}


@pytest.mark.parametrize(
    "text, parts",
    [
        ("how many sessions and how much", ["how many sessions", "how much"]),
        ("does it hurt and how long is the recovery?", ["does it hurt", "how long is the recovery?"]),
        ("what is it? is it painful?", ["what is it?", "is it painful?"]),
        ("كم جلسة احتاج وكم السعر", ["كم جلسة احتاج", "كم السعر"]),
        ("يعور؟ وشكد يبقى الاحمرار", ["يعور؟", "شكد يبقى الاحمرار"]),
        ("بيوجع؟ و الوش بيقعد احمر قد ايه", ["بيوجع؟", "الوش بيقعد احمر قد ايه"]),
        ("کیا درد ہوتا ہے اور کتنے سیشن لگتے ہیں", ["کیا درد ہوتا ہے", "کتنے سیشن لگتے ہیں"]),
        ("dard hota hai? aur kitne din laal rehta hai", ["dard hota hai?", "kitne din laal rehta hai"]),
        ("kitne sessions lagenge aur kharcha kitna hai", ["kitne sessions lagenge", "kharcha kitna hai"]),
    ],
    ids=[
        "en-and",
        "en-marks",
        "ar-msa-wa",
        "ar-gulf-joined",
        "ar-egyptian",
        "ur",
        "roman-mark",
        "roman-aur",
        "roman-aur-2",
    ],
)
def test_two_questions_are_found_in_every_written_form(text, parts):
    assert question_parts(text) == parts


@pytest.mark.parametrize(
    "text, question",
    [
        ("salam, does it hurt?", "does it hurt?"),
        ("hi there how much is a session", "how much is a session"),
        ("هلا والله، وش يعني ميزو", "وش يعني ميزو"),
        ("هلو شلونكم شكد سعر الجلسة", "شكد سعر الجلسة"),
        ("مرحبا عيني قديش بتطول النتيجة", "قديش بتطول النتيجة"),
        ("السلام علیکم، نتیجہ کب تک رہتا ہے؟", "نتیجہ کب تک رہتا ہے؟"),
        ("aoa doctor sahab kharcha kitna hai", "kharcha kitna hai"),
        ("ok and how long does it last", "how long does it last"),
    ],
)
def test_a_greeting_or_ok_before_a_question_leaves_the_question(text, question):
    assert question_parts(text) == [question]


@pytest.mark.parametrize(
    "text",
    [
        "what is mesotherapy",  # one question
        "how much for the neck at the basra branch",  # a place is not a second question
        "for the neck in Basra, how much?",  # context before the question stays with it
        "how much for the face and the neck",  # "and" without a question after it
        "is it done at a salon or a clinic",
        "الوجه و الرقبة بكام",
        "I had meso two years ago and it was fine, now I want it for my hair, how much is it?",
        "hello",
        "ok",
        "great thanks",
        "👍",
        "",
        '/ask_topic{"topic":"procedure.pain"}',
    ],
)
def test_one_question_is_read_whole(text):
    assert question_parts(text) == []


def test_very_long_messages_and_long_lists_are_read_whole():
    assert question_parts("what is it? " * 100) == []
    assert question_parts("what? why? how? when? who?") == []


def _parts(*items):
    return [Part(text, intent, confidence, verdict) for text, intent, confidence, verdict in items]


def test_each_distinct_confident_information_question_is_answered_in_order(store):
    parts = _parts(
        ("how many sessions", "ask_sessions", 0.9, None),
        ("how much", "ask_cost", 0.95, None),
        ("and the price?", "ask_cost", 0.8, None),
    )
    assert answers_for_parts(parts, store, SAFETY) == ["procedure.sessions", "booking.cost"]


def test_greetings_fallbacks_and_unsure_parts_answer_nothing(store):
    parts = _parts(
        ("hello", "greet", 0.99, None),
        ("blorp", "nlu_fallback", 0.45, None),
        ("maybe cost", "ask_cost", 0.3, None),
        ("does it hurt", "ask_pain", 0.9, None),
    )
    assert answers_for_parts(parts, store, SAFETY) == ["procedure.pain"]
    assert answers_for_parts(_parts(("ok", "acknowledge", 0.99, None)), store, SAFETY) == []


def test_a_part_the_safety_layer_escalated_is_answered_first(store):
    parts = _parts(
        ("what is it", "ask_what_is", 0.9, None),
        ("my face is swollen and hot", "report_adverse_reaction", 1.0, "urgent"),
        ("i take warfarin", "personal_medical_question", 1.0, "personal"),
    )
    assert answers_for_parts(parts, store, SAFETY) == [
        "safety.urgent",
        "safety.clinician_redirect",
        "about.what_is",
    ]


def test_a_handoff_request_is_a_question_too(store):
    parts = _parts(("how much", "ask_cost", 0.9, None), ("can i talk to someone", "request_human", 0.9, None))
    assert answers_for_parts(parts, store, SAFETY) == ["booking.cost", "handoff.human"]


def test_at_most_three_answers(store):
    intents = ["ask_pain", "ask_cost", "ask_sessions", "ask_results"]
    parts = _parts(*[(i, i, 0.9, None) for i in intents])
    assert len(answers_for_parts(parts, store, SAFETY)) == MAX_ANSWERS


def test_published_parts_are_read_defensively():
    assert parts_from(None) == () and parts_from("junk") == () and parts_from([1, "x"]) == ()
    read = parts_from(
        [
            {
                "text": "how much",
                "intent": "ask_cost",
                "confidence": "0.9",
                "safety": {"verdict": "personal", "by": ["rules"]},
            },
            {"text": "hi", "intent": "greet", "confidence": None, "safety": None},
        ]
    )
    assert read == (Part("how much", "ask_cost", 0.9, "personal"), Part("hi", "greet", 0.0, None))
