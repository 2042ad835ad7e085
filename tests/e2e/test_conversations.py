"""Real conversations over the web channel, in English, Arabic and Urdu."""

import json

import pytest

from bot.tools.servers import say

pytestmark = pytest.mark.e2e
FIELDS = {"recipient_id", "text", "answer_id", "lang", "dir", "kind", "version"}


def test_an_english_conversation(conversation, store):
    c = conversation()
    greeting = c.say("hello")[0]
    assert greeting["answer_id"] == "chitchat.greet" and greeting["lang"] == "en"
    reply = c.say("does it hurt?")[0]
    assert FIELDS <= set(reply) and reply["recipient_id"] == c.sender
    assert (reply["answer_id"], reply["lang"], reply["dir"], reply["kind"]) == (
        "procedure.pain",
        "en",
        "ltr",
        "answer",
    )
    assert reply["version"] == store.get("procedure.pain").version
    button = reply["buttons"][0]
    followed = c.say(button["payload"])[0]
    assert followed["answer_id"] == json.loads(button["payload"][len("/ask_topic") :])["topic"]
    assert followed["lang"] == "en"


def test_an_arabic_conversation(conversation, store):
    c = conversation(locale="ar-SA")
    reply = c.say("هل الميزوثيرابي مؤلم؟")[0]
    assert (reply["answer_id"], reply["lang"], reply["dir"]) == ("procedure.pain", "ar", "rtl")
    assert reply["text"].startswith(store.get("procedure.pain").text["ar"])
    reply = c.say("كم جلسة احتاج؟")[0]
    assert (reply["answer_id"], reply["lang"]) == ("procedure.sessions", "ar")


def test_an_urdu_conversation(conversation):
    c = conversation()
    reply = c.say("کیا میزوتھراپی میں درد ہوتا ہے؟")[0]
    assert (reply["answer_id"], reply["lang"], reply["dir"]) == ("procedure.pain", "ur", "rtl")
    reply = c.say("mesotherapy ke kitne sessions lagte hain")[0]
    assert (reply["answer_id"], reply["lang"]) == ("procedure.sessions", "ur")


def test_switching_language_and_keeping_it(conversation):
    c = conversation()
    assert c.say("what is mesotherapy?")[0]["lang"] == "en"
    switched = c.say("عربي")[0]
    assert (switched["answer_id"], switched["lang"]) == ("system.language_switched", "ar")
    assert c.say("ok")[0]["lang"] == "ar"
    back = c.say("English please")[0]
    assert (back["answer_id"], back["lang"]) == ("system.language_switched", "en")


@pytest.mark.parametrize(
    "message, lang",
    [
        ("I'm pregnant, can I have it?", "en"),
        ("I take warfarin, is that a problem?", "en"),
        ("أنا حامل، هل أقدر أسوي ميزوثيرابي؟", "ar"),
        ("main pregnant hoon kya meso karwa sakti hoon", "ur"),
    ],
)
def test_personal_questions_go_to_a_clinician(conversation, message, lang):
    reply = conversation().say(message)[0]
    assert (reply["answer_id"], reply["kind"], reply["lang"]) == ("safety.clinician_redirect", "safety", lang)


def test_a_reaction_gets_the_regions_emergency_number(conversation, store):
    reply = conversation(region="SA").say("my face is swollen and hot since the injections, I have a fever")[
        0
    ]
    assert (reply["answer_id"], reply["kind"]) == ("safety.urgent", "urgent")
    assert store.regions.get("SA").emergency["en"] in reply["text"]
    reply = conversation(locale="ur-PK").say("میرا چہرہ سوج گیا ہے اور بخار ہے")[0]
    assert reply["answer_id"] == "safety.urgent" and reply["lang"] == "ur"
    assert store.regions.get("PK").emergency["ur"] in reply["text"]


def test_a_reaction_with_no_known_region_gets_the_general_instruction(conversation, store):
    reply = conversation().say("there is pus where they injected and I have a fever")[0]
    assert reply["answer_id"] == "safety.urgent"
    assert store.regions.unknown.emergency["en"] in reply["text"]


def test_off_topic_and_gibberish(conversation):
    assert (
        conversation().say("what's the weather like in London tomorrow?")[0]["answer_id"]
        == "fallback.out_of_scope"
    )
    reply = conversation().say("qwzx plorb vnnt")[0]
    assert reply["answer_id"] in ("fallback.not_understood", "fallback.out_of_scope")
    assert reply["buttons"]


def test_bad_input_gets_a_clear_error_and_the_conversation_survives(bot, conversation):
    c = conversation()
    assert c.say("مرحبا")[0]["lang"] == "ar"
    for message, code in [("", "empty_message"), ("x" * 10_000, "message_too_long")]:
        status, body = say(bot.webhook, c.sender, message)
        assert status == 400 and body["code"] == code and body["error"]
    import urllib.request

    for raw in (b"{not json", b"\xff\xfe\xfd", b'{"sender": "x"}'):
        request = urllib.request.Request(bot.webhook, data=raw, headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("accepted a bad body")
        except urllib.error.HTTPError as err:
            assert err.code == 400 and "error" in json.loads(err.read())
    html = c.say("<img src=x onerror=alert(1)><b>هل</b> يؤلم؟")[0]
    assert html["lang"] == "ar" and "<" not in html["text"]
    assert c.say("ok")[0]["lang"] == "ar", "the conversation kept its language after bad input"


def test_the_tracker_store_keeps_what_the_person_saw(conversation, tracker_events):
    c = conversation(region="GB")
    reply = c.say("how many sessions do I need?")[0]
    bot_events = [json.loads(data) for kind, data in tracker_events(c.sender) if kind == "bot"]
    assert bot_events, "the conversation is in the SQLite tracker store"
    metadata = bot_events[-1]["metadata"]
    for key in ("answer_id", "lang", "dir", "kind", "version"):
        assert metadata[key] == reply[key]
    user_events = [json.loads(data) for kind, data in tracker_events(c.sender) if kind == "user"]
    assert user_events[-1]["metadata"]["region"] == "GB"
