"""The web channel's request checks, without a server."""

import json

import pytest

from bot.rasa_server.channels._sanitize import clean_user_text
from bot.rasa_server.channels.webchat import BadRequest, parse_request


def _body(**payload) -> bytes:
    return json.dumps(payload).encode()


def test_a_good_request():
    parsed = parse_request(
        _body(
            sender="abc-123",
            message="does it hurt?",
            metadata={"locale": "ar-SA", "region": "sa", "x": "dropped"},
        ),
        2000,
    )
    assert parsed == {
        "sender": "abc-123",
        "text": "does it hurt?",
        "metadata": {"locale": "ar-SA", "region": "SA"},
        "conversation_key": None,
        "message_id": None,
        "retry": False,
    }
    keyed = parse_request(_body(sender="abc-123", message="ok", conversation_key="Ab_-09"), 2000)
    assert keyed["conversation_key"] == "Ab_-09"


def test_a_message_sent_again_keeps_its_id():
    """The widget's "Try again" sends the same message_id with retry: true (bot/rasa_server/channels/_resend.py)."""
    again = parse_request(_body(sender="abc", message="ok", message_id="0123abcd" * 4, retry=True), 2000)
    assert (again["message_id"], again["retry"]) == ("0123abcd" * 4, True)
    # retry means nothing without an id: there is nothing to look up
    assert parse_request(_body(sender="abc", message="ok", retry=True), 2000)["retry"] is False
    assert (
        parse_request(_body(sender="abc", message="ok", message_id="abcdefgh", retry="yes"), 2000)["retry"]
        is False
    )


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", "invalid_json"),
        (b"\xff\xfe\x00", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (_body(message="hi"), "invalid_sender"),
        (_body(sender="", message="hi"), "invalid_sender"),
        (_body(sender="a b <script>", message="hi"), "invalid_sender"),
        (_body(sender="abc"), "invalid_message"),
        (_body(sender="abc", message=42), "invalid_message"),
        (_body(sender="abc", message="   "), "empty_message"),
        (_body(sender="abc", message="<b></b>"), "empty_message"),
        (_body(sender="abc", message="x" * 2001), "message_too_long"),
        (b"{" + b" " * 70000 + b"}", "body_too_large"),
        # issue 12, finding 9: each of these was a 500 or a 503 "try again"
        (
            b'{"sender": "abc", "message": "hi", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "invalid_json",
        ),
        (b'{"sender": "abc", "message": "x\\ud800y"}', "invalid_message"),
        (_body(sender="abc", message="/restart"), "reserved_command"),
        (_body(sender="abc", message=" /session_start "), "reserved_command"),
        (_body(sender="abc", message='/restart{"a": 1}'), "reserved_command"),
        (_body(sender="abc", message="/back"), "reserved_command"),
        # finding 8: WhatsApp's id space is not the web's
        (_body(sender="wa-0123456789abcdef0123456789abcdef", message="hi"), "invalid_sender"),
        (_body(sender="WA-x", message="hi"), "invalid_sender"),
        (_body(sender="abc", message="hi", conversation_key="not a key!"), "invalid_conversation_key"),
        (_body(sender="abc", message="hi", conversation_key=5), "invalid_conversation_key"),
        (_body(sender="abc", message="hi", message_id="short"), "invalid_message_id"),
        (_body(sender="abc", message="hi", message_id="<script>alert(1)</script>"), "invalid_message_id"),
        (_body(sender="abc", message="hi", message_id=12345678), "invalid_message_id"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(body, code):
    with pytest.raises(BadRequest) as err:
        parse_request(body, 2000)
    assert err.value.code == code and str(err.value)


def test_bad_metadata_is_ignored():
    parsed = parse_request(
        _body(sender="abc", message="hi", metadata={"locale": "<script>", "region": 5}), 2000
    )
    assert parsed["metadata"] == {}
    assert parse_request(_body(sender="abc", message="hi", metadata="nope"), 2000)["metadata"] == {}


def test_markup_and_control_characters_are_removed():
    assert clean_user_text("<b>does</b> it\x00 hurt?<script>x</script>") == "does it hurt? x"
    assert clean_user_text("&lt;img src=x onerror=alert(1)&gt; hi") == "hi"
    assert clean_user_text("هل\u200f يؤلم") == "هل\u200f يؤلم"  # bidi marks are text, not markup
    assert clean_user_text("<img/src=x onerror=alert(1)>ok <!-- note --> <a href='x'>link</a>") == "ok link"


@pytest.mark.parametrize(
    "text",
    [
        "I am <18 years old and my sister is >25, is it safe for us?",  # issue 14, finding 5
        "is it ok if I am < 18?",
        "3<5 and 7>2",
        "i <3 my clinic >_<",
        "عمري <18 سنة وأختي >25",
        "meri umar <18 hai",
    ],
)
def test_comparison_signs_are_words_not_markup(text):
    """Only a real tag ("<" and a letter, "/" or "!", up to ">") is markup: "<18" and ">25" stay."""
    assert clean_user_text(text) == text
    assert clean_user_text(text.replace("<", "&lt;").replace(">", "&gt;")) == text


def test_words_that_only_look_like_commands_are_messages():
    for text in ("restart", '/ask_topic{"topic":"procedure.pain"}', "how do I go back?"):
        assert parse_request(_body(sender="abc", message=text), 2000)["text"] == text
    # A leading "/" is not Rasa's to read: the words go on, and the safety decision reads them.
    for text, words in (
        ("/restart now", "restart now"),
        ("/backup", "backup"),
        (
            '/ask_topic{"topic":"procedure.pain"} my face is swollen',
            'ask_topic{"topic":"procedure.pain"} my face is swollen',
        ),
    ):
        assert parse_request(_body(sender="abc", message=text), 2000)["text"] == words


def test_link_buttons_come_first_and_only_safe_ones():
    """The clinic's phone, WhatsApp and booking page are `url` buttons (docs/webchat-channel.md)."""
    import asyncio

    from bot.rasa_server.channels.webchat import WebchatOutput

    message = {
        "text": "Call us",
        "kind": "handoff",
        "answer_id": "handoff.human",
        "lang": "en",
        "buttons": [
            {"title": "Book a consultation", "payload": '/ask_topic{"topic":"booking.consultation"}'}
        ],
        "links": [
            {"title": "Call the clinic", "url": "tel:+442079460000"},
            {"title": "Message on WhatsApp", "url": "https://wa.me/447700900000"},
            {"title": "Evil", "url": "javascript:alert(1)"},
            "not a link",
        ],
    }
    for contact_form in (True, False):
        output = WebchatOutput(contact_form=contact_form)
        asyncio.run(output.send_response("web-1", dict(message)))
        sent = output.messages[0]
        assert sent["buttons"] == [
            {"title": "Call the clinic", "url": "tel:+442079460000"},
            {"title": "Message on WhatsApp", "url": "https://wa.me/447700900000"},
            {"title": "Book a consultation", "payload": '/ask_topic{"topic":"booking.consultation"}'},
        ]
        # the contact form is offered under a handoff reply only when staff can receive it
        assert sent.get("contact_form", False) is contact_form
    output = WebchatOutput(contact_form=True)
    asyncio.run(output.send_response("web-1", {"text": "x", "kind": "answer"}))
    assert "contact_form" not in output.messages[0] and "buttons" not in output.messages[0]
