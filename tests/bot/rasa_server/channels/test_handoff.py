"""Requests to be contacted by staff (bot/rasa_server/channels/_handoff.py): settings, checks, storage, delivery."""

import asyncio
import json
import logging
import os
import stat

import pytest

from bot.rasa_server.channels._handoff import (
    DELIVERED,
    FAILED,
    PENDING,
    HandoffConfigError,
    HandoffDesk,
    HandoffSettings,
    HandoffStore,
    parse_handoff,
    webhook_sender,
)
from bot.rasa_server.channels._widget_routes import Refused
from tests.support.fake_staff_webhook import FakeStaffWebhook

SECRET = "a-shared-secret-of-32-characters"
PERSON = {"name": "Sara Khan", "phone": "+44 7700 900123", "email": "sara@example.org"}


def _settings(tmp_path, **options) -> HandoffSettings:
    env = {
        "HANDOFF_WEBHOOK_URL": "https://staff.clinic.example/hooks/handoff",
        "HANDOFF_WEBHOOK_SECRET": SECRET,
        "HANDOFF_DB": str(tmp_path / "handoff.db"),
    }
    return HandoffSettings.from_environment(env, options)


# ---- settings ---------------------------------------------------------------------------


def test_without_a_staff_webhook_nothing_is_offered():
    assert HandoffSettings.from_environment({}) is None


def test_the_settings_come_from_the_environment_and_credentials(tmp_path):
    settings = _settings(tmp_path, retry_seconds=[1, 2.5], keep_days=7)
    assert settings.url == "https://staff.clinic.example/hooks/handoff" and settings.secret == SECRET
    assert settings.db == tmp_path / "handoff.db"
    assert (settings.retry_seconds, settings.keep_days) == ((1.0, 2.5), 7.0)
    local = HandoffSettings.from_environment(
        {"HANDOFF_WEBHOOK_URL": "http://127.0.0.1:8080/x", "HANDOFF_WEBHOOK_SECRET": SECRET}
    )
    assert local.url.startswith("http://127.0.0.1"), "plain http is allowed to this machine"


@pytest.mark.parametrize(
    "env, options, says",
    [
        ({"HANDOFF_WEBHOOK_URL": "https://x.example/h"}, None, "HANDOFF_WEBHOOK_SECRET is not set"),
        ({"HANDOFF_WEBHOOK_SECRET": SECRET}, None, "HANDOFF_WEBHOOK_URL is not set"),
        (
            {"HANDOFF_WEBHOOK_URL": "https://x.example/h", "HANDOFF_WEBHOOK_SECRET": "short"},
            None,
            "at least 16",
        ),
        (
            {"HANDOFF_WEBHOOK_URL": "http://staff.example/h", "HANDOFF_WEBHOOK_SECRET": SECRET},
            None,
            "https://",
        ),
        ({"HANDOFF_WEBHOOK_URL": "ftp://x.example/h", "HANDOFF_WEBHOOK_SECRET": SECRET}, None, "https://"),
        (
            {"HANDOFF_WEBHOOK_URL": "https://x.example/h", "HANDOFF_WEBHOOK_SECRET": SECRET},
            {"retry_seconds": [10, -1]},
            "retry_seconds",
        ),
    ],
)
def test_a_half_configured_or_unsafe_webhook_stops_the_start(env, options, says):
    with pytest.raises(HandoffConfigError, match=says):
        HandoffSettings.from_environment(env, options)


# ---- what a person sends ------------------------------------------------------------------------


def _body(**payload) -> bytes:
    return json.dumps({"sender": "web-1", "consent": True, **payload}).encode()


