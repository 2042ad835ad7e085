"""The WhatsApp channel's own decisions: its settings, the hashed ids, and a turn from
message to Graph API call (with a stand-in dialogue engine and the loopback fake API)."""

import asyncio
import hashlib
import hmac
import time

import pytest
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from bot.core.i18n import NUMBERED_CHOICE_PROMPT, TEXT_NEEDED, TRY_AGAIN_LATER, interface_text
from bot.core.replies import topic_payload
from bot.rasa_server.channels._whatsapp_graph import GraphAPI
from bot.rasa_server.channels._whatsapp_webhook import Inbound
from bot.rasa_server.channels.whatsapp import (
    WhatsAppInput,
    WhatsAppOutput,
    WhatsAppSettings,
    WhatsAppSettingsError,
    conversation_id,
    message_key,
)
from tests.e2e.fake_graph_api import FakeGraphAPI

KEY = "unit-test-hash-key-0123456789"
CREDENTIALS = {
    "app_secret": "s3cret",
    "verify_token": "verify",
    "access_token": "token",
    "phone_number_id": "1234567890",
    "api_url": "http://127.0.0.1:9/v21.0",
    "phone_hash_key": KEY,
}
NUMBER = "447700900123"


# -- settings ------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["app_secret", "verify_token", "access_token", "phone_hash_key"])
def test_the_channel_refuses_to_start_without_its_secrets(missing):
    with pytest.raises(WhatsAppSettingsError) as err:
        WhatsAppInput.from_credentials({**CREDENTIALS, missing: ""})
    assert missing.upper() in str(err.value)
    with pytest.raises(WhatsAppSettingsError):
        WhatsAppInput.from_credentials(None)


def test_the_channel_starts_with_every_setting():
    channel = WhatsAppInput.from_credentials({**CREDENTIALS, "text_limit": 1000})
    assert channel.name() == "whatsapp" and channel.settings.text_limit == 1000
    assert channel.regions.from_phone_number(NUMBER) == "GB"


@pytest.mark.parametrize("limit", [50, 5000])
def test_a_text_limit_outside_whatsapps_is_refused(limit):
    with pytest.raises(WhatsAppSettingsError):
        WhatsAppSettings.from_credentials({**CREDENTIALS, "text_limit": limit})


# -- privacy ---------------------------------------------------------------------------------


def test_the_conversation_id_is_a_keyed_hash_of_the_number():
    expected = "wa-" + hmac.new(KEY.encode(), b"phone:" + NUMBER.encode(), hashlib.sha256).hexdigest()[:32]
    assert conversation_id(NUMBER, KEY) == expected
    assert conversation_id("+44 7700 900123", KEY) == expected
    assert conversation_id(NUMBER, KEY + "x") != expected, "without the key the hash cannot be recomputed"
    assert conversation_id("447700900124", KEY) != expected
    assert "900123" not in expected


def test_the_stored_message_key_does_not_contain_the_wamid():
    wamid = "wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0EwQkFFNTdCRDc5RDg3NzU1OTEA"
    key = message_key(wamid, KEY)
    assert len(key) == 64 and wamid[6:20] not in key and key == message_key(wamid, KEY)


# -- one turn through the channel -------------------------------------------------------------


class _Store:
    def __init__(self, tracker):
        self.tracker = tracker

    async def retrieve(self, sender_id):
        return self.tracker


class _Agent:
    """What the channel uses of Rasa's agent: the tracker store; no processor (offline)."""

    processor = None

    def __init__(self, tracker=None):
        self.tracker_store = _Store(tracker)

    def is_ready(self):
        return True


def _tracker(events):
    slot = TextSlot("language", mappings=[{"type": "custom"}], influence_conversation=False)
    return DialogueStateTracker.from_events(conversation_id(NUMBER, KEY), events, slots=[slot])


def _inbound(text="", kind="text", type_="text", sent_at=None):
    return Inbound(
        message_id="wamid.TEST",
        phone=NUMBER,
        sent_at=sent_at or time.time(),
        kind=kind,
        type=type_,
        text=text,
    )


class _Recorder:
    """A processor that only records messages (for the late-message path)."""

    def __init__(self):
        self.logged = []

    async def log_message(self, message, should_save_tracker=True):
        self.logged.append(message)


class _LockStore:
    def lock(self, sender_id):
        return _AsyncNull()


class _AsyncNull:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


def _turn(message, tracker=None, answer=None, agent=None):
    """Handle `message` as the channel does; (what reached the dialogue, what the fake API got)."""
    seen = []

    async def dialogue(user_message):
        seen.append(user_message)
        if answer:
            await user_message.output_channel.send_response(user_message.sender_id, dict(answer))

    with FakeGraphAPI("token", "1234567890") as api:

        async def go():
            graph = GraphAPI(api.url, "1234567890", "token", backoff=(0.01,))
            channel = WhatsAppInput(
                WhatsAppSettings.from_credentials({**CREDENTIALS, "api_url": api.url}),
                WhatsAppInput.from_credentials(CREDENTIALS).regions,
                graph=graph,
            )
            nonlocal agent
            agent = agent or _Agent(tracker)
            accepted, _ = channel._claim(agent, [message])
            for inbound, conversation, key in accepted:
                await channel._handle(inbound, conversation, key, dialogue, agent)
            if channel._tasks:  # the read receipt, sent in the background
                await asyncio.wait(set(channel._tasks), timeout=10)
            await graph.close()

        asyncio.run(go())
        return seen, api.delivered(NUMBER)


