"""What the WhatsApp channel does with photos, voice notes, pins, contacts and reactions
(issue 18), turn by turn: a real Rasa tracker in memory, a stand-in dialogue engine, the
loopback fake Graph API."""

import asyncio
import time
from typing import Any, Dict, List, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT
from bot.core.i18n import LANGUAGE_NAMES, interface_text
from bot.core.replies import compose_reply, switch_payload
from bot.rasa_server.channels._whatsapp_graph import GraphAPI
from bot.rasa_server.channels._whatsapp_notices import (
    CONTACTS_ID,
    LOCATION_SET_ID,
    LOCATION_UNKNOWN_ID,
    MEDIA_ID,
    PICTURE_NOTE_ID,
    rating,
)
from bot.rasa_server.channels._whatsapp_webhook import Inbound
from bot.rasa_server.channels.whatsapp import WhatsAppInput, WhatsAppSettings, conversation_id, message_key
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
UK, PK = "447700900123", "923001234567"
DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


class _Lock:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


class _Agent:
    """What the channel uses of Rasa's agent, over one in-memory tracker per conversation."""

    def __init__(self):
        self.trackers: Dict[str, DialogueStateTracker] = {}
        self.tracker_store, self.processor, self.lock_store = self, self, self

    def is_ready(self):
        return True

    def lock(self, sender_id):
        return _Lock()

    def tracker(self, sender_id) -> DialogueStateTracker:
        if sender_id not in self.trackers:
            self.trackers[sender_id] = DialogueStateTracker(sender_id, DOMAIN.slots)
        return self.trackers[sender_id]

    async def retrieve(self, sender_id):
        return self.trackers.get(sender_id)

    async def fetch_tracker_with_initial_session(self, sender_id, output_channel=None, metadata=None):
        return self.tracker(sender_id)

    async def save(self, tracker):
        self.trackers[tracker.sender_id] = tracker


def _message(phone, kind, **fields) -> Inbound:
    fields.setdefault("type", fields.get("media") or kind)
    return Inbound(
        message_id=f"wamid.IN{time.monotonic_ns()}", phone=phone, sent_at=time.time(), kind=kind, **fields
    )


class Rig:
    """One channel, one agent and the fake Graph API across several messages."""

    def __init__(self, api: FakeGraphAPI, answer: Optional[Dict[str, Any]] = None):
        self.api, self.answer = api, answer
        self.agent = _Agent()
        self.seen: List[Any] = []

    async def _dialogue(self, user_message):
        self.seen.append(user_message)
        if self.answer:
            await user_message.output_channel.send_response(user_message.sender_id, dict(self.answer))

    def send(self, *messages: Inbound) -> List[Dict[str, Any]]:
        """Handle the messages as the channel does; what the fake API delivered for them."""
        before = {m.phone: len(self.api.delivered(m.phone)) for m in messages}

        async def go():
            graph = GraphAPI(self.api.url, "1234567890", "token", backoff=(0.01,))
            settings = WhatsAppSettings.from_credentials({**CREDENTIALS, "api_url": self.api.url})
            channel = WhatsAppInput(settings, graph=graph, store=STORE)
            channel._deliveries = getattr(self, "deliveries", None)
            for inbound, conversation, key in channel._claim(self.agent, list(messages))[0]:
                await channel._handle(inbound, conversation, key, self._dialogue, self.agent)
            self.deliveries = channel._deliveries
            if channel._tasks:  # the read receipts run in the background
                await asyncio.wait(set(channel._tasks), timeout=10)
            await graph.close()

        asyncio.run(go())
        return [m for phone, count in before.items() for m in self.api.delivered(phone)[count:]]

    def events(self, phone) -> list:
        tracker = self.agent.trackers.get(conversation_id(phone, KEY))
        return list(tracker.events) if tracker else []

    def bot_events(self, phone) -> List[BotUttered]:
        return [e for e in self.events(phone) if isinstance(e, BotUttered)]


STORE = None


@pytest.fixture(autouse=True)
def _store(store):
    global STORE
    STORE = store


@pytest.fixture
def api():
    with FakeGraphAPI("token", "1234567890") as fake:
        yield fake


def _body(message):
    return message["text"]["body"] if message["type"] == "text" else message["interactive"]["body"]["text"]


def _text(messages):
    return "\n\n".join(_body(m) for m in messages)


def _with_language(rig: Rig, phone: str, lang: str) -> None:
    rig.agent.tracker(conversation_id(phone, KEY)).update(SlotSet("language", lang))


