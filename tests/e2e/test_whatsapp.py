"""The WhatsApp channel end to end: Meta's side played by the test, the Graph API by a fake.

The real Rasa server and action server run with the WhatsApp variables set; the test
signs webhook deliveries as Meta does and reads what the bot sent from a fake Graph API
on loopback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.core.i18n import TEXT_NEEDED, interface_text
from bot.core.replies import compose_reply
from bot.rasa_server.channels._whatsapp_notices import CONTACTS_ID, LOCATION_SET_ID, MEDIA_ID, PICTURE_NOTE_ID
from bot.tools.content.review import pseudonym, review
from bot.tools.model import train
from bot.tools.servers import BotServers
from tests.e2e.fake_graph_api import FakeGraphAPI

pytestmark = pytest.mark.e2e

APP_SECRET = "e2e-app-secret-" + uuid.uuid4().hex
VERIFY_TOKEN = "e2e-verify-" + uuid.uuid4().hex[:8]
ACCESS_TOKEN = "e2e-access-" + uuid.uuid4().hex
PHONE_NUMBER_ID = "109876543210"
HASH_KEY = "e2e-phone-hash-key-" + uuid.uuid4().hex
TEXT_LIMIT = 500  # lower than WhatsApp's 4096 so real answers get split
NUMBERS_USED: List[str] = []
WAMIDS_USED: List[str] = []


def new_number(calling_code: str) -> str:
    number = calling_code + "".join(random.choice("0123456789") for _ in range(12 - len(calling_code)))
    NUMBERS_USED.append(number)
    return number


def conversation_of(number: str) -> str:
    """The hashed sender id the contract specifies, computed independently of the channel."""
    return "wa-" + hmac.new(HASH_KEY.encode(), b"phone:" + number.encode(), hashlib.sha256).hexdigest()[:32]


def new_wamid(number: str) -> str:
    """Shaped like Meta's: base64 of a record that contains the sender's number."""
    raw = (
        b"\x1c\x18"
        + bytes([len(number)])
        + number.encode()
        + b"\x15\x02\x00\x12\x18\x14"
        + uuid.uuid4().hex[:20].upper().encode()
    )
    wamid = "wamid." + base64.b64encode(raw).decode()
    WAMIDS_USED.append(wamid)
    return wamid


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(value: Dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "WABA_ID",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550000000",
                                    "phone_number_id": PHONE_NUMBER_ID,
                                },
                                **value,
                            },
                        }
                    ],
                }
            ],
        },
        ensure_ascii=False,
    ).encode("utf-8")


class WhatsAppUser:
    """One person writing to the clinic's number; `say` returns what the bot sent back."""

    def __init__(self, wa: "WhatsAppRig", calling_code: str, name: str = "Test Person"):
        self.wa = wa
        self.number = new_number(calling_code)
        self.name = name
        self.conversation = conversation_of(self.number)

    def message(
        self, fields: Dict[str, Any], sent_at: Optional[float] = None, wamid: Optional[str] = None
    ) -> bytes:
        return delivery(
            {
                "contacts": [{"profile": {"name": self.name}, "wa_id": self.number}],
                "messages": [
                    {
                        "from": self.number,
                        "id": wamid or new_wamid(self.number),
                        "timestamp": str(int(sent_at or time.time())),
                        **fields,
                    }
                ],
            }
        )

    def text(self, text: str, **kw: Any) -> bytes:
        return self.message({"type": "text", "text": {"body": text}}, **kw)

    def tap_button(self, button_id: str, title: str) -> bytes:
        return self.message(
            {
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
            }
        )

    def pick_row(self, row_id: str, title: str) -> bytes:
        return self.message(
            {
                "type": "interactive",
                "interactive": {"type": "list_reply", "list_reply": {"id": row_id, "title": title}},
            }
        )

    def post(self, body: bytes, signature: Optional[str] = "valid") -> tuple:
        return self.wa.post(body, sign(body) if signature == "valid" else signature)

    def send(self, body: bytes, expect_reply: bool = True) -> List[Dict[str, Any]]:
        """Post a signed delivery; the messages the bot sent in answer (all parts of it)."""
        before = len(self.wa.api.delivered(self.number))
        status, answer = self.post(body)
        assert status == 200 and answer["accepted"] == 1, answer
        if not expect_reply:
            return []
        return self.wa.new_messages(self.number, before)

    def say(self, text: str) -> List[Dict[str, Any]]:
        return self.send(self.text(text))

    def events(self) -> List[tuple]:
        return self.wa.events(self.conversation)