def test_a_question_reaches_the_dialogue_with_the_region_and_never_the_number():
    answer = {
        "text": "A little.",
        "lang": "en",
        "answer_id": "procedure.pain",
        "buttons": [{"title": "Recovery time", "payload": topic_payload("procedure.downtime")}],
    }
    seen, sent = _turn(_inbound("does it hurt?"), answer=answer)
    [message] = seen
    assert (message.text, message.sender_id, message.input_channel) == (
        "does it hurt?",
        conversation_id(NUMBER, KEY),
        "whatsapp",
    )
    assert message.metadata == {"channel": "whatsapp", "phone_region": "GB"}
    assert NUMBER not in repr(vars(message))
    assert [m["interactive"]["body"]["text"] for m in sent] == ["A little."]
    assert isinstance(message.output_channel, WhatsAppOutput)


@pytest.mark.parametrize(
    "typed, read_as", [("/restart", "restart"), (" /session_start ", "session_start"), ("/back", "back")]
)
def test_a_typed_control_intent_is_read_as_words_and_never_resets_the_conversation(typed, read_as):
    """Issue 12: Rasa obeys "/restart" as its own command; a person typing it must not wipe the record."""
    answer = {"text": "Sorry?", "lang": "en", "answer_id": "fallback.not_understood"}
    seen, _ = _turn(_inbound(typed), answer=answer)
    assert [m.text for m in seen] == [read_as]


def test_a_number_answers_the_last_numbered_menu():
    buttons = [{"title": f"Topic {i}", "payload": topic_payload(f"topic.t{i}")} for i in range(1, 13)]
    tracker = _tracker([UserUttered("topics?"), BotUttered("Topics we cover.", data={"buttons": buttons})])
    seen, _ = _turn(_inbound("۱۱"), tracker=tracker)
    assert seen[0].text == topic_payload("topic.t11")
    seen, _ = _turn(_inbound("42"), tracker=tracker)
    assert seen[0].text == "42", "a number that is not on the menu stays what it is"


def test_a_numbered_menu_is_sent_when_the_bot_offers_many_choices():
    buttons = [{"title": f"Topic {i}", "payload": topic_payload(f"topic.t{i}")} for i in range(1, 13)]
    _, sent = _turn(
        _inbound("topics?"), answer={"text": "Topics we cover.", "lang": "ar", "buttons": buttons}
    )
    body = sent[0]["text"]["body"]
    assert interface_text("ar", NUMBERED_CHOICE_PROMPT) in body and body.endswith("12. Topic 12")


def test_a_message_of_an_unknown_type_gets_the_text_needed_notice_in_the_conversations_language():
    tracker = _tracker([UserUttered("مرحبا"), SlotSet("language", "ur")])
    seen, sent = _turn(_inbound(kind="unsupported", type_="order"), tracker=tracker)
    assert seen == [] and [m["text"]["body"] for m in sent] == [interface_text("ur", TEXT_NEEDED)]


def test_when_nothing_answers_the_person_is_asked_to_try_again_in_their_language():
    seen, sent = _turn(_inbound("كم عدد الجلسات التي أحتاجها؟"))
    assert len(seen) == 1 and [m["text"]["body"] for m in sent] == [interface_text("ar", TRY_AGAIN_LATER)]


def test_an_old_message_is_recorded_but_not_answered_outside_the_24_hour_window(caplog):
    agent = _Agent()
    agent.processor, agent.lock_store = _Recorder(), _LockStore()
    seen, sent = _turn(
        _inbound("does it hurt?", sent_at=time.time() - 25 * 3600),
        answer={"text": "A little.", "lang": "en"},
        agent=agent,
    )
    assert seen == [] and sent == [], "the dialogue did not run, nothing was sent"
    [logged] = agent.processor.logged
    assert (logged.text, logged.metadata) == ("does it hurt?", {"channel": "whatsapp", "phone_region": "GB"})
    assert "template would be needed" in caplog.text and NUMBER not in caplog.text


def test_a_reaction_is_neither_handled_nor_answered():
    seen, sent = _turn(
        Inbound(
            message_id="wamid.R",
            phone=NUMBER,
            sent_at=time.time(),
            kind="reaction",
            type="reaction",
            reacted_to="wamid.UNKNOWN",
            emoji="👍",
        ),
        answer={"text": "x", "lang": "en"},
    )
    assert seen == [] and sent == []