def test_a_good_request():
    parsed = parse_handoff(
        _body(
            name="  Sara <b>Khan</b> ",
            phone="+92 300 1234567",
            email="",
            lang="ur",
            conversation_key="Ab_-09",
            extra="dropped",
        )
    )
    assert parsed == {
        "sender": "web-1",
        "conversation_key": "Ab_-09",
        "name": "Sara Khan",
        "phone": "+92 300 1234567",
        "email": "",
        "lang": "ur",
    }
    # Arabic-Indic digits, as an Arabic or Urdu keyboard types them
    assert parse_handoff(_body(name="سارة", phone="+٩٦٦ ٥٠ ١٢٣ ٤٥٦٧"))["phone"] == "+966 50 123 4567"
    assert parse_handoff(_body(name="Sara", email="sara@example.org", lang="fr"))["lang"] is None


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", "invalid_json"),
        (b"[]", "invalid_json"),
        (b"{" + b" " * 5000 + b"}", "body_too_large"),
        (
            json.dumps({"name": "Sara", "phone": "+44 7700 900123", "consent": True}).encode(),
            "invalid_sender",
        ),
        (_body(sender="a b", name="Sara", phone="+44 7700 900123"), "invalid_sender"),
        (_body(name="Sara", phone="+44 7700 900123", conversation_key="<x>"), "invalid_conversation_key"),
        (_body(phone="+44 7700 900123"), "invalid_name"),
        (_body(name="<b></b>", phone="+44 7700 900123"), "invalid_name"),
        (_body(name="x" * 101, phone="+44 7700 900123"), "invalid_name"),
        (_body(name="Sara"), "contact_needed"),
        (_body(name="Sara", phone="", email=""), "contact_needed"),
        (_body(name="Sara", phone="12345"), "invalid_phone"),
        (_body(name="Sara", phone="call me maybe"), "invalid_phone"),
        (_body(name="Sara", phone="+44 +7700 900123"), "invalid_phone"),
        (_body(name="Sara", phone="1" * 16), "invalid_phone"),
        (_body(name="Sara", email="sara@"), "invalid_email"),
        (_body(name="Sara", email="<sara@example.org>"), "invalid_email"),
        (_body(name="Sara", phone="+44 7700 900123", consent=False), "consent_needed"),
        (_body(name="Sara", phone="+44 7700 900123", consent="true"), "consent_needed"),
        (
            json.dumps({"sender": "web-1", "name": "Sara", "phone": "+44 7700 900123"}).encode(),
            "consent_needed",
        ),
    ],
)
def test_a_bad_request_is_refused_with_a_reason(body, code):
    with pytest.raises(Refused) as err:
        parse_handoff(body)
    assert err.value.code == code and err.value.status == 400 and str(err.value)


# ---- where requests are kept ----------------------------------------------------------------------


def test_requests_are_kept_in_a_file_only_the_bots_user_can_read(tmp_path):
    store = HandoffStore(tmp_path / "var" / "handoff.db")
    store.add("r1", "web-1", {"name": "Sara"}, 100.0)
    assert stat.S_IMODE(os.stat(tmp_path / "var" / "handoff.db").st_mode) == 0o600
    assert store.count("web-1") == 1 and store.count("web-2") == 0


def test_a_request_is_leased_to_one_process_at_a_time(tmp_path):
    first, second = HandoffStore(tmp_path / "h.db"), HandoffStore(tmp_path / "h.db")
    first.add("r1", "web-1", {}, 100.0)
    assert [r["id"] for r in first.claim(100.0, lease=15)] == ["r1"]
    assert second.claim(101.0, lease=15) == [], "another server process does not deliver it at the same time"
    assert [r["id"] for r in second.claim(116.0, lease=15)] == [
        "r1"
    ], "a lease that ran out: a crashed process"


def test_finished_requests_are_deleted_after_keep_days(tmp_path):
    store = HandoffStore(tmp_path / "h.db")
    for request_id, status in (("old", DELIVERED), ("gone", FAILED), ("waiting", PENDING)):
        store.add(request_id, "web-1", {}, 100.0)
        if status != PENDING:
            store.finish(request_id, status, 1, 100.0)
    assert store.purge(before=200.0) == 2
    assert store.status("waiting")["status"] == PENDING and store.status("old") is None


# ---- delivery -------------------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Receiver:
    """An injected transport: fails `failures` times, then accepts."""

    def __init__(self, failures=0):
        self.failures = failures
        self.accepted = []
        self.attempts = 0

    async def __call__(self, payload):
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            return "HTTP 503"
        self.accepted.append(payload)
        return None


