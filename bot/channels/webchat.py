"""The website widget's channel: Rasa's `rest` contract plus the answer fields.

`POST /webhooks/webchat/webhook` with `{"sender", "message", "metadata"}` returns the
bot's messages, each with `answer_id`, `lang`, `dir`, `kind` and `version` (see
docs/webchat-channel.md). Bad input gets a 400 with a JSON error; nothing reaches the
dialogue engine.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels._action_client import reuse_action_server_connections
from bot.channels._offline import DEFAULT_ACTION_TIMEOUT, limit_action_server_wait, offline_reply
from bot.channels._sanitize import SENDER_ID, clean_user_text
from bot.channels._widget_routes import OriginPolicy, demo_page, register_widget_routes, wants_html

logger = logging.getLogger(__name__)

REPLY_FIELDS = ("answer_id", "lang", "dir", "kind", "version")
DEFAULT_MAX_MESSAGE_LENGTH = 2000
MAX_BODY_BYTES = 64 * 1024
_REGION = re.compile(r"[A-Za-z]{2}(?:-[A-Za-z0-9]{1,3})?")  # GB, or IQ-KR (ISO 3166-2)
_LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}")


class BadRequest(ValueError):
    """A request the channel refuses, with the reason shown to the client."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


class WebchatOutput(CollectingOutputChannel):
    """Collects the bot's messages with the fields the widget renders."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        out: Dict[str, Any] = {"recipient_id": recipient_id}
        if message.get("text"):
            out["text"] = message["text"]
        if message.get("buttons"):
            out["buttons"] = [{"title": b.get("title", ""), "payload": b.get("payload", "")}
                              for b in message["buttons"]]
        for key in REPLY_FIELDS:
            if message.get(key) is not None:
                out[key] = message[key]
        self.messages.append(out)


def parse_request(body: bytes, max_message_length: int) -> Dict[str, Any]:
    """Check and clean a webhook body; raises `BadRequest` saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes", "body_too_large")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the body is not JSON; send {\"sender\": ..., \"message\": ...}", "invalid_json")
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object with 'sender' and 'message'", "invalid_json")
    sender, message = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
        raise BadRequest("'sender' is missing or invalid: 1-128 letters, digits or _.:@-", "invalid_sender")
    if not isinstance(message, str):
        raise BadRequest("'message' is missing or is not text", "invalid_message")
    if len(message) > max_message_length:
        raise BadRequest(f"'message' is longer than {max_message_length} characters", "message_too_long")
    text = clean_user_text(message)
    if not text:
        raise BadRequest("'message' is empty", "empty_message")
    return {"sender": sender, "text": text, "metadata": _metadata(payload.get("metadata"))}


def _metadata(raw: Any) -> Dict[str, str]:
    """Only the hints the bot uses, and only well-formed ones."""
    if not isinstance(raw, dict):
        return {}
    out = {}
    if isinstance(raw.get("locale"), str) and _LOCALE.fullmatch(raw["locale"]):
        out["locale"] = raw["locale"]
    if isinstance(raw.get("region"), str) and _REGION.fullmatch(raw["region"]):
        out["region"] = raw["region"].upper()
    return out


class WebchatInput(InputChannel):
    """The `webchat` channel registered in credentials.yml."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebchatInput":
        credentials = credentials or {}
        limit_action_server_wait(float(credentials.get("action_timeout") or DEFAULT_ACTION_TIMEOUT))
        if credentials.get("reuse_action_connections", True):  # one kept-alive pool, see _action_client
            reuse_action_server_connections()
        limit = int(credentials.get("max_message_length") or DEFAULT_MAX_MESSAGE_LENGTH)
        return cls(max_message_length=limit,
                   origins=OriginPolicy.from_credentials(credentials.get("cors_origins")))

    def __init__(self, max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
                 origins: Optional[OriginPolicy] = None) -> None:
        self.max_message_length = max_message_length
        self.origins = origins or OriginPolicy()  # default: pages served by the bot itself only

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("webchat_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            if wants_html(request.headers.get("accept")):  # a browser: the widget's demo page
                return demo_page(request)
            return response.json({"status": "ok", "channel": self.name()})

        register_widget_routes(webhook, self.origins)  # widget files, strings, feedback, CORS

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                parsed = parse_request(request.body or b"", self.max_message_length)
            except BadRequest as err:
                return response.json({"error": str(err), "code": err.code}, status=400)
            collector = WebchatOutput()
            message = UserMessage(parsed["text"], collector, parsed["sender"],
                                  input_channel=self.name(), metadata=parsed["metadata"])
            try:
                await on_new_message(message)
            except asyncio.CancelledError:
                logger.error("webchat: handling a message timed out")
            except Exception:  # noqa: BLE001 - the person must get an answer, never a 500
                logger.exception("webchat: handling a message failed")
            if collector.messages:
                return response.json(collector.messages)
            # Nothing was answered: the action server is down or too slow.
            try:
                urgent = await offline_reply(getattr(request.app.ctx, "agent", None), parsed["sender"],
                                             parsed["text"], parsed["metadata"])
            except Exception:  # noqa: BLE001
                logger.exception("webchat: the built-in urgent reply failed")
                urgent = []
            if urgent:
                return response.json(urgent)
            return response.json({"error": "the assistant could not answer just now; please try again",
                                  "code": "unavailable"}, status=503)

        return webhook
