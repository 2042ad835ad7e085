"""The website widget's channel: Rasa's `rest` contract plus the answer fields.

`POST /webhooks/webchat/webhook` with `{"sender", "message", "metadata",
"conversation_key"}` returns the bot's messages, each with `answer_id`, `lang`, `dir`,
`kind` and `version` (see docs/webchat-channel.md). Bad input gets a 400 with a JSON
error; nothing reaches the dialogue engine. Around the dialogue, in their own modules:
rate limits (`_ratelimit`), conversation keys (`_conversation_keys`), keeping message
text out of the logs (`bot.core.log_privacy`), a message sent again stored once (`_resend`)
and requests to be contacted by staff (`_handoff`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.core import log_privacy
from bot.core.payloads import as_user_text
from bot.rasa_server.channels._action_client import reuse_action_server_connections
from bot.rasa_server.channels._conversation_keys import (
    INVALID_KEY,
    KEY_HEADER,
    ConversationKeys,
    conversation_exists,
    reserved,
)
from bot.rasa_server.channels._handoff import HandoffDesk, HandoffSettings, register_handoff_route
from bot.rasa_server.channels._offline import DEFAULT_ACTION_TIMEOUT, limit_action_server_wait, offline_reply
from bot.rasa_server.channels._ratelimit import RateLimiter, RateLimits, request_language, too_many_requests
from bot.rasa_server.channels._resend import answer_again, send_stored_replies, stored_message
from bot.rasa_server.channels._sanitize import SENDER_ID, clean_user_text, control_command
from bot.rasa_server.channels._widget_routes import (
    OriginPolicy,
    demo_page,
    register_widget_routes,
    wants_html,
)

logger = logging.getLogger(__name__)

REPLY_FIELDS = ("answer_id", "lang", "dir", "kind", "version")
DEFAULT_MAX_MESSAGE_LENGTH = 2000
MAX_BODY_BYTES = 64 * 1024
_REGION = re.compile(r"[A-Za-z]{2}(?:-[A-Za-z0-9]{1,3})?")  # GB, or IQ-KR (ISO 3166-2)
_LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")
_MESSAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What a `url` button may open: a phone call, a web page (WhatsApp's wa.me links included).
_LINK_SCHEMES = ("tel:", "https://", "http://")
HANDOFF_KIND = "handoff"


class BadRequest(ValueError):
    """A request the channel refuses, with the reason shown to the client."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


class WebchatOutput(CollectingOutputChannel):
    """Collects the bot's messages with the fields the widget renders.

    A button has either a `payload` (sent back as the next message) or a `url` (a `tel:`
    link or a web page the client opens: the clinic's phone, WhatsApp and booking page),
    the `url` ones first. `contact_form: true` marks a handoff reply under which the
    client may offer the contact form, only when the bot can deliver it to staff.
    """

    def __init__(self, contact_form: bool = False) -> None:
        super().__init__()
        self.contact_form = contact_form

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        out: Dict[str, Any] = {"recipient_id": recipient_id}
        if message.get("text"):
            out["text"] = message["text"]
        buttons = [
            {"title": str(b.get("title", "")), "url": str(b["url"])}
            for b in message.get("links") or []
            if isinstance(b, dict) and str(b.get("url", "")).startswith(_LINK_SCHEMES)
        ]
        buttons += [
            {"title": b.get("title", ""), "payload": b.get("payload", "")}
            for b in message.get("buttons") or []
        ]
        if buttons:
            out["buttons"] = buttons
        for key in REPLY_FIELDS:
            if message.get(key) is not None:
                out[key] = message[key]
        if self.contact_form and message.get("kind") == HANDOFF_KIND:
            out["contact_form"] = True
        self.messages.append(out)


