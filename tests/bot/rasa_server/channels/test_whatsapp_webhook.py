"""Reading Meta's webhook deliveries: the signature and the message types."""

import hashlib
import hmac
import json

import pytest

from bot.rasa_server.channels._whatsapp_webhook import (
    NotAWebhook,
    parse_delivery,
    signature_for,
    signature_is_valid,
)

SECRET = "app-secret"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def _signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_signature_made_with_the_app_secret_is_accepted():
    assert signature_is_valid(BODY, _signature(BODY), SECRET)
    assert signature_is_valid(BODY, _signature(BODY).upper().replace("SHA256=", "sha256="), SECRET)
    assert signature_for(BODY, SECRET) == _signature(BODY)


@pytest.mark.parametrize(
    "body, header, secret",
    [
        (BODY, None, SECRET),  # missing
        (BODY, "", SECRET),
        (BODY, _signature(BODY, "another-secret"), SECRET),  # forged
        (BODY + b" ", _signature(BODY), SECRET),  # stale: the body changed after signing
        (BODY, _signature(BODY)[len("sha256=") :], SECRET),  # no scheme
        (BODY, "sha1=" + hashlib.sha1(BODY).hexdigest(), SECRET),
        (BODY, "sha256=" + "g" * 64, SECRET),
        (BODY, _signature(BODY, ""), ""),  # never valid without a secret
    ],
)
def test_a_missing_forged_or_stale_signature_is_refused(body, header, secret):
    assert not signature_is_valid(body, header, secret)


