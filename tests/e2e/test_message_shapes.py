"""No message shape switches the safety decision off, on the web channel (issue 11).

WhatsApp gets the same shapes in tests/e2e/test_whatsapp.py.
"""

import pytest

from tests.support.shapes import REPLY_LANGUAGE, REPORTS, SHAPES

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("form", sorted(REPORTS))
def test_a_reported_reaction_in_any_shape_gets_urgent_care(conversation, form, shape):
    replies = conversation(region="PK").say(SHAPES[shape](REPORTS[form]))
    assert replies[0]["answer_id"] == "safety.urgent", (form, shape, replies[0].get("answer_id"))
    assert replies[0]["lang"] == REPLY_LANGUAGE[form]
    assert "1122" in replies[0]["text"].translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
    )


def test_the_bots_own_button_still_works(conversation):
    chat = conversation()
    chat.say("does it hurt?")
    replies = chat.say('/ask_topic{"topic":"procedure.sessions"}')
    assert replies[0]["answer_id"] == "procedure.sessions"


@pytest.mark.parametrize("text", ["/restart", "/session_start"])
def test_typed_control_commands_are_refused_and_restart_nothing(bot, conversation, tracker_events, text):
    from bot.tools.servers import say

    chat = conversation()
    chat.say("does it hurt?")
    status, body = say(bot.webhook, chat.sender, text)
    assert status == 400 and body["code"] == "reserved_command"
    kinds = [kind for kind, _ in tracker_events(chat.sender)]
    assert "restart" not in kinds and kinds.count("session_started") <= 1


def test_other_typed_intents_are_read_as_words(conversation):
    replies = conversation().say("/greet")
    assert replies[0]["answer_id"] and replies[0]["answer_id"] != "safety.urgent"


def test_a_place_named_beats_the_browser_locale(conversation):
    replies = conversation(locale="en-GB").say(
        "I'm in Karachi and my face is swollen and hot since the injections"
    )
    assert replies[0]["answer_id"] == "safety.urgent" and "1122" in replies[0]["text"]
    assert "999" not in replies[0]["text"]


def test_a_page_region_and_a_locale_that_disagree_give_both_numbers(conversation):
    replies = conversation(region="GB", locale="ar-SA").say("my lips are swelling after the injections")
    text = replies[0]["text"]
    assert replies[0]["answer_id"] == "safety.urgent" and "999" in text and "997" in text
    assert text.index("999") < text.index("997")


def test_spanish_and_portuguese_reactions_get_urgent_care_with_the_regions_number(conversation):
    mx = conversation(region="MX", locale="es-MX").say("no puedo respirar y tengo los labios hinchados")
    assert mx[0]["answer_id"] == "safety.urgent" and "911" in mx[0]["text"] and mx[0]["lang"] == "en"
    br = conversation(region="BR", locale="pt-BR").say("não consigo respirar, lábios inchando")
    assert br[0]["answer_id"] == "safety.urgent" and "192" in br[0]["text"]