def parse_request(body: bytes, max_message_length: int) -> Dict[str, Any]:
    """Check and clean a webhook body; raises `BadRequest` saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"the request body is larger than {MAX_BODY_BYTES} bytes", "body_too_large")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        raise BadRequest('the body is not JSON; send {"sender": ..., "message": ...}', "invalid_json")
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object with 'sender' and 'message'", "invalid_json")
    sender, message = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
        raise BadRequest("'sender' is missing or invalid: 1-128 letters, digits or _.:@-", "invalid_sender")
    if reserved(sender):
        raise BadRequest("'sender' may not start with another channel's prefix (wa-)", "invalid_sender")
    if not isinstance(message, str):
        raise BadRequest("'message' is missing or is not text", "invalid_message")
    if _SURROGATE.search(message):
        raise BadRequest("'message' is not valid Unicode text", "invalid_message")
    if len(message) > max_message_length:
        raise BadRequest(f"'message' is longer than {max_message_length} characters", "message_too_long")
    cleaned = clean_user_text(message)
    if control_command(cleaned):
        # Rasa's /restart, /session_start, /back: a person must not reset the conversation's record
        raise BadRequest(f"'{control_command(cleaned)}' is reserved and cannot be sent", "reserved_command")
    # Only an exact button payload of ours skips understanding; any other text (a typed
    # "/..." or a payload with words after it) is read, safety decision included.
    text = as_user_text(cleaned)
    if not text:
        raise BadRequest("'message' is empty", "empty_message")
    key = payload.get("conversation_key")
    if key is not None and (not isinstance(key, str) or not _KEY.fullmatch(key)):
        raise BadRequest("'conversation_key' is not a conversation key", INVALID_KEY)
    message_id = payload.get("message_id")
    if message_id is not None and (not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id)):
        raise BadRequest("'message_id' must be 8-64 letters, digits, _ or -", "invalid_message_id")
    return {
        "sender": sender,
        "text": text,
        "metadata": _metadata(payload.get("metadata")),
        "conversation_key": key,
        "message_id": message_id,
        "retry": payload.get("retry") is True and message_id is not None,
    }


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
        # requests to be contacted by staff: only with a staff webhook (HANDOFF_WEBHOOK_URL)
        handoff = HandoffSettings.from_environment(options=credentials.get("handoff"))
        return cls(
            max_message_length=limit,
            origins=OriginPolicy.from_credentials(credentials.get("cors_origins")),
            rate_limits=RateLimits.from_credentials(credentials.get("rate_limits")),
            keys=ConversationKeys.from_environment(),
            handoff=HandoffDesk(handoff) if handoff else None,
        )

    def __init__(
        self,
        max_message_length: int = DEFAULT_MAX_MESSAGE_LENGTH,
        origins: Optional[OriginPolicy] = None,
        rate_limits: Optional[RateLimits] = None,
        keys: Optional[ConversationKeys] = None,
        handoff: Optional[HandoffDesk] = None,
    ) -> None:
        self.max_message_length = max_message_length
        self.origins = origins or OriginPolicy()  # default: pages served by the bot itself only
        self.limiter = RateLimiter(rate_limits or RateLimits())
        self.keys = keys or ConversationKeys.from_environment()
        self.handoff = handoff

    async def admit(
        self,
        request: Request,
        sender: Optional[str],
        key: Optional[str],
        locale: Optional[str] = None,
        new_allowed: bool = True,
    ) -> Optional[HTTPResponse]:
        """None if the request may go on; else the 429 or 403 to answer.

        Rate limits first (cheap, and a refused request reads nothing); then the key:
        a keyless request may only start a conversation (`new_allowed`), never continue one.
        """
        agent = getattr(request.app.ctx, "agent", None)
        wait = await self.limiter.check(agent, self.limiter.address_of(request), sender)
        if wait:
            return too_many_requests(wait, request_language(locale, request.headers.get("accept-language")))
        if sender is None or self.keys.holds(sender, key):
            return None
        if key is None and new_allowed and agent is not None and not await conversation_exists(agent, sender):
            return None
        return response.json(
            {
                "error": "this conversation's key is missing or wrong; " "start a new conversation",
                "code": INVALID_KEY,
            },
            status=403,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("webchat_webhook", __name__)

        @webhook.route("/", methods=["GET", "HEAD"])
        async def health(request: Request) -> HTTPResponse:
            # the same address answers a browser and a health check: caches must keep both apart
            vary = {"Vary": "Accept, Accept-Encoding, Origin"}
            if wants_html(request.headers.get("accept")):  # a browser: the widget's demo page
                page = demo_page(request)
                page.headers.update(vary)
                return page
            return response.json({"status": "ok", "channel": self.name()}, headers=vary)  # HEAD: no body

        def admit_existing(request: Request, sender: str, key: Optional[str]):
            return self.admit(request, sender, key, new_allowed=False)

        # widget files, strings, feedback (admitted like messages), CORS
        register_widget_routes(webhook, self.origins, admit=admit_existing)
        # a request to be contacted by staff (admitted like feedback), delivered in the background
        register_handoff_route(webhook, self.handoff, admit=admit_existing)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                parsed = parse_request(request.body or b"", self.max_message_length)
            except BadRequest as err:
                # a flood of bad requests is limited like any other: by client address
                refused = await self.admit(request, None, None)
                return refused or response.json({"error": str(err), "code": err.code}, status=400)
            with self.limiter.in_flight(self.limiter.address_of(request)) as admitted:
                if not admitted:  # this address already has its share of the server's attention
                    return too_many_requests(
                        1.0,
                        request_language(
                            parsed["metadata"].get("locale"), request.headers.get("accept-language")
                        ),
                    )
                refused = await self.admit(
                    request, parsed["sender"], parsed["conversation_key"], parsed["metadata"].get("locale")
                )
                return refused or await self._answer(request, parsed, on_new_message)

        return webhook

    async def _answer(
        self,
        request: Request,
        parsed: Dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        """The dialogue's reply to an admitted message; the built-in urgent reply or 503 without one."""
        sender = parsed["sender"]
        # From here on the message is the conversation's: every later reply carries its key.
        key_header = {KEY_HEADER: self.keys.key_for(sender)}
        log_privacy.mark_handling(parsed["text"])
        collector = WebchatOutput(contact_form=self.handoff is not None)
        agent = getattr(request.app.ctx, "agent", None)
        message_id = parsed["message_id"] or uuid.uuid4().hex
        if parsed["retry"] and agent is not None:
            again = await self._sent_again(agent, sender, message_id, collector, key_header)
            if again is not None:
                return again
        message = UserMessage(
            parsed["text"],
            collector,
            sender,
            input_channel=self.name(),
            metadata=parsed["metadata"],
            message_id=message_id,
        )
        try:
            await on_new_message(message)
        except asyncio.CancelledError:
            logger.error("webchat: handling a message timed out")
        except Exception:  # noqa: BLE001 - the person must get an answer, never a 500
            logger.exception("webchat: handling a message failed")
        if collector.messages:
            return response.json(collector.messages, headers=key_header)
        # Nothing was answered: the action server is down or too slow.
        try:
            urgent = await offline_reply(agent, sender, parsed["text"], parsed["metadata"])
        except Exception:  # noqa: BLE001
            logger.exception("webchat: the built-in urgent reply failed")
            urgent = []
        if urgent:
            return response.json(urgent, headers=key_header)
        stored = await _was_stored(agent, sender, message_id)
        return response.json(
            {
                "error": "the assistant could not answer just now; please try again",
                "code": "unavailable",
                "stored": stored,
            },
            status=503,
            headers=key_header if stored else {},
        )

    @staticmethod
    async def _sent_again(
        agent: Any, sender: str, message_id: str, collector: WebchatOutput, key_header: Dict[str, str]
    ) -> Optional[HTTPResponse]:
        """A message the conversation already holds ("Try again"): its answer, never a second copy.

        None when the conversation does not hold it: it is then handled as a new message.
        """
        stored = await stored_message(agent, sender, message_id)
        if stored is None:
            return None
        if stored.replies:  # answered, but the answer never reached the client
            await send_stored_replies(stored, sender, collector)
        elif not stored.latest:
            return response.json(
                {
                    "error": "a later message has been sent since; send this one as a new " "message",
                    "code": "not_latest",
                },
                status=409,
                headers=key_header,
            )
        elif not await answer_again(agent, sender, collector):
            return response.json(
                {
                    "error": "the assistant could not answer just now; please try again",
                    "code": "unavailable",
                    "stored": True,
                },
                status=503,
                headers=key_header,
            )
        return response.json(collector.messages, headers=key_header)


async def _was_stored(agent: Any, sender: str, message_id: str) -> bool:
    """Whether the unanswered message is in the conversation's record (the 503's `stored`).

    It is when the dialogue engine ran and only the action server failed; it is not when
    the engine never got to it (the conversation's lock or the tracker store failed).
    """
    if agent is None:
        return False
    try:
        tracker = await agent.tracker_store.retrieve(sender)
    except Exception:  # noqa: BLE001 - unknown: say not stored, so the client sends it again
        logger.exception("webchat: could not read the conversation after a failure")
        return False
    return tracker is not None and any(
        getattr(e, "message_id", None) == message_id for e in reversed(list(tracker.events))
    )
