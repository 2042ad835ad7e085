"""Sending through the Graph API: retried on 429 and 5xx, never fatal. Against a loopback fake."""

import asyncio
import logging
import socket

import pytest

from bot.rasa_server.channels._whatsapp_graph import GraphAPI, log_safe
from tests.e2e.fake_graph_api import FakeGraphAPI

TOKEN, NUMBER_ID, TO = "test-token", "1234567890", "447700900123"
MESSAGE = {"type": "text", "text": {"preview_url": False, "body": "Hello."}}


@pytest.fixture
def api():
    with FakeGraphAPI(TOKEN, NUMBER_ID) as fake:
        yield fake


def _send(url, token=TOKEN, message=MESSAGE, timeout=5.0):
    async def go():
        graph = GraphAPI(url, NUMBER_ID, token, timeout=timeout, backoff=(0.05, 0.1, 0.2))
        try:
            return await graph.send(TO, message, "wa-hashed")
        finally:
            await graph.close()

    return asyncio.run(go())


def test_a_message_is_posted_with_the_token(api):
    assert _send(api.url) == api.attempts_to(TO)[0].wamid, "the id the API gave the message"
    [sent] = api.delivered(TO)
    assert sent == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO, **MESSAGE}


@pytest.mark.parametrize("statuses", [[500], [429, 502], [503, 500, 500]])
def test_429_and_5xx_are_retried(api, statuses):
    api.answer(TO, statuses)
    assert _send(api.url)
    assert [a.status for a in api.attempts_to(TO)] == statuses + [200]


def test_an_api_that_keeps_failing_gives_up_after_four_attempts_and_logs_it(api, caplog):
    api.answer_always(TO, 500)
    with caplog.at_level(logging.WARNING):
        assert _send(api.url) is None
    assert len(api.attempts_to(TO)) == 4
    assert "gave up" in caplog.text and "wa-hashed" in caplog.text and TO not in caplog.text


@pytest.mark.parametrize(
    "token, message", [("wrong-token", MESSAGE), (TOKEN, {"type": "text", "text": {"body": "x" * 5000}})]
)
def test_a_refused_request_is_not_retried(api, token, message, caplog):
    with caplog.at_level(logging.ERROR):
        assert _send(api.url, token=token, message=message) is None
    assert len(api.attempts_to(TO)) <= 1 and "refused" in caplog.text


def test_an_unreachable_api_is_not_fatal(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    with caplog.at_level(logging.ERROR):
        assert _send(f"http://127.0.0.1:{port}/v21.0") is None
    assert "gave up" in caplog.text


def test_a_hanging_api_times_out():
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/v21.0"
        assert _send(url, timeout=0.3) is None


def test_phone_numbers_are_scrubbed_from_logged_api_errors():
    text = log_safe('{"error": {"message": "Recipient +44 7700 900123 not in allowed list (447700900123)"}}')
    assert "7700" not in text and "900123" not in text and "<number>" in text