class WhatsAppRig:
    def __init__(self, servers: BotServers, api: FakeGraphAPI):
        self.servers, self.api = servers, api

    def post(self, body: bytes, signature: Optional[str]) -> tuple:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        request = urllib.request.Request(self.servers.whatsapp_webhook, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"null")

    def new_messages(
        self, number: str, before: int, timeout: float = 40.0, settle: float = 1.0
    ) -> List[Dict]:
        """The messages delivered to `number` after the first `before`, once no more arrive."""
        deadline = time.monotonic() + timeout
        while len(self.api.delivered(number)) <= before and time.monotonic() < deadline:
            time.sleep(0.1)
        count = len(self.api.delivered(number))
        while time.monotonic() < deadline:
            time.sleep(settle)
            if len(self.api.delivered(number)) == count:
                break
            count = len(self.api.delivered(number))
        found = self.api.delivered(number)[before:]
        assert found, f"no reply within {timeout:.0f} s; see {self.servers.logs_dir}"
        return found

    def events(self, conversation: str) -> List[tuple]:
        with sqlite3.connect(self.servers.tracker_db) as db:
            rows = db.execute(
                "SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (conversation,)
            )
            return [(kind, json.loads(data)) for kind, data in rows]

    def claimed(self) -> int:
        """Messages recorded as handled (the table exists from the server's start)."""
        with sqlite3.connect(self.servers.tracker_db) as db:
            return db.execute("SELECT COUNT(*) FROM whatsapp_deliveries").fetchone()[0]

    def log_text(self) -> str:
        return "\n".join(
            p.read_text(encoding="utf-8", errors="replace")
            for p in sorted(self.servers.logs_dir.glob("*.log"))
        )


@pytest.fixture(scope="module")
def wa(tmp_path_factory) -> WhatsAppRig:
    train()
    run_dir: Path = tmp_path_factory.mktemp("whatsapp")
    credentials = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8"))
    credentials["bot.rasa_server.channels.whatsapp.WhatsAppInput"] = {"text_limit": TEXT_LIMIT}
    credentials_file = run_dir / "credentials.yml"
    credentials_file.write_text(yaml.safe_dump(credentials, allow_unicode=True), encoding="utf-8")
    with FakeGraphAPI(ACCESS_TOKEN, PHONE_NUMBER_ID) as api:
        env = {
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_API_URL": api.url,
            "PHONE_HASH_KEY": HASH_KEY,
        }
        servers = BotServers.in_folder(
            run_dir,
            credentials=credentials_file,
            extra_env=env,
        )
        with servers:
            yield WhatsAppRig(servers, api)


def body_of(message: Dict[str, Any]) -> str:
    if message["type"] == "text":
        return message["text"]["body"]
    return message["interactive"]["body"]["text"]


def full_text(messages: List[Dict[str, Any]]) -> str:
    return " ".join(" ".join(body_of(m).split()) for m in messages)


def flat(text: str) -> str:
    return " ".join(text.split())


def latest_bot_event(user: WhatsAppUser) -> Dict[str, Any]:
    return [data for kind, data in user.events() if kind == "bot"][-1]


# -- the handshake and the signature ------------------------------------------------------


