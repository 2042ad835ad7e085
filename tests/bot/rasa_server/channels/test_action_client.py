"""The Rasa server's action-server client: one kept-alive connection, replies still validated."""

import asyncio
import json

import pytest
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.rasa_server.channels import _action_client


@pytest.fixture
def patched(monkeypatch):
    monkeypatch.setattr(EndpointConfig, "request", _action_client._request)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", _action_client._validate_action_result)
    _action_client._sessions.clear()


def _action_server(peers: list):
    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"events": [], "responses": [{"text": "hello"}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    return app


def test_messages_reuse_one_connection_to_the_action_server(patched):
    peers: list = []

    async def main():
        runner = web.AppRunner(_action_server(peers))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        replies = [
            await endpoint.request(json={"next_action": "action_answer"}, method="post", timeout=5)
            for _ in range(5)
        ]
        await runner.cleanup()
        for session in _action_client._sessions.values():
            await session.close()
        return replies

    replies = asyncio.run(main())
    assert replies == [{"events": [], "responses": [{"text": "hello"}]}] * 5
    assert len(peers) == 5 and len(set(peers)) == 1  # five calls, one TCP connection


def test_an_action_reply_is_still_checked_against_rasas_schema(patched):
    action = RemoteAction("action_answer", EndpointConfig(url="http://127.0.0.1:1/webhook"))
    assert action._validate_action_result(
        {"events": [{"event": "slot", "name": "language", "value": "en"}], "responses": [{"text": "hi"}]}
    )
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "slot", "name": 5}], "responses": "not a list"})


def _conversation(turns: int):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load("domain.yml")
    tracker = DialogueStateTracker("someone", domain.slots)
    tracker.update(SlotSet("language", "ur"))
    for turn in range(turns):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"question {turn}", {"name": "ask_pain", "confidence": 0.9}, [],
                                   parse_data={"original_text": f"Question {turn}"}, metadata={"turn": turn}))  # fmt: skip
        tracker.update(ActionExecuted("action_answer"))
        tracker.update(BotUttered(f"answer {turn}"))
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("the latest", {"name": "ask_downtime", "confidence": 0.8}, [],
                               parse_data={"original_text": "The latest"}, metadata={"turn": "latest"}))  # fmt: skip
    return tracker, domain


def test_the_action_call_carries_the_latest_turn_and_everything_the_action_reads(monkeypatch):
    from rasa_sdk import Tracker

    from actions.turn import turn_from_tracker

    tracker, domain = _conversation(40)
    action = RemoteAction(
        "action_answer", EndpointConfig(url="http://127.0.0.1:1/webhook", enable_selective_domain=True)
    )
    stock = action._action_call_format(tracker, domain)
    monkeypatch.setattr(RemoteAction, "_action_call_format", _action_client._action_call_format)
    ours = action._action_call_format(tracker, domain)

    assert [e["event"] for e in ours["tracker"]["events"]] == ["user"]
    assert len(stock["tracker"]["events"]) == 1 + 4 * 40 + 2
    assert {k: v for k, v in ours["tracker"].items() if k != "events"} == {
        k: v for k, v in stock["tracker"].items() if k != "events"
    }
    assert {k: v for k, v in ours.items() if k != "tracker"} == {
        k: v for k, v in stock.items() if k != "tracker"
    }
    # What the action decides on is the same from either call, and the call no longer grows.
    read = [turn_from_tracker(Tracker.from_dict(call["tracker"])) for call in (ours, stock)]
    assert read[0] == read[1]
    assert (
        read[0].text == "The latest" and read[0].metadata == {"turn": "latest"} and read[0].language == "ur"
    )
    assert len(json.dumps(ours)) < len(json.dumps(action._action_call_format(*_conversation(2)))) + 50


def test_a_call_without_a_user_message_carries_every_event():
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    assert _action_client.latest_turn(events) == events


REPLIES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "language", "value": "ar"}], "responses": [{"text": "مرحبا"}]},
    {"events": [{"event": "slot", "name": "region", "value": None, "timestamp": None}]},
    {"events": [{"event": "followup", "name": "action_answer"}, {"event": "bot", "text": "hi"}]},
    {
        "events": [
            {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1}}}
        ]
    },
    {"events": [{"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0}]},
    {"events": [{"event": "reset_slots"}, {"event": "restart"}, {"event": "session_started"}]},
    {},
    # broken, each in one way
    {"events": [{"event": "slot", "name": "language"}]},
    {"events": [{"event": "slot", "name": 5, "value": "en"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": 7}]},
    {"events": [{"name": "language", "value": "en"}]},
    {"events": ["slot"]},
    {"events": {"event": "slot"}},
    {"events": [], "responses": "not a list"},
    {"events": [], "responses": ["text"]},
    {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "yesterday"}]},
    {"events": [{"event": "user", "parse_data": {"intent": {"name": 3}}}]},
    {"events": [{"event": "entities", "entities": [{"entity": "place"}]}]},
    {"events": [{"event": "action", "hide_rule_turn": "yes"}]},
    [],
    "not a reply",
]


@pytest.mark.parametrize("reply", REPLIES)
def test_a_reply_is_accepted_or_refused_exactly_as_rasa_would(reply):
    from jsonschema import validate

    spec = RemoteAction.action_response_format_spec()
    try:
        validate(reply, spec)
        rasa_accepts = True
    except ValidationError:
        rasa_accepts = False
    try:
        _action_client.ReplyCheck(spec).validate(reply)
        we_accept = True
    except ValidationError:
        we_accept = False
    assert we_accept == rasa_accepts