def test_a_request_is_delivered_at_once(tmp_path):
    receiver = Receiver()
    desk = HandoffDesk(_settings(tmp_path), send=receiver, clock=Clock())
    request_id, status = asyncio.run(desk.submit("web-1", {"type": "handoff_request", **PERSON}))
    assert status == DELIVERED
    assert receiver.accepted == [
        {
            "type": "handoff_request",
            **PERSON,
            "id": request_id,
            "created_at": "1970-01-01T00:16:40+00:00",
            "attempt": 1,
        }
    ]
    assert desk.store.status(request_id) == {"status": DELIVERED, "attempts": 1, "last_error": None}


def test_an_unreachable_webhook_is_tried_again_with_back_off_then_given_up(tmp_path, caplog):
    clock, receiver = Clock(), Receiver(failures=10)
    desk = HandoffDesk(_settings(tmp_path, retry_seconds=[10, 60]), send=receiver, clock=clock)
    caplog.set_level(logging.INFO)

    async def scenario():
        request_id, status = await desk.submit("web-1", dict(PERSON))
        assert status == "queued"
        assert await desk.deliver_due() == 0, "not before its time"
        clock.now += 10
        assert await desk.deliver_due() == 1
        clock.now += 30
        assert await desk.deliver_due() == 0, "the second wait is longer"
        clock.now += 30
        assert await desk.deliver_due() == 1
        return request_id

    request_id = asyncio.run(scenario())
    assert receiver.attempts == 3
    assert desk.store.status(request_id) == {"status": FAILED, "attempts": 3, "last_error": "HTTP 503"}
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"request {request_id} could not be delivered after 3 attempts" in logged
    for detail in PERSON.values():  # a request is logged by its id, never by what it holds
        assert detail not in logged


def test_a_webhook_that_comes_back_gets_the_request(tmp_path):
    clock, receiver = Clock(), Receiver(failures=1)
    desk = HandoffDesk(_settings(tmp_path, retry_seconds=[5]), send=receiver, clock=clock)

    async def scenario():
        request_id, status = await desk.submit("web-1", dict(PERSON))
        clock.now += 5
        await desk.deliver_due()
        return request_id, status

    request_id, status = asyncio.run(scenario())
    assert status == "queued" and [p["attempt"] for p in receiver.accepted] == [2]
    assert desk.store.status(request_id)["status"] == DELIVERED


def test_the_background_loop_delivers_what_is_due(tmp_path):
    receiver = Receiver(failures=2)
    desk = HandoffDesk(_settings(tmp_path, retry_seconds=[0.05, 0.05, 0.05]), send=receiver)

    async def scenario():
        loop = asyncio.ensure_future(desk.run(poll=0.2))
        request_id, _ = await desk.submit("web-1", dict(PERSON))
        for _ in range(100):
            if desk.store.status(request_id)["status"] == DELIVERED:
                break
            await asyncio.sleep(0.05)
        loop.cancel()
        return request_id

    request_id = asyncio.run(scenario())
    assert desk.store.status(request_id)["status"] == DELIVERED and receiver.attempts == 3


def test_the_staff_webhook_gets_json_and_the_shared_secret(tmp_path):
    """The real HTTP sender against a staff webhook on loopback."""
    hook = FakeStaffWebhook(SECRET)
    try:
        settings = HandoffSettings.from_environment(
            {
                "HANDOFF_WEBHOOK_URL": hook.url,
                "HANDOFF_WEBHOOK_SECRET": SECRET,
                "HANDOFF_DB": str(tmp_path / "h.db"),
            }
        )
        send = webhook_sender(settings)
        assert asyncio.run(send({"id": "r1", **PERSON})) is None
        assert hook.received[0]["body"] == {"id": "r1", **PERSON}
        assert hook.received[0]["headers"]["x-handoff-secret"] == SECRET
        assert hook.received[0]["headers"]["content-type"].startswith("application/json")
        hook.fail_next(1, 500)
        assert asyncio.run(send({"id": "r2"})) == "HTTP 500"
        wrong = webhook_sender(
            HandoffSettings(url=hook.url, secret="another-secret-of-32-characters!", db=tmp_path / "h.db")
        )
        assert asyncio.run(wrong({"id": "r3"})) == "HTTP 401"
    finally:
        hook.close()
    assert asyncio.run(send({"id": "r4"})) in (
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ClientOSError",
    ), "a webhook that is gone is a failure, not a crash"