def test_meta_can_verify_the_webhook(wa):
    query = f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    with urllib.request.urlopen(f"{wa.servers.whatsapp_webhook}?{query}", timeout=10) as resp:
        assert resp.status == 200 and resp.read() == b"1158201444"
    for wrong in (
        "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1",
        f"hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1",
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{wa.servers.whatsapp_webhook}?{wrong}", timeout=10)
        assert refused.value.code == 403


def test_unsigned_forged_and_stale_deliveries_are_refused_and_nothing_is_stored(wa):
    user = WhatsAppUser(wa, "44")
    wamid = new_wamid(user.number)
    genuine = user.text("does it hurt?", wamid=wamid)
    altered = genuine.replace(b"does it hurt?", b"how much is it")  # signed, then changed in transit
    claimed_before = wa.claimed()
    for body, signature in [
        (genuine, sign(genuine, "not-the-app-secret")),  # forged
        (genuine, None),  # missing
        (altered, sign(genuine)),  # stale: the signature of another body
        (genuine, "sha256=" + "0" * 64),
        (genuine, "md5=abc"),
    ]:
        status, answer = user.post(body, signature)
        assert status == 401 and answer["code"] == "invalid_signature"
    time.sleep(2)
    assert user.events() == [] and wa.claimed() == claimed_before
    assert wa.api.attempts_to(user.number) == []
    # The refused copies did not use up the message: the genuine delivery is answered.
    assert user.send(genuine)
    assert latest_bot_event(user)["metadata"]["answer_id"] == "procedure.pain"


# -- conversations --------------------------------------------------------------------------


def test_an_english_conversation_with_reply_buttons(wa, store):
    user = WhatsAppUser(wa, "44")
    greeting = user.say("hello")
    # up to 3 choices (topics and the language button) are reply buttons, 4 to 10 a list
    kind = "button" if len(compose_reply(store, "chitchat.greet", "en", "GB").buttons) <= 3 else "list"
    assert len(greeting) == 1 and greeting[0]["interactive"]["type"] == kind
    assert body_of(greeting[0]).startswith(store.get("chitchat.greet").text["en"][:30])

    reply = user.say("does it hurt?")
    assert len(reply) == 1
    expected = compose_reply(store, "procedure.pain", "en", "GB")
    message = reply[0]
    assert message["to"] == user.number and message["interactive"]["type"] == "button"
    assert body_of(message) == expected.text
    buttons = message["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == [b["payload"] for b in expected.buttons]
    assert [b["reply"]["title"] for b in buttons] == [b["title"] for b in expected.buttons]

    topic = json.loads(buttons[0]["reply"]["id"][len("/ask_topic") :])["topic"]
    followed = user.send(user.tap_button(buttons[0]["reply"]["id"], buttons[0]["reply"]["title"]))
    assert flat(full_text(followed)) == flat(compose_reply(store, topic, "en", "GB").text)

    user_events = [data for kind, data in user.events() if kind == "user"]
    assert len(user_events) == 3
    for event in user_events:
        assert (event["metadata"]["channel"], event["metadata"]["phone_region"]) == ("whatsapp", "GB")
        assert not set(event["metadata"]) - {"channel", "phone_region", "model_id", "assistant_id"}
    assert all(e["input_channel"] == "whatsapp" for e in user_events)
    assert latest_bot_event(user)["metadata"]["answer_id"] == topic


def test_an_arabic_conversation_gets_the_saudi_emergency_number(wa, store):
    user = WhatsAppUser(wa, "966")
    reply = user.say("هل الميزوثيرابي مؤلم؟")
    assert body_of(reply[0]).startswith(store.get("procedure.pain").text["ar"])
    urgent = user.say("وجهي منتفخ وحار من بعد الحقن وعندي حرارة")
    assert len(urgent) == 1 and urgent[0]["type"] == "text"
    assert store.regions.get("SA").emergency["ar"] in body_of(urgent[0])
    assert latest_bot_event(user)["metadata"]["answer_id"] == "safety.urgent"


def test_an_urdu_and_roman_urdu_conversation(wa, store):
    user = WhatsAppUser(wa, "92")
    reply = user.say("کیا میزوتھراپی میں درد ہوتا ہے؟")
    assert body_of(reply[0]).startswith(store.get("procedure.pain").text["ur"])
    reply = user.say("mesotherapy ke kitne sessions lagte hain")
    event = latest_bot_event(user)["metadata"]
    assert (event["answer_id"], event["lang"]) == ("procedure.sessions", "ur")
    assert flat(full_text(reply)) == flat(compose_reply(store, "procedure.sessions", "ur", "PK").text)


@pytest.mark.parametrize(
    "calling_code, region, lang, question",
    [
        ("44", "GB", "en", "what are the side effects?"),
        ("971", "AE", "ar", "ما هي الآثار الجانبية للميزوثيرابي؟"),
        ("92", "PK", "ur", "میزوتھراپی کے سائیڈ ایفیکٹس کیا ہیں؟"),
    ],
)
def test_a_long_answer_is_split_on_sentence_boundaries(wa, store, calling_code, region, lang, question):
    user = WhatsAppUser(wa, calling_code)
    parts = user.say(question)
    event = latest_bot_event(user)["metadata"]
    assert (event["answer_id"], event["lang"]) == ("safety.side_effects", lang)
    expected = compose_reply(store, "safety.side_effects", lang, region).text
    assert len(expected) > TEXT_LIMIT and len(parts) >= 2
    assert flat(full_text(parts)) == flat(expected), "nothing lost, nothing repeated, in order"
    for part in parts[:-1]:
        text = body_of(part)
        assert len(text) <= TEXT_LIMIT
        assert re.search(r"[.!?؟۔]$", text), f"cut mid-sentence: ...{text[-30:]!r}"
    assert parts[-1]["type"] == "interactive", "the follow-up buttons come with the last part"


def test_a_list_message_and_a_list_reply(wa, store):
    user = WhatsAppUser(wa, "44")
    # A topic that does not exist gets `fallback.not_understood`, which offers 5 topics.
    reply = user.say('/ask_topic{"topic":"no.such.topic"}')
    assert len(reply) == 1 and reply[0]["interactive"]["type"] == "list"
    expected = compose_reply(store, "fallback.not_understood", "en", "GB")
    rows = reply[0]["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [b["payload"] for b in expected.buttons]
    assert reply[0]["interactive"]["action"]["button"] == interface_text("en", "Topics")
    topic = json.loads(rows[2]["id"][len("/ask_topic") :])["topic"]
    answer = user.send(user.pick_row(rows[2]["id"], rows[2]["title"]))
    assert flat(full_text(answer)) == flat(compose_reply(store, topic, "en", "GB").text)


# -- deliveries that are not simple questions ----------------------------------------------


def test_the_same_delivery_twice_gets_one_reply(wa):
    user = WhatsAppUser(wa, "44")
    body = user.text("how many sessions do I need?")
    first = user.send(body)
    status, answer = user.post(body)
    assert status == 200 and answer == {"accepted": 0, "duplicates": 1, "statuses": 0}
    time.sleep(2)
    assert wa.api.delivered(user.number) == first
    assert len([kind for kind, _ in user.events() if kind == "user"]) == 1


def test_duplicates_arriving_together_are_handled_once(wa):
    user = WhatsAppUser(wa, "44")
    body = user.text("does it hurt?")  # a one-message answer
    answers: List[tuple] = []
    threads = [threading.Thread(target=lambda: answers.append(user.post(body))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a[1]["accepted"] for a in answers) == [0, 0, 0, 1]
    wa.new_messages(user.number, 0)
    time.sleep(1.5)
    assert len(wa.api.delivered(user.number)) == 1
    assert len([kind for kind, _ in user.events() if kind == "user"]) == 1


def test_status_callbacks_are_acknowledged_and_ignored(wa):
    user = WhatsAppUser(wa, "44")
    statuses = [
        {
            "id": new_wamid(user.number),
            "status": s,
            "timestamp": str(int(time.time())),
            "recipient_id": user.number,
            **extra,
        }
        for s, extra in [
            ("sent", {}),
            ("delivered", {}),
            ("read", {}),
            ("failed", {"errors": [{"code": 131047, "title": "Re-engagement message"}]}),
        ]
    ]
    status, answer = user.post(delivery({"statuses": statuses}))
    assert status == 200 and answer == {"accepted": 0, "duplicates": 0, "statuses": 4}
    time.sleep(1.5)
    assert user.events() == [] and wa.api.attempts_to(user.number) == []


def test_a_first_photo_without_words_is_answered_in_three_languages(wa, store):
    user = WhatsAppUser(wa, "966")
    # A first message with no text: the language is not known yet, so all three.
    image = user.send(user.message({"type": "image", "image": {"id": "1234", "mime_type": "image/jpeg"}}))
    text = flat(full_text(image))
    for lang in ("en", "ar", "ur"):
        assert flat(compose_reply(store, MEDIA_ID, lang, "SA").text) in text
    assert image[-1]["interactive"]["type"] == "button", "a button per language"
    [event] = [data for kind, data in user.events() if kind == "bot"]
    assert (event["metadata"]["answer_id"], event["metadata"]["in_reply_to"]) == (MEDIA_ID, "image")
    user.say("مرحبا")
    for fields in [
        {"type": "order", "order": {"catalog_id": "1"}},
        {"type": "text", "text": {"body": "<b> </b>"}},
    ]:
        notice = user.send(user.message(fields))
        assert [body_of(m) for m in notice] == [interface_text("ar", TEXT_NEEDED)], fields["type"]


def test_a_reaction_is_not_answered(wa):
    user = WhatsAppUser(wa, "44")
    user.say("hello")
    before = len(wa.api.attempts_to(user.number))
    reaction = {"message_id": new_wamid(user.number), "emoji": "👍"}
    user.send(user.message({"type": "reaction", "reaction": reaction}), expect_reply=False)
    time.sleep(1.5)
    assert len(wa.api.attempts_to(user.number)) == before


def test_bad_signed_bodies_get_a_clear_error(wa):
    user = WhatsAppUser(wa, "44")
    for body in (b"{not json", b"\xff\xfe", b'{"object": "page"}', b"[]"):
        status, answer = user.post(body)
        assert status == 400 and answer["code"] == "invalid_body"
    status, answer = user.post(b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert status == 413
    assert user.events() == []


# -- the Graph API failing -----------------------------------------------------------------


def test_a_failing_graph_api_is_retried(wa):
    user = WhatsAppUser(wa, "44")
    wa.api.answer(user.number, [500, 503])
    reply = user.say("does it hurt?")
    assert len(reply) == 1
    assert [a.status for a in wa.api.attempts_to(user.number)] == [500, 503, 200]


def test_a_graph_api_that_keeps_failing_does_not_crash_the_bot(wa):
    user = WhatsAppUser(wa, "44")
    wa.api.answer_always(user.number, 500)
    status, answer = user.post(user.text("does it hurt?"))
    assert status == 200 and answer["accepted"] == 1
    attempts = wa.api.wait_for(user.number, 4, timeout=40, attempts=True)
    time.sleep(4)
    assert [a.status for a in wa.api.attempts_to(user.number)] == [500] * 4, "4 attempts, then it gives up"
    assert "gave up sending" in wa.log_text()
    wa.api.answer_always(user.number, None)
    assert user.say("how many sessions do I need?"), "the channel still works"
    assert latest_bot_event(user)["metadata"]["answer_id"] == "procedure.sessions"
    assert len(attempts) == 4


def test_outside_the_24_hour_window_no_free_text_is_sent(wa):
    user = WhatsAppUser(wa, "44")
    status, answer = user.post(user.text("does it hurt?", sent_at=time.time() - 25 * 3600))
    assert status == 200 and answer["accepted"] == 1
    deadline = time.monotonic() + 30
    while not [k for k, _ in user.events() if k == "user"] and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)
    kinds = [k for k, _ in user.events()]
    assert "user" in kinds, "the message is kept in the conversation"
    assert "bot" not in kinds, "no reply is recorded that the person never got"
    assert wa.api.attempts_to(user.number) == []
    logs = wa.log_text()
    assert f"not replying to {user.conversation}" in logs and "template would be needed" in logs


# -- photos, voice notes, location pins, reactions (issue 18) ---------------------------------

DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
# One written form each: the calling code, its region, and a question to start in that form.
FORMS = {
    "en": ("44", "GB", "does it hurt?"),
    "ar": ("966", "SA", "هل الميزوثيرابي مؤلم؟"),
    "ur": ("92", "PK", "کیا میزوتھراپی میں درد ہوتا ہے؟"),
    "roman_ur": ("92", "PK", "mesotherapy ke kitne sessions lagte hain"),
}


def plain_digits(messages: List[Dict[str, Any]]) -> str:
    return full_text(messages).translate(DIGITS)


def bot_answers(user: WhatsAppUser) -> List[tuple]:
    return [
        (d["metadata"].get("answer_id"), d["metadata"].get("lang"))
        for kind, d in user.events()
        if kind == "bot"
    ]


def image(caption: Optional[str] = None) -> Dict[str, Any]:
    fields = {"id": "7788", "mime_type": "image/jpeg", "sha256": "abc"}
    if caption is not None:
        fields["caption"] = caption
    return {"type": "image", "image": fields}


@pytest.mark.parametrize("form", ["en", "ar", "ur", "roman_ur"])
def test_a_photo_whose_caption_reports_a_reaction_gets_urgent_care_with_the_senders_number(wa, store, form):
    from tests.support.shapes import REPLY_LANGUAGE, REPORTS

    code, region, _ = FORMS[form]
    lang = REPLY_LANGUAGE[form]
    user = WhatsAppUser(wa, code)
    sent = user.send(user.message(image(REPORTS[form])))
    assert bot_answers(user)[-2:] == [("safety.urgent", lang), (PICTURE_NOTE_ID, lang)]
    urgent = compose_reply(store, "safety.urgent", lang, region).text
    assert flat(urgent) in flat(full_text(sent))
    assert {"GB": "999", "SA": "997", "PK": "1122"}[region] in plain_digits(sent)
    assert body_of(sent[-1]) == compose_reply(store, PICTURE_NOTE_ID, lang).text, "the note comes last"
    [caption] = [d for k, d in user.events() if k == "user"]
    assert caption["text"] == REPORTS[form] and caption["metadata"]["media"] == "image"


def test_the_issues_photo_from_a_pakistani_number_gets_1122(wa):
    user = WhatsAppUser(wa, "92")
    sent = user.send(
        user.message(
            image(
                "this is my cheek two days after mesotherapy, it is swollen, hot and "
                "there is pus, and I have a fever"
            )
        )
    )
    assert bot_answers(user) == [("safety.urgent", "en"), (PICTURE_NOTE_ID, "en")]
    assert "1122" in plain_digits(sent)


@pytest.mark.parametrize("form", ["en", "ar", "ur", "roman_ur"])
def test_a_voice_note_and_a_bare_photo_get_the_regions_number_and_the_clinic(wa, store, form):
    from tests.support.shapes import REPLY_LANGUAGE

    code, region, question = FORMS[form]
    lang = REPLY_LANGUAGE[form]
    user = WhatsAppUser(wa, code)
    user.say(question)
    voice = {"type": "audio", "audio": {"id": "55", "mime_type": "audio/ogg; codecs=opus", "voice": True}}
    for fields in [voice, image(), image("   ")]:
        sent = user.send(user.message(fields))
        assert flat(full_text(sent)) == flat(compose_reply(store, MEDIA_ID, lang, region).text), fields
        assert {"GB": "999", "SA": "997", "PK": "1122"}[region] in plain_digits(sent)
        assert bot_answers(user)[-1] == (MEDIA_ID, lang)
    clinic = {"GB": "+44 20 7946 0000", "SA": "+966 11 000 0000", "PK": "+92 42 0000 0000"}[region]
    assert clinic in full_text(sent)
    assert len([k for k, _ in user.events() if k == "user"]) == 1, "no words, nothing for the dialogue"


@pytest.mark.parametrize("form", ["en", "ar", "ur", "roman_ur"])
def test_a_karachi_pin_then_a_reaction_from_a_uk_phone_gets_1122_not_999(wa, store, form):
    from tests.support.shapes import REPLY_LANGUAGE, REPORTS

    user = WhatsAppUser(wa, "44")
    user.say(FORMS[form][2])
    pinned = user.send(
        user.message(
            {
                "type": "location",
                "location": {
                    "latitude": 24.8607,
                    "longitude": 67.0011,
                    "name": "Clifton Beach",
                    "address": "Karachi",
                },
            }
        )
    )
    lang = REPLY_LANGUAGE[form]
    assert flat(full_text(pinned)) == flat(compose_reply(store, LOCATION_SET_ID, lang, "PK").text)
    assert store.regions.get("PK").name[lang] in full_text(pinned)
    sent = user.say(REPORTS[form])
    assert bot_answers(user)[-1] == ("safety.urgent", lang)
    assert "1122" in plain_digits(sent) and "999" not in plain_digits(sent)
    later = user.say(FORMS[form][2])  # the pin holds for the rest of the conversation
    assert "999" not in plain_digits(later)
    assert "24.86" not in json.dumps(user.events()), "the coordinates are not kept"


@pytest.mark.parametrize("form", ["en", "ar", "ur", "roman_ur"])
def test_a_dubai_pin_from_a_pakistani_phone_gets_998(wa, store, form):
    from tests.support.shapes import REPLY_LANGUAGE, REPORTS

    user = WhatsAppUser(wa, "92")
    # The pin is the first message: the language is not known yet, so all three, with buttons.
    pinned = user.send(
        user.message({"type": "location", "location": {"latitude": 25.2048, "longitude": 55.2708}})
    )
    for lang in ("en", "ar", "ur"):
        assert store.regions.get("AE").name[lang] in full_text(pinned)
    assert plain_digits(pinned).count("998") >= 3 and pinned[-1]["interactive"]["type"] == "button"
    sent = user.say(REPORTS[form])
    assert bot_answers(user)[-1] == ("safety.urgent", REPLY_LANGUAGE[form])
    assert "998" in plain_digits(sent) and "1122" not in plain_digits(sent)


def test_shared_contacts_get_a_polite_no(wa, store):
    user = WhatsAppUser(wa, "971")
    user.say("ما هي الآثار الجانبية للميزوثيرابي؟")
    sent = user.send(
        user.message(
            {
                "type": "contacts",
                "contacts": [
                    {
                        "name": {"formatted_name": "Dr Sara", "first_name": "Sara"},
                        "phones": [{"phone": "+971 50 123 4567"}],
                    }
                ],
            }
        )
    )
    assert flat(full_text(sent)) == flat(compose_reply(store, CONTACTS_ID, "ar").text)
    assert "123 4567" not in json.dumps(user.events(), ensure_ascii=False)


def wait_for_feedback(user: WhatsAppUser, count: int, timeout: float = 20.0) -> List[Dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = [d["value"] for k, d in user.events() if k == "slot" and d.get("name") == "feedback"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def review_export(wa: WhatsAppRig, tmp_path: Path) -> Dict[str, Any]:
    out = tmp_path / f"review-{uuid.uuid4().hex[:6]}.yml"
    review(wa.servers.tracker_db, out)
    return yaml.safe_load(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("form", ["en", "ar", "ur", "roman_ur"])
def test_a_thumbs_down_reaction_on_an_answer_appears_in_the_review_export(wa, form, tmp_path):
    from tests.support.shapes import REPLY_LANGUAGE

    code, _, question = FORMS[form]
    lang = REPLY_LANGUAGE[form]
    user = WhatsAppUser(wa, code)
    user.say(question)
    answer_id, answered_in = bot_answers(user)[-1]
    assert answered_in == lang
    ours = [a.wamid for a in wa.api.attempts_to(user.number) if a.status == 200][-1]
    WAMIDS_USED.append(ours)  # real wamids encode the number: never stored or logged
    delivered = len(wa.api.delivered(user.number))
    before = review_export(wa, tmp_path)["feedback"] or {}
    before_down = ((before.get(answer_id) or {}).get(lang) or {}).get("not_helpful", 0)

    def react(emoji: str) -> None:
        user.send(
            user.message({"type": "reaction", "reaction": {"message_id": ours, "emoji": emoji}}),
            expect_reply=False,
        )

    react("👎")
    [down] = wait_for_feedback(user, 1)
    assert (down["answer_id"], down["helpful"], down["lang"]) == (answer_id, False, lang)
    export = review_export(wa, tmp_path)
    assert export["feedback"][answer_id][lang]["not_helpful"] == before_down + 1
    mine = [
        m
        for by_intent in export["review"].values()
        for items in by_intent.values()
        for m in items
        if pseudonym(user.conversation) in m["conversations"]
    ]
    assert any(f"thumbs-down on {answer_id}" in m["why"] for m in mine)

    react("")  # removed: the thumbs-down is taken back
    wait_for_feedback(user, 2)
    export = review_export(wa, tmp_path)
    assert ((export["feedback"] or {}).get(answer_id, {}).get(lang, {}).get("not_helpful", 0)) == before_down
    time.sleep(1)
    assert len(wa.api.delivered(user.number)) == delivered, "reactions are not answered"


def test_each_message_is_marked_read_and_shows_typing_while_answered(wa):
    user = WhatsAppUser(wa, "44")
    question = new_wamid(user.number)
    user.send(user.text("does it hurt?", wamid=question))
    voice = new_wamid(user.number)
    user.send(user.message({"type": "audio", "audio": {"id": "9", "voice": True}}, wamid=voice))
    deadline = time.monotonic() + 10
    while not (wa.api.acknowledged(question) and wa.api.acknowledged(voice)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [(a.typing, a.status) for a in wa.api.acknowledged(question)] == [(True, 200)]
    assert [(a.typing, a.status) for a in wa.api.acknowledged(voice)] == [
        (False, 200)
    ], "no typing for a notice"
    answer = [a for a in wa.api.attempts_to(user.number) if a.status == 200][0]
    assert wa.api.acknowledged(question)[0].at <= answer.at, "typing shows before the answer"


@pytest.mark.parametrize("status, delay", [(500, 0.0), (None, 8.0)])
def test_failing_or_hanging_read_receipts_change_nothing(wa, store, status, delay):
    wa.api.fail_acknowledgements(status, delay=delay)
    try:
        user = WhatsAppUser(wa, "92")
        question = new_wamid(user.number)
        started = time.time()
        reply = user.send(user.text("کیا میزوتھراپی میں درد ہوتا ہے؟", wamid=question))
        assert reply[0]["interactive"]["type"] in ("button", "list")
        assert flat(full_text(reply)) == flat(compose_reply(store, "procedure.pain", "ur", "PK").text)
        assert bot_answers(user) == [("procedure.pain", "ur")]
        if delay:
            first = [a for a in wa.api.attempts_to(user.number) if a.status == 200][0]
            assert first.at - started < delay, "the answer did not wait for the hanging read receipt"
        deadline = time.monotonic() + delay + 10
        while not wa.api.acknowledged(question) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(wa.api.acknowledged(question)) == 1, "one attempt, no retries"
        assert "could not mark a message from " + user.conversation in wa.log_text()
    finally:
        wa.api.fail_acknowledgements(None)


# -- restarts and privacy (last: they read everything the tests above left) ---------------------


def test_a_delivery_repeated_after_a_restart_is_ignored(wa):
    user = WhatsAppUser(wa, "92")
    body = user.text("how many sessions do I need?")
    first = user.send(body)
    wa.servers.stop_process("rasa")
    wa.servers.start_rasa()
    status, answer = user.post(body)
    assert status == 200 and answer["duplicates"] == 1
    time.sleep(2)
    assert wa.api.delivered(user.number) == first
    assert user.say("does it hurt?"), "the restarted server answers new messages"


def test_no_phone_number_or_message_id_is_stored_or_logged(wa):
    assert len(NUMBERS_USED) > 10
    with sqlite3.connect(wa.servers.tracker_db) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        stored = "\n".join(
            str(value) for table in tables for row in db.execute(f'SELECT * FROM "{table}"') for value in row
        )
    assert "whatsapp_deliveries" in tables and "wa-" in stored
    logs = wa.log_text()
    assert "whatsapp: answered wa-" in logs
    for secret in NUMBERS_USED + WAMIDS_USED:
        assert secret not in stored, "a phone number or wamid is in the tracker store"
        assert secret not in logs, "a phone number or wamid is in a log"
    for secret in (APP_SECRET, ACCESS_TOKEN, HASH_KEY, VERIFY_TOKEN):
        assert secret not in logs
        for path in wa.servers.logs_dir.glob("*.yml"):
            assert secret not in path.read_text(encoding="utf-8")


# -- no message shape switches the safety decision off (issue 11) -------------------------


@pytest.mark.parametrize("shape", ["leading_slash", "payload_then_text", "full_width", "zero_width", "bidi"])
@pytest.mark.parametrize("form", ["en", "ar", "ur", "roman_ur"])
def test_a_reported_reaction_in_any_shape_gets_urgent_care_on_whatsapp(wa, form, shape):
    from tests.support.shapes import REPLY_LANGUAGE, REPORTS, SHAPES

    user = WhatsAppUser(wa, "92")
    sent = user.say(SHAPES[shape](REPORTS[form]))
    assert latest_bot_event(user)["metadata"]["answer_id"] == "safety.urgent", (form, shape)
    assert latest_bot_event(user)["metadata"]["lang"] == REPLY_LANGUAGE[form]
    digits = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
    assert "1122" in full_text(sent).translate(digits)
