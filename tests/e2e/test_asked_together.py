"""Several things in one message, through the web channel (issue 13, understanding).

Two questions in one message get both answers (one bot message each, with its answer id),
a greeting before a question gets the question's answer, a plain greeting is a greeting,
"ok" / 👍 / thanks after an answer is an acknowledgement, never a goodbye, and a message the
safety layer escalates gets the safety reply alone, whatever else it asks. The sentences are
written for these tests: they are neither training examples nor evaluation messages.
"""

import pytest

pytestmark = pytest.mark.e2e

REPLY = {"en": ("en", "ltr"), "ar": ("ar", "rtl"), "ur": ("ur", "rtl"), "roman_ur": ("ur", "rtl")}


def _ids(replies):
    return [r["answer_id"] for r in replies]


@pytest.mark.parametrize(
    "form, message, expected",
    [
        (
            "en",
            "would it hurt much and how many sessions do people usually need?",
            ["procedure.pain", "procedure.sessions"],
        ),
        (
            "en",
            "what exactly is mesotherapy? and what does a session cost",
            ["about.what_is", "booking.cost"],
        ),
        ("ar", "كم جلسة يحتاج الشخص عادة؟ وهل الحقن مؤلمة", ["procedure.sessions", "procedure.pain"]),
        ("ar", "شو هو الميزو وقديش سعر الجلسة", ["about.what_is", "booking.cost"]),
        (
            "ur",
            "کیا انجیکشن سے درد ہوتا ہے اور عام طور پر کتنے سیشن لگتے ہیں؟",
            ["procedure.pain", "procedure.sessions"],
        ),
        (
            "roman_ur",
            "is mein dard hota hai kya? aur ek session ki fees kitni hai",
            ["procedure.pain", "booking.cost"],
        ),
    ],
    ids=["en-and", "en-marks", "ar-msa", "ar-levantine", "ur", "roman_ur"],
)
def test_two_questions_in_one_message_are_both_answered(conversation, form, message, expected):
    replies = conversation().say(message)
    assert _ids(replies) == expected, message
    for reply in replies:
        assert (reply["lang"], reply["dir"]) == REPLY[form]
    assert not any(r.get("buttons") for r in replies[:-1]), "follow-up buttons under the last answer only"


@pytest.mark.parametrize(
    "form, message, expected",
    [
        ("en", "hey there! how long do the results last?", "procedure.results"),
        ("ar", "هلا والله، بكم جلسة الميزو عندكم؟", "booking.cost"),
        ("ar", "مرحبا، شو يعني ميزوثيرابي", "about.what_is"),
        ("ur", "السلام علیکم، کیا اس میں درد ہوتا ہے؟", "procedure.pain"),
        ("roman_ur", "aoa ji, ek session kitne ka hai", "booking.cost"),
    ],
    ids=["en", "ar-gulf", "ar-levantine", "ur", "roman_ur"],
)
def test_a_greeting_before_a_question_gets_the_questions_answer(conversation, form, message, expected):
    replies = conversation().say(message)
    assert _ids(replies) == [expected], message
    assert (replies[0]["lang"], replies[0]["dir"]) == REPLY[form]


@pytest.mark.parametrize(
    "form, message",
    [
        ("en", "hello"),
        ("en", "hi"),
        ("en", "good evening"),
        ("ar", "مرحبا"),
        ("ar", "السلام عليكم"),
        ("ur", "السلام علیکم"),
        ("roman_ur", "aoa"),
        ("roman_ur", "salam"),
        ("en", "/greet"),  # what the widget sends when it opens
    ],
)
def test_a_plain_greeting_is_a_greeting(conversation, form, message):
    replies = conversation().say(message)
    assert _ids(replies) == ["chitchat.greet"], message


@pytest.mark.parametrize(
    "question, acks",
    [
        (
            "does mesotherapy hurt?",
            [
                ("ok", "chitchat.acknowledge"),
                ("👍", "chitchat.acknowledge"),
                ("great thanks", "chitchat.thanks"),
            ],
        ),
        ("هل الميزو مؤلم؟", [("تمام", "chitchat.acknowledge"), ("شكرا", "chitchat.thanks")]),
        (
            "کیا میسوتھراپی میں درد ہوتا ہے؟",
            [("ٹھیک ہے", "chitchat.acknowledge"), ("شکریہ", "chitchat.thanks")],
        ),
        (
            "kya meso mein dard hota hai?",
            [("theek hai", "chitchat.acknowledge"), ("shukriya", "chitchat.thanks")],
        ),
    ],
    ids=["en", "ar", "ur", "roman_ur"],
)
def test_ok_or_thanks_after_an_answer_is_an_acknowledgement(conversation, question, acks):
    c = conversation()
    assert _ids(c.say(question)) == ["procedure.pain"]
    for said, expected in acks:
        assert _ids(c.say(said)) == [expected], said


@pytest.mark.parametrize(
    "message, expected",
    [
        (
            "my lips have been swelling up since the session this morning, and how much is the next one?",
            "safety.urgent",
        ),
        ("شفايفي منتفخة من امس بعد الجلسة وتحكني، وكم سعر الجلسة الثانية؟", "safety.urgent"),
        (
            "i'm 5 months pregnant, can i still have it and how much does it cost?",
            "safety.clinician_redirect",
        ),
        (
            "main warfarin leti hoon kya main meso karwa sakti hoon aur kitne sessions lagenge",
            "safety.clinician_redirect",
        ),
    ],
    ids=["en-urgent", "ar-urgent", "en-personal", "roman_ur-personal"],
)
def test_a_safety_message_with_two_questions_gets_the_safety_reply_only(conversation, message, expected):
    replies = conversation().say(message)
    assert _ids(replies) == [expected], message
