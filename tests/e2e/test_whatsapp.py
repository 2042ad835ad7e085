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
from bot.i18n import TEXT_NEEDED, interface_text
from bot.model import train
from bot.replies import compose_reply
from bot.servers import BotServers, free_port
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
    raw = b"\x1c\x18" + bytes([len(number)]) + number.encode() + b"\x15\x02\x00\x12\x18\x14" + \
        uuid.uuid4().hex[:20].upper().encode()
    wamid = "wamid." + base64.b64encode(raw).decode()
    WAMIDS_USED.append(wamid)
    return wamid


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery(value: Dict[str, Any]) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "WABA_ID", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp",
                                        "metadata": {"display_phone_number": "15550000000",
                                                     "phone_number_id": PHONE_NUMBER_ID}, **value}}]}]},
                      ensure_ascii=False).encode("utf-8")


class WhatsAppUser:
    """One person writing to the clinic's number; `say` returns what the bot sent back."""

    def __init__(self, wa: "WhatsAppRig", calling_code: str, name: str = "Test Person"):
        self.wa = wa
        self.number = new_number(calling_code)
        self.name = name
        self.conversation = conversation_of(self.number)

    def message(self, fields: Dict[str, Any], sent_at: Optional[float] = None,
                wamid: Optional[str] = None) -> bytes:
        return delivery({"contacts": [{"profile": {"name": self.name}, "wa_id": self.number}],
                         "messages": [{"from": self.number, "id": wamid or new_wamid(self.number),
                                       "timestamp": str(int(sent_at or time.time())), **fields}]})

    def text(self, text: str, **kw: Any) -> bytes:
        return self.message({"type": "text", "text": {"body": text}}, **kw)

    def tap_button(self, button_id: str, title: str) -> bytes:
        return self.message({"type": "interactive", "interactive": {
            "type": "button_reply", "button_reply": {"id": button_id, "title": title}}})

    def pick_row(self, row_id: str, title: str) -> bytes:
        return self.message({"type": "interactive", "interactive": {
            "type": "list_reply", "list_reply": {"id": row_id, "title": title}}})

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

    def new_messages(self, number: str, before: int, timeout: float = 40.0,
                     settle: float = 1.0) -> List[Dict]:
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
            rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id",
                              (conversation,))
            return [(kind, json.loads(data)) for kind, data in rows]

    def claimed(self) -> int:
        """Messages recorded as handled (the table exists from the server's start)."""
        with sqlite3.connect(self.servers.tracker_db) as db:
            return db.execute("SELECT COUNT(*) FROM whatsapp_deliveries").fetchone()[0]

    def log_text(self) -> str:
        return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                         for p in sorted(self.servers.logs_dir.glob("*.log")))


@pytest.fixture(scope="module")
def wa(tmp_path_factory) -> WhatsAppRig:
    train()
    run_dir: Path = tmp_path_factory.mktemp("whatsapp")
    credentials = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8"))
    credentials["bot.channels.whatsapp.WhatsAppInput"] = {"text_limit": TEXT_LIMIT}
    credentials_file = run_dir / "credentials.yml"
    credentials_file.write_text(yaml.safe_dump(credentials, allow_unicode=True), encoding="utf-8")
    with FakeGraphAPI(ACCESS_TOKEN, PHONE_NUMBER_ID) as api:
        env = {"WHATSAPP_APP_SECRET": APP_SECRET, "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
               "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN, "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
               "WHATSAPP_API_URL": api.url, "PHONE_HASH_KEY": HASH_KEY}
        servers = BotServers(rasa_port=free_port(), action_port=free_port(),
                             tracker_db=run_dir / "tracker.db", logs_dir=run_dir / "logs",
                             credentials=credentials_file, extra_env=env)
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
    for wrong in (f"hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1",
                  f"hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{wa.servers.whatsapp_webhook}?{wrong}", timeout=10)
        assert refused.value.code == 403


def test_unsigned_forged_and_stale_deliveries_are_refused_and_nothing_is_stored(wa):
    user = WhatsAppUser(wa, "44")
    wamid = new_wamid(user.number)
    genuine = user.text("does it hurt?", wamid=wamid)
    altered = genuine.replace(b"does it hurt?", b"how much is it")  # signed, then changed in transit
    claimed_before = wa.claimed()
    for body, signature in [(genuine, sign(genuine, "not-the-app-secret")),  # forged
                            (genuine, None),  # missing
                            (altered, sign(genuine)),  # stale: the signature of another body
                            (genuine, "sha256=" + "0" * 64),
                            (genuine, "md5=abc")]:
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

    topic = json.loads(buttons[0]["reply"]["id"][len("/ask_topic"):])["topic"]
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


@pytest.mark.parametrize("calling_code, region, lang, question", [
    ("44", "GB", "en", "what are the side effects?"),
    ("971", "AE", "ar", "ما هي الآثار الجانبية للميزوثيرابي؟"),
    ("92", "PK", "ur", "میزوتھراپی کے سائیڈ ایفیکٹس کیا ہیں؟"),
])
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
    topic = json.loads(rows[2]["id"][len("/ask_topic"):])["topic"]
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
    statuses = [{"id": new_wamid(user.number), "status": s, "timestamp": str(int(time.time())),
                 "recipient_id": user.number, **extra}
                for s, extra in [("sent", {}), ("delivered", {}), ("read", {}),
                                 ("failed", {"errors": [{"code": 131047,
                                                         "title": "Re-engagement message"}]})]]
    status, answer = user.post(delivery({"statuses": statuses}))
    assert status == 200 and answer == {"accepted": 0, "duplicates": 0, "statuses": 4}
    time.sleep(1.5)
    assert user.events() == [] and wa.api.attempts_to(user.number) == []


def test_an_image_or_voice_note_gets_a_polite_request_for_text(wa):
    user = WhatsAppUser(wa, "966")
    # A first message with no text: the language is not known yet, so all three.
    image = user.send(user.message({"type": "image", "image": {"id": "1234", "mime_type": "image/jpeg"}}))
    assert len(image) == 1 and image[0]["type"] == "text"
    for lang in ("en", "ar", "ur"):
        assert interface_text(lang, TEXT_NEEDED) in body_of(image[0])
    assert user.events() == []
    user.say("مرحبا")
    for fields in [{"type": "audio", "audio": {"id": "55", "voice": True}},
                   {"type": "location", "location": {"latitude": 24.7, "longitude": 46.7}},
                   {"type": "sticker", "sticker": {"id": "77"}},
                   {"type": "text", "text": {"body": "<b> </b>"}}]:
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
        stored = "\n".join(str(value) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')
                           for value in row)
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
