"""Issue 12 against the real servers: the side door, the action server, id spaces, bad input.

Findings 1, 7, 8 and 9 (the supervisor's findings 2-4 are in test_supervisor.py, logs in
test_log_privacy.py, rate limits in test_rate_limits.py).
"""

import json
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.tools.servers import conversation_key, say

pytestmark = pytest.mark.e2e


def _request(url, body=None, headers=None, method=None):
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw or b"null")
        except ValueError:
            return err.code, raw


def _events(tracker_events, sender):
    return [(kind, json.loads(data)) for kind, data in tracker_events(sender)]


# -- 1. the side door ----------------------------------------------------------------------------


def test_only_the_projects_own_channels_are_open(bot):
    channels = set(yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8")))
    assert channels == {"bot.rasa_server.channels.webchat.WebchatInput"}, "no stock `rest` channel"
    for path in ("/webhooks/rest/webhook", "/webhooks/rest/"):
        status, body = _request(bot.url + path, {"sender": "x", "message": "hello"})
        assert status in (404, 405) and body["code"] in ("not_found", "method_not_allowed"), (path, body)
    # the probe, at the web channel: a 100,000-character message is refused at once
    status, body = say(bot.webhook, f"big-{uuid.uuid4().hex[:8]}", "x" * 100_000)
    assert status == 400 and body["code"] in ("body_too_large", "message_too_long")


# -- 7. the action server ------------------------------------------------------------------------


def test_the_action_server_listens_on_loopback_and_needs_the_secret(bot):
    with open("/proc/net/tcp") as tcp:
        listening = [line.split()[1] for line in tcp.readlines()[1:] if line.split()[3] == "0A"]
    assert [a for a in listening if int(a.split(":")[1], 16) == bot.action_port] == [
        "0100007F:%04X" % bot.action_port
    ]
    call = {"next_action": "action_answer", "tracker": {"sender_id": "x", "events": []}, "domain": {}}
    status, body = _request(f"http://127.0.0.1:{bot.action_port}/webhook", call)
    assert status == 401 and body["code"] == "unauthorized"
    status, body = _request(
        f"http://127.0.0.1:{bot.action_port}/webhook", call, {"Authorization": "Bearer " + "wrong" * 8}
    )
    assert status == 401


# -- 8. conversation ids ----------------------------------------------------------------------------


def test_a_web_client_cannot_write_into_a_conversation_it_did_not_start(bot, tracker_events):
    owner = f"web-{uuid.uuid4().hex}"
    status, body = say(bot.webhook, owner, "does it hurt?")
    assert status == 200 and conversation_key(bot.webhook, owner)
    before = _events(tracker_events, owner)
    stranger = f"web-{uuid.uuid4().hex}"
    assert say(bot.webhook, stranger, "hello")[0] == 200
    answers = set()
    for key in (None, "A" * 43, conversation_key(bot.webhook, stranger)):
        status, body = say(bot.webhook, owner, "my face is swollen and hot", key=key)
        answers.add((status, json.dumps(body)))
    assert answers == {
        (
            403,
            json.dumps(
                {
                    "error": "this conversation's key is missing or wrong; start a new " "conversation",
                    "code": "invalid_conversation_key",
                }
            ),
        )
    }
    assert _events(tracker_events, owner) == before, "nothing was appended"
    status, body = say(bot.webhook, owner, "how many sessions do I need?")
    assert status == 200 and body[0]["answer_id"] == "procedure.sessions", "its owner carries on"


def test_feedback_answers_the_same_whatever_another_conversation_contains(bot, tracker_events):
    victim, other = f"web-{uuid.uuid4().hex}", f"web-{uuid.uuid4().hex}"
    status, body = say(bot.webhook, victim, "my face is swollen and hot since the injections, I have a fever")
    assert status == 200 and body[0]["answer_id"] == "safety.urgent"
    assert say(bot.webhook, other, "what is mesotherapy?")[0] == 200
    feedback = f"{bot.url}/webhooks/webchat/feedback"
    answers = {}
    for target in (victim, other, f"web-{uuid.uuid4().hex}"):
        for key in (None, "B" * 43, conversation_key(bot.webhook, other if target != other else victim)):
            payload = {"sender": target, "answer_id": "safety.urgent", "helpful": False}
            if key:
                payload["conversation_key"] = key
            answers[(target, key)] = _request(feedback, payload)
    assert len({json.dumps(a) for a in answers.values()}) == 1, answers
    assert next(iter(answers.values()))[0] == 403
    assert not [
        e for kind, e in _events(tracker_events, victim) if kind == "slot" and e["name"] == "feedback"
    ]
    # the conversation's own client may give feedback, and learns only about its own answers
    mine = {"sender": victim, "conversation_key": conversation_key(bot.webhook, victim), "helpful": True}
    assert _request(feedback, {**mine, "answer_id": "safety.urgent"})[0] == 200
    assert _request(feedback, {**mine, "answer_id": "procedure.pain"})[1]["code"] == "unknown_answer"


def test_a_web_client_cannot_post_as_a_whatsapp_conversation(bot, tracker_events):
    whatsapp_id = "wa-" + uuid.uuid4().hex
    status, body = say(bot.webhook, whatsapp_id, "hello")
    assert status == 400 and body["code"] == "invalid_sender"
    assert tracker_events(whatsapp_id) == []
    status, body = _request(
        f"{bot.url}/webhooks/webchat/feedback",
        {"sender": whatsapp_id, "answer_id": "procedure.pain", "helpful": True},
    )
    assert status == 403


# -- 9. bad input: 400 with {error, code} on every route, never 500 or 503 ------------------------------


@pytest.mark.parametrize(
    "body, code",
    [
        (
            b'{"sender": "deep", "message": "hi", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "invalid_json",
        ),
        (b'{"sender": "lone", "message": "\\ud800 hurts"}', "invalid_message"),
        (b'{"sender": "lone2", "message": "\\udfff"}', "invalid_message"),
        (b"[]", "invalid_json"),
        (b"", "invalid_json"),
    ],
)
def test_malformed_messages_are_400s(bot, body, code):
    status, answer = _request(bot.webhook, body)
    assert (status, answer["code"]) == (400, code) and answer["error"]


@pytest.mark.parametrize("command", ["/restart", "/session_start", "/back", " /restart ", '/restart{"x": 1}'])
def test_a_typed_control_intent_neither_fails_nor_resets_the_conversation(bot, tracker_events, command):
    sender = f"web-{uuid.uuid4().hex}"
    assert say(bot.webhook, sender, "does it hurt?")[0] == 200
    before = _events(tracker_events, sender)
    status, body = say(bot.webhook, sender, command)
    assert status == 400 and body["code"] == "reserved_command" and body["error"]
    assert _events(tracker_events, sender) == before, "no restart, no new session"
    status, body = say(bot.webhook, sender, "ok")
    assert status == 200


def test_every_route_answers_bad_requests_with_a_json_error(bot):
    feedback = f"{bot.url}/webhooks/webchat/feedback"
    status, body = _request(feedback, b'{"a":' + b"[" * 1000 + b"]" * 1000 + b"}")
    assert (status, body["code"]) == (400, "invalid_json")
    status, body = _request(bot.url + "/webhooks/webchat/no-such-route", {"a": 1})
    assert (status, body["code"]) == (404, "not_found")
    status, body = _request(bot.webhook, method="GET")
    assert (status, body["code"]) == (405, "method_not_allowed")
    # a body over the server's 1 MB limit is refused from its Content-Length, before it is read
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", bot.rasa_port, timeout=30)
    connection.putrequest("POST", "/webhooks/webchat/webhook")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(2 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["code"]) == (413, "body_too_large")
    connection.close()