# -- media without words -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
@pytest.mark.parametrize("media", ["audio", "image", "video", "sticker", "document"])
def test_media_without_words_gets_the_regions_number_and_the_clinic_in_the_conversations_language(
    api, store, media, lang
):
    rig = Rig(api)
    _with_language(rig, PK, lang)
    sent = rig.send(_message(PK, "media", media=media))
    expected = compose_reply(store, MEDIA_ID, lang, "PK")
    assert _text(sent).split() == expected.text.split()
    assert "1122" in _text(sent) and "+92 42 0000 0000" in _text(sent)
    assert rig.seen == [], "nothing reached the dialogue: there were no words"
    [event] = rig.bot_events(PK)
    assert (event.metadata["answer_id"], event.metadata["lang"], event.metadata["in_reply_to"]) == (
        MEDIA_ID,
        lang,
        media,
    )
    assert event.metadata["version"] == store.get(MEDIA_ID).version


def test_a_first_voice_note_is_answered_in_all_three_languages_with_language_buttons(api, store):
    rig = Rig(api)
    sent = rig.send(_message("966501234567", "media", media="audio"))
    text = _text(sent)
    for lang in ("en", "ar", "ur"):
        assert " ".join(compose_reply(store, MEDIA_ID, lang, "SA").text.split()[:8]) in " ".join(text.split())
    assert text.count("997") >= 3, "the Saudi number in every language"
    buttons = sent[-1]["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == [switch_payload(code) for code in ("en", "ar", "ur")]
    assert [b["reply"]["title"] for b in buttons] == [
        interface_text(code, LANGUAGE_NAMES[code]) for code in ("en", "ar", "ur")
    ]


def test_media_after_a_pin_uses_the_pinned_region(api):
    rig = Rig(api)
    _with_language(rig, UK, "en")
    rig.agent.tracker(conversation_id(UK, KEY)).update(SlotSet("named_region", "PK"))
    text = _text(rig.send(_message(UK, "media", media="audio")))
    assert "1122" in text and "999" not in text


# -- captions ---------------------------------------------------------------------------------


def test_a_caption_goes_to_the_dialogue_and_the_picture_note_follows_the_answer(api, store):
    urgent = compose_reply(store, "safety.urgent", "ur", "PK").as_message()
    rig = Rig(api, answer=urgent)
    sent = rig.send(_message(PK, "text", media="image", text="chehre pe sujan aur pus hai"))
    [seen] = rig.seen
    assert seen.text == "chehre pe sujan aur pus hai"
    assert seen.metadata == {"channel": "whatsapp", "phone_region": "PK", "media": "image"}
    assert [_body(m) for m in sent] == [urgent["text"], compose_reply(store, PICTURE_NOTE_ID, "ur").text]
    assert sent[-1]["type"] == "text", "the note carries no buttons"
    [note] = rig.bot_events(PK)  # the stand-in dialogue records nothing itself
    assert (note.metadata["answer_id"], note.metadata["lang"]) == (PICTURE_NOTE_ID, "ur")


def test_typed_text_gets_no_picture_note(api):
    rig = Rig(api, answer={"text": "A little.", "lang": "en", "answer_id": "procedure.pain"})
    sent = rig.send(_message(UK, "text", text="does it hurt?"))
    assert [_body(m) for m in sent] == ["A little."]
    assert rig.seen[0].metadata == {"channel": "whatsapp", "phone_region": "GB"}


# -- location pins ----------------------------------------------------------------------------


def test_a_karachi_pin_from_a_uk_phone_sets_pakistan(api, store):
    rig = Rig(api)
    _with_language(rig, UK, "en")
    sent = rig.send(_message(UK, "location", latitude=24.8607, longitude=67.0011))
    expected = compose_reply(store, LOCATION_SET_ID, "en", "PK")
    assert _text(sent).split() == expected.text.split()
    assert "Pakistan" in _text(sent) and "1122" in _text(sent) and "999" not in _text(sent)
    slots = {e.key: e.value for e in rig.events(UK) if isinstance(e, SlotSet)}
    assert slots["named_region"] == "PK" and slots["region"] == "PK"
    assert rig.bot_events(UK)[-1].metadata["answer_id"] == LOCATION_SET_ID
    events = repr(rig.events(UK))
    assert "24.86" not in events and "67.00" not in events, "the coordinates are not kept"


def test_a_dubai_pin_in_arabic(api, store):
    rig = Rig(api)
    _with_language(rig, PK, "ar")
    text = _text(rig.send(_message(PK, "location", latitude=25.2048, longitude=55.2708)))
    assert store.regions.get("AE").name["ar"] in text and "998" in text


def test_a_pin_outside_the_regions_table_gives_the_general_advice(api, store):
    rig = Rig(api)
    _with_language(rig, UK, "ur")
    text = _text(rig.send(_message(UK, "location", latitude=48.8566, longitude=2.3522)))
    assert "فرانس" in text and store.regions.unknown.emergency["ur"] in text and "999" not in text
    slots = {e.key: e.value for e in rig.events(UK) if isinstance(e, SlotSet)}
    assert slots["named_region"] == "FR" and slots["region"] is None


def test_a_pin_whose_country_cannot_be_told_asks_for_the_place(api, store):
    rig = Rig(api)
    _with_language(rig, UK, "en")
    sent = rig.send(_message(UK, "location", latitude=0.0, longitude=-30.0))  # the Atlantic
    assert _text(sent).split() == compose_reply(store, LOCATION_UNKNOWN_ID, "en").text.split()
    assert not [e for e in rig.events(UK) if isinstance(e, SlotSet) and e.key == "named_region"]


# -- contacts ---------------------------------------------------------------------------------


def test_shared_contacts_get_a_polite_refusal(api, store):
    rig = Rig(api)
    _with_language(rig, "971501234567", "ar")
    sent = rig.send(_message("971501234567", "contacts"))
    assert _text(sent).split() == compose_reply(store, CONTACTS_ID, "ar").text.split()
    assert rig.seen == []


# -- reactions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "emoji, helpful",
    [
        ("👍", True),
        ("👍🏽", True),
        ("❤️", True),
        ("❤", True),
        ("🙏", True),
        ("🙏🏿", True),
        ("👎", False),
        ("👎🏻", False),
        ("😡", False),
        ("😂", None),
        ("", None),
    ],
)
def test_what_an_emoji_says(emoji, helpful):
    assert rating(emoji) is helpful