def _delivery(*messages, statuses=()):
    value = {
        "messaging_product": "whatsapp",
        "contacts": [{"profile": {"name": "A"}, "wa_id": "447700900123"}],
        "messages": list(messages),
        "statuses": list(statuses),
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def _message(**fields):
    return {"from": "447700900123", "id": "wamid.ABC", "timestamp": "1700000000", **fields}


@pytest.mark.parametrize(
    "fields, kind, text",
    [
        ({"type": "text", "text": {"body": "  does it <b>hurt</b>?  "}}, "text", "does it hurt ?"),
        ({"type": "text", "text": {"body": "هل الميزوثيرابي مؤلم؟"}}, "text", "هل الميزوثيرابي مؤلم؟"),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": '/ask_topic{"topic":"procedure.pain"}', "title": "Does it hurt?"},
                },
            },
            "text",
            '/ask_topic{"topic":"procedure.pain"}',
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "list_reply",
                    "list_reply": {
                        "id": '/ask_topic{"topic":"procedure.downtime"}',
                        "title": "Recovery",
                        "description": "x",
                    },
                },
            },
            "text",
            '/ask_topic{"topic":"procedure.downtime"}',
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "other-tool-7", "title": "Opening hours"},
                },
            },
            "text",
            "Opening hours",
        ),
        ({"type": "button", "button": {"payload": "Yes please", "text": "Yes please"}}, "text", "Yes please"),
        ({"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}, "reaction", ""),
        ({"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}}, "media", ""),
        ({"type": "audio", "audio": {"id": "1", "voice": True}}, "media", ""),
        ({"type": "location", "location": {"latitude": 1, "longitude": 2}}, "location", ""),
        ({"type": "sticker", "sticker": {"id": "1"}}, "media", ""),
        ({"type": "contacts", "contacts": [{"name": {"formatted_name": "A B"}}]}, "contacts", ""),
        ({"type": "something_new"}, "unsupported", ""),
        ({"type": "text", "text": {"body": "<p></p>"}}, "unsupported", ""),
        ({"type": "text", "text": {"body": 42}}, "unsupported", ""),
        ({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": {}}}, "unsupported", ""),
        ({"type": "system", "system": {"body": "changed number"}}, "ignored", ""),
    ],
)
def test_every_message_type_is_understood_or_handled(fields, kind, text):
    messages, statuses = parse_delivery(_delivery(_message(**fields)))
    assert statuses == [] and len(messages) == 1
    message = messages[0]
    assert (message.kind, message.text) == (kind, text)
    assert (message.phone, message.message_id, message.sent_at) == ("447700900123", "wamid.ABC", 1700000000.0)


def test_statuses_are_read_with_their_errors():
    statuses = [
        {"id": "wamid.A", "status": "delivered", "recipient_id": "447700900123"},
        {"id": "wamid.B", "status": "failed", "errors": [{"code": 131026, "title": "Undeliverable"}]},
    ]
    messages, found = parse_delivery(_delivery(statuses=statuses))
    assert messages == []
    assert [(s.status, s.errors) for s in found] == [
        ("delivered", ()),
        ("failed", (("131026", "Undeliverable"),)),
    ]


def test_malformed_parts_are_skipped_and_the_rest_is_kept():
    good = _message(type="text", text={"body": "hello"})
    payload = _delivery(
        "junk",
        _message(type="text", text={"body": "x"}, **{"from": "+44 7700"}),
        {**good, "id": ""},
        {**good, "timestamp": "soon"},
        good,
    )
    payload["entry"] += [None, {"changes": "nope"}, {"changes": [{"value": []}]}]
    messages, _ = parse_delivery(payload)
    assert [m.text for m in messages] == ["hello", "hello"]
    assert messages[0].sent_at > 1_700_000_000  # an unreadable timestamp counts as now


def test_very_long_text_is_cut_to_whatsapps_own_limit():
    messages, _ = parse_delivery(_delivery(_message(type="text", text={"body": "a" * 10_000})))
    assert len(messages[0].text) == 4096


@pytest.mark.parametrize("payload", [None, [], "x", {"object": "page"}, {"entry": "x"}, json.loads("1")])
def test_a_body_that_is_not_a_delivery_is_refused(payload):
    with pytest.raises(NotAWebhook):
        parse_delivery(payload)


# -- what people send besides text (issue 18) -------------------------------------------------


def _one(**fields):
    messages, _ = parse_delivery(_delivery(_message(**fields)))
    assert len(messages) == 1
    return messages[0]


@pytest.mark.parametrize("media", ["image", "video", "document"])
def test_a_caption_is_read_like_typed_text(media):
    caption = "my cheek is <b>swollen</b> and hot, with pus, 2 days after mesotherapy"
    message = _one(
        type=media,
        **{media: {"id": "77", "mime_type": "x/y", "caption": caption, "filename": "IMG_0042.jpg"}},
    )
    assert (message.kind, message.media, message.type) == ("text", media, media)
    assert message.text == "my cheek is swollen and hot, with pus, 2 days after mesotherapy"


def test_a_caption_that_looks_like_a_command_is_still_words():
    message = _one(type="image", image={"id": "1", "caption": '/ask_topic{"topic":"x"} face swollen'})
    assert message.kind == "text" and not message.text.startswith("/")


@pytest.mark.parametrize(
    "media, fields",
    [
        ("image", {"id": "1", "mime_type": "image/jpeg"}),
        ("image", {"id": "1", "caption": "   "}),
        ("image", {"id": "1", "caption": "<p> </p>"}),  # only markup: no words
        ("video", {"id": "1"}),
        ("document", {"id": "1", "filename": "report.pdf"}),
        ("audio", {"id": "1", "voice": True, "mime_type": "audio/ogg; codecs=opus"}),
        ("audio", {"id": "1", "voice": False}),
        ("sticker", {"id": "1", "animated": False}),
    ],
)
def test_media_without_words_is_media(media, fields):
    message = _one(type=media, **{media: fields})
    assert (message.kind, message.media, message.text) == ("media", media, "")


@pytest.mark.parametrize(
    "pin, expected",
    [
        (
            {"latitude": 24.8607, "longitude": 67.0011, "name": "Clinic", "address": "Karachi"},
            (24.8607, 67.0011),
        ),
        ({"latitude": "25.2048", "longitude": "55.2708"}, (25.2048, 55.2708)),
        ({"latitude": -33.9, "longitude": 151.2}, (-33.9, 151.2)),
    ],
)
def test_a_location_pin_carries_its_coordinates(pin, expected):
    message = _one(type="location", location=pin)
    assert message.kind == "location" and (message.latitude, message.longitude) == expected
    assert message.text == ""  # the name and address of the place are not kept


@pytest.mark.parametrize(
    "pin",
    [
        {},
        {"latitude": 91, "longitude": 0},
        {"latitude": 0, "longitude": 181},
        {"latitude": "north", "longitude": 1},
        {"latitude": True, "longitude": 1},
        {"latitude": float("nan"), "longitude": 1},
        "here",
    ],
)
def test_a_broken_pin_is_unsupported(pin):
    assert _one(type="location", location=pin).kind == "unsupported"


def test_shared_contacts_are_recognised_and_not_read():
    message = _one(
        type="contacts",
        contacts=[{"name": {"formatted_name": "Dr A"}, "phones": [{"phone": "+44 7700 900999"}]}],
    )
    assert message.kind == "contacts" and message.text == "" and "900999" not in repr(message)


@pytest.mark.parametrize("emoji", ["👍", "👎", "❤️", "🙏🏽", "😡", "😂"])
def test_a_reaction_names_the_message_and_the_emoji(emoji):
    message = _one(type="reaction", reaction={"message_id": "wamid.OUT1", "emoji": emoji})
    assert (message.kind, message.reacted_to, message.emoji) == ("reaction", "wamid.OUT1", emoji)


def test_a_removed_reaction_has_no_emoji():
    message = _one(type="reaction", reaction={"message_id": "wamid.OUT1"})  # WhatsApp leaves `emoji` out
    assert (message.kind, message.reacted_to, message.emoji) == ("reaction", "wamid.OUT1", "")
    message = _one(type="reaction", reaction={"message_id": "wamid.OUT1", "emoji": ""})
    assert (message.kind, message.emoji) == ("reaction", "")


@pytest.mark.parametrize(
    "reaction",
    [
        {},
        {"emoji": "👍"},
        {"message_id": 5, "emoji": "👍"},
        {"message_id": "wamid.X", "emoji": "👍" * 40},
        "👍",
    ],
)
def test_a_malformed_reaction_is_ignored(reaction):
    assert _one(type="reaction", reaction=reaction).kind == "ignored"
