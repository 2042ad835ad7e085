"""The Rasa server's action-server client: one kept-alive connection, replies still validated."""

import asyncio

import pytest
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.channels import _action_client


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