def _feedback(rig, phone):
    return [e.value for e in rig.events(phone) if isinstance(e, SlotSet) and e.key == "feedback"]


def test_a_reaction_on_an_answer_is_feedback_and_a_removal_takes_it_back(api, store):
    answer = compose_reply(store, "procedure.pain", "en", "GB").as_message()
    rig = Rig(api, answer=answer)
    rig.send(_message(UK, "text", text="does it hurt?"))
    [ours] = [a.wamid for a in api.attempts_to(UK) if a.status == 200]

    def react(emoji, target=ours):
        return rig.send(_message(UK, "reaction", reacted_to=target, emoji=emoji))

    assert react("👎") == [], "a reaction is not answered"
    react("👎")  # the same reaction again (a redelivery): counted once
    react("👍🏽")
    react("")  # removed
    react("👍", target="wamid.NOT-OURS")
    values = _feedback(rig, UK)
    assert [v["helpful"] for v in values] == [False, True, None]
    first = values[0]
    assert {k: first[k] for k in ("answer_id", "lang", "version", "channel")} == {
        "answer_id": "procedure.pain",
        "lang": "en",
        "version": store.get("procedure.pain").version,
        "channel": "whatsapp",
    }
    assert first["message"] == message_key(ours, KEY)[:16] and ours not in repr(values)
    assert UK not in repr(rig.events(UK))


def test_a_reaction_from_another_conversation_on_our_message_counts_nothing(api, store):
    rig = Rig(api, answer=compose_reply(store, "procedure.pain", "en", "GB").as_message())
    rig.send(_message(UK, "text", text="does it hurt?"))
    [ours] = [a.wamid for a in api.attempts_to(UK) if a.status == 200]
    rig.send(_message(PK, "reaction", reacted_to=ours, emoji="👎"))
    assert _feedback(rig, PK) == [] and _feedback(rig, UK) == []


# -- read receipts and typing -------------------------------------------------------------------


def test_each_message_is_marked_read_with_typing_only_while_an_answer_is_prepared(api):
    rig = Rig(api, answer={"text": "A little.", "lang": "en", "answer_id": "procedure.pain"})
    question, voice = _message(UK, "text", text="does it hurt?"), _message(UK, "media", media="audio")
    rig.send(question, voice)
    assert [(a.typing, a.status) for a in api.acknowledged(question.message_id)] == [(True, 200)]
    assert [(a.typing, a.status) for a in api.acknowledged(voice.message_id)] == [(False, 200)]


@pytest.mark.parametrize("status, delay", [(500, 0.0), (None, 6.0)])
def test_a_failing_or_hanging_read_receipt_changes_nothing(api, status, delay, caplog):
    answer = {"text": "A little.", "lang": "en", "answer_id": "procedure.pain"}
    baseline = Rig(api, answer=answer).send(_message(UK, "text", text="does it hurt?"))
    api.fail_acknowledgements(status, delay=delay)
    rig = Rig(api, answer=answer)
    started = time.time()  # the fake records wall-clock times
    question = _message(PK, "text", text="does it hurt?")
    sent = rig.send(question)
    assert [_body(m) for m in sent] == [_body(m) for m in baseline]
    assert [a.at for a in api.attempts_to(PK)][0] - started < 3, "the answer did not wait for the receipt"
    assert len(api.acknowledged(question.message_id)) <= 1, "no retries"
    assert "could not mark a message from wa-" in caplog.text and PK not in caplog.text
