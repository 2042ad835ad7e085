"""The WhatsApp Cloud API channel.

`GET /webhooks/whatsapp/webhook` answers Meta's verification handshake; `POST` receives
messages. Every POST must be signed (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body
with the app secret) or it gets a 401 and nothing reaches the bot. Each message is
claimed in the tracker store's database before it is handled, so a redelivery is
acknowledged and ignored, across restarts too. The webhook answers at once and the
message is handled in the background: Meta redelivers webhooks that are slow to answer.

Privacy: the conversation id is a keyed hash of the phone number; the number is held in
memory only while its message is answered, and never logged or stored. The region
(emergency number, licensing body) comes from the number's calling code and travels
to the dialogue as message metadata; a location pin, like a place the person names,
beats it for the rest of the conversation (the `named_region` slot).

Beyond typed text: a photo's, video's or document's caption is answered like typed text,
then a note says a clinician must see the picture; media without words, a pin and
shared contacts get the channel's own answers (_whatsapp_notices.py); an emoji reaction
on an answer is feedback on it, as in the widget. Each message is marked read, with the
typing indicator while an answer is prepared, without ever waiting for that.

Configuration and behaviour: docs/whatsapp-channel.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import SlotSet
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot import LANGUAGES
from bot.core import log_privacy
from bot.core.answer_store import AnswerStore
from bot.core.i18n import TEXT_NEEDED, TRY_AGAIN_LATER, interface_text
from bot.core.language import choose_reply_language
from bot.core.pins import place_of_pin
from bot.core.problems import InvalidContent
from bot.core.regions import RegionTable
from bot.core.settings import strict_mode
from bot.rasa_server.channels._offline import limit_action_server_wait, offline_reply
from bot.rasa_server.channels._sanitize import control_command
from bot.rasa_server.channels._whatsapp_deliveries import DeliveryLog, engine_of
from bot.rasa_server.channels._whatsapp_graph import DEFAULT_TIMEOUT, GraphAPI, log_safe
from bot.rasa_server.channels._whatsapp_notices import (
    CONTACTS_ID,
    LOCATION_SET_ID,
    LOCATION_UNKNOWN_ID,
    MEDIA_ID,
    PICTURE_NOTE_ID,
    feedback_value,
    notice,
    place_values,
    rating,
)
from bot.rasa_server.channels._whatsapp_replies import TEXT_LIMIT, build_messages, number_choice
from bot.rasa_server.channels._whatsapp_state import ConversationState, bot_event
from bot.rasa_server.channels._whatsapp_webhook import (
    SIGNATURE_HEADER,
    Inbound,
    NotAWebhook,
    parse_delivery,
    signature_is_valid,
)
from bot.rasa_server.channels._widget_routes import FEEDBACK_SLOT
from bot.rasa_server.channels.whatsapp_config import CREDENTIAL_VARIABLES, problems

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# WhatsApp lets a business answer freely for 24 hours after the person's last message;
# later, only a pre-approved template may be sent.
SERVICE_WINDOW_SECONDS = 24 * 3600
SHUTDOWN_GRACE_SECONDS = 10.0


class WhatsAppSettingsError(RasaException):
    """The channel's credentials are missing or invalid."""


@dataclass(frozen=True)
class WhatsAppSettings:
    app_secret: str
    verify_token: str
    access_token: str
    phone_number_id: str
    api_url: str
    phone_hash_key: str
    text_limit: int = TEXT_LIMIT
    request_timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WhatsAppSettings":
        """Refuses to start without every secret: an unsigned or unhashed channel is worse than none."""
        credentials = credentials or {}
        values = {key: str(credentials.get(key) or "").strip() for key in CREDENTIAL_VARIABLES}
        missing = [CREDENTIAL_VARIABLES[key] for key, value in values.items() if not value]
        if missing:
            raise WhatsAppSettingsError(
                "the WhatsApp channel needs " + ", ".join(missing) + " (see docs/whatsapp-channel.md)"
            )
        wrong = problems(values)
        text_limit = int(credentials.get("text_limit") or TEXT_LIMIT)
        if not 100 <= text_limit <= TEXT_LIMIT:
            wrong.append(f"text_limit must be between 100 and {TEXT_LIMIT}")
        if wrong:
            raise WhatsAppSettingsError("the WhatsApp settings are invalid: " + "; ".join(wrong))
        return cls(
            **values,
            text_limit=text_limit,
            request_timeout=float(credentials.get("request_timeout") or DEFAULT_TIMEOUT),
        )


def conversation_id(phone: str, key: str) -> str:
    """The tracker store's id for a phone number: a keyed hash, so the number is never stored
    and cannot be recovered by hashing every possible number without the key."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "wa-" + hmac.new(key.encode("utf-8"), b"phone:" + digits.encode(), hashlib.sha256).hexdigest()[:32]


def message_key(message_id: str, key: str) -> str:
    """The stored form of a wamid (which encodes the sender's number)."""
    return hmac.new(key.encode("utf-8"), b"wamid:" + message_id.encode("utf-8"), hashlib.sha256).hexdigest()


class WhatsAppOutput(OutputChannel):
    """Collects the bot's messages while a message is handled; the channel sends them after."""

    def __init__(self) -> None:
        self.messages: List[Dict[Text, Any]] = []

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.messages.append(dict(message))


class WhatsAppInput(InputChannel):
    """The `whatsapp` channel, added to credentials.yml at start when its variables are set."""

    @classmethod
    def name(cls) -> Text:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WhatsAppInput":
        settings = WhatsAppSettings.from_credentials(credentials)
        if (credentials or {}).get("action_timeout"):
            limit_action_server_wait(float(credentials["action_timeout"]))
        try:  # the channel's own answers (media, pins, contacts) and the regions come from the store
            store = AnswerStore.load(strict=strict_mode())
        except InvalidContent as err:
            raise WhatsAppSettingsError(f"the answer store could not be loaded: {err}") from err
        return cls(settings, store.regions, store=store)

    def __init__(
        self,
        settings: WhatsAppSettings,
        regions: Optional[RegionTable] = None,
        graph: Optional[GraphAPI] = None,
        store: Optional[AnswerStore] = None,
    ) -> None:
        self.settings = settings
        self._store = store
        self.regions = regions or (store.regions if store else None)
        self.graph = graph or GraphAPI(
            settings.api_url,
            settings.phone_number_id,
            settings.access_token,
            timeout=settings.request_timeout,
        )
        self._deliveries: Optional[DeliveryLog] = None
        self._tasks: Set[asyncio.Task] = set()

    @property
    def store(self) -> AnswerStore:
        if self._store is None:
            self._store = AnswerStore.load(strict=strict_mode())
        return self._store

    # -- webhook -------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "channel": self.name()})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            # Meta's handshake when the webhook URL is saved in the app dashboard.
            mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token") or ""
            challenge = request.args.get("hub.challenge") or ""
            expected = self.settings.verify_token.encode()
            matches = hmac.compare_digest(token.encode(), expected)
            if mode == "subscribe" and matches and 0 < len(challenge) <= 256:
                return response.text(challenge)
            logger.warning("whatsapp: refused a webhook verification with a wrong token or mode")
            return response.json({"error": "verification failed", "code": "verification_failed"}, status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @webhook.listener("after_server_start")
        async def prepare(app: Any, *_: Any) -> None:
            # The deliveries table exists from the start, not from the first message.
            agent = getattr(app.ctx, "agent", None)
            if agent is not None and agent.is_ready():
                try:
                    self._delivery_log(agent)
                except SQLAlchemyError:
                    logger.exception("whatsapp: could not prepare the deliveries table; will retry")

        @webhook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            # Let replies being sent go out before the server stops.
            if self._tasks:
                await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE_SECONDS)
            await self.graph.close()

        return webhook

    async def _receive(self, request: Request, on_new_message: Callable) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return response.json({"error": "the body is too large", "code": "body_too_large"}, status=413)
        header = request.headers.get(SIGNATURE_HEADER)
        if not signature_is_valid(body, header, self.settings.app_secret):
            logger.warning(
                "whatsapp: refused a webhook POST with a %s signature", "wrong" if header else "missing"
            )
            return response.json(
                {
                    "error": "the X-Hub-Signature-256 signature is missing or wrong",
                    "code": "invalid_signature",
                },
                status=401,
            )
        try:
            messages, statuses = parse_delivery(json.loads(body.decode("utf-8")))
        except (UnicodeDecodeError, ValueError, RecursionError, NotAWebhook) as err:
            logger.warning("whatsapp: a signed POST is not a webhook delivery: %s", log_safe(err))
            return response.json(
                {"error": "the body is not a WhatsApp webhook delivery", "code": "invalid_body"}, status=400
            )
        for status in statuses:
            if status.status == "failed":
                reasons = "; ".join(f"{code} {log_safe(title)}" for code, title in status.errors)
                logger.warning("whatsapp: a reply could not be delivered: %s", reasons or "no reason")
        if not messages:
            return response.json({"accepted": 0, "duplicates": 0, "statuses": len(statuses)})

        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            # Not claimed: Meta redelivers once the model is loaded.
            return response.json(
                {"error": "the assistant is starting; try again", "code": "unavailable"}, status=503
            )
        try:
            accepted, duplicates = self._claim(agent, messages)
        except SQLAlchemyError:
            logger.exception("whatsapp: could not record deliveries; asking Meta to redeliver")
            return response.json({"error": "try again", "code": "unavailable"}, status=503)
        if accepted:
            self._background(self._handle_all(accepted, on_new_message, agent))
        return response.json({"accepted": len(accepted), "duplicates": duplicates, "statuses": len(statuses)})

    def _background(self, work: Awaitable[Any]) -> None:
        """Run `work` without waiting for it; kept until done, and awaited at shutdown."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _delivery_log(self, agent: Any) -> DeliveryLog:
        if self._deliveries is None:
            self._deliveries = DeliveryLog(engine_of(agent.tracker_store))
        return self._deliveries

    def _claim(self, agent: Any, messages: List[Inbound]) -> Tuple[List[Tuple[Inbound, str, str]], int]:
        """The messages not handled before, each with its conversation id and stored key."""
        deliveries = self._delivery_log(agent)
        accepted, duplicates = [], 0
        try:
            for message in messages:
                conversation = conversation_id(message.phone, self.settings.phone_hash_key)
                key = message_key(message.message_id, self.settings.phone_hash_key)
                if deliveries.claim(key, conversation, message.sent_at):
                    accepted.append((message, conversation, key))
                else:
                    duplicates += 1
                    logger.info(
                        "whatsapp: ignored a repeated delivery of message %s from %s", key[:12], conversation
                    )
        except SQLAlchemyError:
            for _, _, key in accepted:  # this delivery will come again; handle it then
                deliveries.release(key)
            raise
        return accepted, duplicates

    # -- handling ------------------------------------------------------------------------

    async def _handle_all(
        self, accepted: List[Tuple[Inbound, str, str]], on_new_message: Callable, agent: Any
    ) -> None:
        for message, conversation, key in accepted:
            try:
                await self._handle(message, conversation, key, on_new_message, agent)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad message must not stop the others
                logger.exception("whatsapp: handling a %s message from %s failed", message.type, conversation)

    async def _handle(
        self, message: Inbound, conversation: str, key: str, on_new_message: Callable, agent: Any
    ) -> None:
        if message.kind == "ignored":
            logger.info("whatsapp: %s from %s needs no answer", message.type, conversation)
            return
        state = ConversationState(agent, conversation)
        metadata: Dict[str, str] = {"channel": self.name()}
        region = self.regions.from_phone_number(message.phone) if self.regions else None
        if region:  # the calling code: stronger than a page region, weaker than a named place
            metadata["phone_region"] = region
        if message.kind == "reaction":
            self._acknowledge(message, conversation, typing=False)
            await self._record_reaction(message, conversation, state, metadata)
            return
        if not self._window_open(message, conversation):
            if message.kind == "text":  # kept in the conversation, but no reply is produced or stored
                await self._record_only(
                    agent,
                    UserMessage(
                        message.text,
                        WhatsAppOutput(),
                        conversation,
                        input_channel=self.name(),
                        message_id=key[:32],
                        metadata=_with_media(metadata, message),
                    ),
                )
            return
        # "typing…" only while the dialogue prepares an answer; the channel's notices go at once.
        self._acknowledge(message, conversation, typing=message.kind == "text")
        if message.kind == "text":
            replies = await self._answer(message, conversation, key, on_new_message, agent, state, metadata)
        elif message.kind == "media":
            logger.info("whatsapp: %s message without words from %s", message.media, conversation)
            replies = [await self._say(state, MEDIA_ID, metadata, reply_to=message.media)]
        elif message.kind == "location":
            replies = [await self._set_location(message, conversation, state, metadata)]
        elif message.kind == "contacts":
            replies = [await self._say(state, CONTACTS_ID, metadata, reply_to="contacts")]
        else:
            logger.info("whatsapp: %s message from %s; asking for text", message.type, conversation)
            replies = [self._notice(TEXT_NEEDED, await state.language())]
        await self._send(message, conversation, replies)

    async def _answer(
        self,
        message: Inbound,
        conversation: str,
        key: str,
        on_new_message: Callable,
        agent: Any,
        state: ConversationState,
        metadata: Dict[str, str],
    ) -> List[Dict[str, Any]]:
        """The dialogue's answer to typed text or a caption: the same safety decision either way."""
        text = message.text
        log_privacy.mark_handling(text)
        if control_command(text):  # typed "/restart": read as words, never as Rasa's reset
            text = text.strip()[1:].strip()
        chosen = None
        if not message.media and _looks_like_number(text):
            chosen = number_choice(text, await state.last_buttons())
        out = WhatsAppOutput()
        try:
            await on_new_message(
                UserMessage(
                    chosen or text,
                    out,
                    conversation,
                    input_channel=self.name(),
                    message_id=key[:32],
                    metadata=_with_media(metadata, message),
                )
            )
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the person must still get an answer
            logger.exception("whatsapp: the dialogue failed on a message from %s", conversation)
        replies = out.messages
        if not replies:  # the action server is down or too slow
            replies = await offline_reply(agent, conversation, text, metadata)
        if not replies:
            current = await state.language(refresh=True)
            replies = [self._notice(TRY_AGAIN_LATER, choose_reply_language(text, current))]
        if message.media:  # after the answer to the words: nobody looked at the picture
            lang = replies[-1].get("lang")
            lang = lang if lang in LANGUAGES else await state.language(refresh=True)
            replies = [
                *replies,
                await self._say(
                    state, PICTURE_NOTE_ID, metadata, lang=lang or "en", buttons=False, reply_to=message.media
                ),
            ]
        return replies

    async def _say(
        self,
        state: ConversationState,
        answer_id: str,
        metadata: Dict[str, str],
        lang: Optional[str] = None,
        buttons: bool = True,
        reply_to: str = "",
        country: Optional[str] = None,
        events: Tuple[Any, ...] = (),
    ) -> Dict[str, Any]:
        """One of the channel's own answers, for the conversation's language and region,
        recorded in the conversation (with `events`) before it is sent."""
        lang = lang or await state.language()
        if country is not None:  # a pin: its country decides, even one the table does not list
            region = country if country in self.store.regions.regions else None
            values = place_values(self.store, country)
        else:
            region, values = await self._region(state, metadata), None
        reply = notice(self.store, answer_id, lang, region, values=values, buttons=buttons)
        if reply_to:
            reply["in_reply_to"] = reply_to  # the kind of message answered, for an audit
        await state.record([*events, bot_event(reply)], metadata)
        return reply

    async def _region(self, state: ConversationState, metadata: Dict[str, str]) -> Optional[str]:
        """The conversation's region as the dialogue would decide it: a place named or pinned
        earlier first, then the calling code."""
        choice = self.store.regions.resolve(
            phone_region=metadata.get("phone_region"), named_before=await state.slot("named_region")
        )
        return choice.primary

    async def _set_location(
        self, message: Inbound, conversation: str, state: ConversationState, metadata: Dict[str, str]
    ) -> Dict[str, Any]:
        """A pin sets the region for the rest of the conversation (the `named_region` slot the
        dialogue reads, as for a place the person names), and the person is told which
        region's emergency advice they will get. The coordinates are never stored or logged."""
        try:
            place = await asyncio.get_running_loop().run_in_executor(
                None, place_of_pin, message.latitude, message.longitude
            )
        except Exception:  # noqa: BLE001 - the place list failed to load: ask for the place instead
            logger.exception("whatsapp: could not place a location pin from %s", conversation)
            place = None
        if place is None:
            logger.info("whatsapp: %s shared a location pin whose country cannot be told", conversation)
            return await self._say(state, LOCATION_UNKNOWN_ID, metadata, reply_to="location")
        region = place.country if place.country in self.store.regions.regions else None
        logger.info(
            "whatsapp: %s shared a location pin in %s%s",
            conversation,
            place.country,
            "" if region else " (not in the regions table: the general emergency advice)",
        )
        return await self._say(
            state,
            LOCATION_SET_ID,
            metadata,
            reply_to="location",
            country=place.country,
            events=(SlotSet("named_region", place.country), SlotSet("region", region)),
        )

    async def _record_reaction(
        self, message: Inbound, conversation: str, state: ConversationState, metadata: Dict[str, str]
    ) -> None:
        """An emoji on one of the bot's answers is feedback on that answer, kept like the
        widget's; a reaction changed or removed replaces it. Nothing is answered."""
        target = message_key(message.reacted_to, self.settings.phone_hash_key)
        helpful = rating(message.emoji)
        try:
            rated = self._deliveries.rate(target, conversation, helpful) if self._deliveries else None
        except SQLAlchemyError:
            logger.exception("whatsapp: could not read which answer a reaction from %s is on", conversation)
            return
        if rated is None:
            logger.info("whatsapp: a reaction from %s on a message that is not a known answer", conversation)
            return
        answer, changed = rated
        if not changed:
            return
        value = feedback_value(
            answer.answer_id, answer.lang, answer.version, helpful, message.emoji, target[:16]
        )
        if await state.record([SlotSet(FEEDBACK_SLOT, value)], metadata):
            logger.info(
                "feedback on %s: %s (WhatsApp reaction)",
                answer.answer_id,
                {True: "helpful", False: "not helpful", None: "withdrawn"}[helpful],
            )

    def _acknowledge(self, message: Inbound, conversation: str, typing: bool) -> None:
        """Blue ticks (and "typing…") in the background: the answer never waits for them."""
        self._background(self.graph.acknowledge(message.message_id, conversation, typing=typing))

    @staticmethod
    def _notice(msgid: str, lang: Optional[str]) -> Dict[str, Any]:
        """An interface message in the conversation's language; in all three when it is not known yet."""
        if lang in LANGUAGES:
            return {"text": interface_text(lang, msgid), "lang": lang}
        return {"text": "\n\n".join(interface_text(code, msgid) for code in LANGUAGES), "lang": "en"}

    def _window_open(self, message: Inbound, conversation: str) -> bool:
        """Whether WhatsApp still accepts free text: the person wrote within 24 hours.

        Only a message delivered very late (or redelivered after days) fails this, since
        replies are only ever sent to the message being handled.
        """
        last = self._deliveries.last_inbound(conversation) if self._deliveries else None
        newest = max(last or 0.0, message.sent_at)
        if time.time() - newest <= SERVICE_WINDOW_SECONDS:
            return True
        # WhatsApp refuses free text outside the window; only an approved template may go.
        logger.warning(
            "whatsapp: not replying to %s: the person last wrote %.0f hours ago, outside "
            "WhatsApp's 24-hour window; a message template would be needed",
            conversation,
            (time.time() - newest) / 3600,
        )
        return False

    async def _record_only(self, agent: Any, message: UserMessage) -> None:
        """Keep the person's message in the conversation without running the dialogue, so the
        tracker never shows a reply the person did not get."""
        try:
            async with agent.lock_store.lock(message.sender_id):
                await agent.processor.log_message(message)
        except Exception:  # noqa: BLE001
            logger.exception("whatsapp: could not record a late message from %s", message.sender_id)

    async def _send(self, message: Inbound, conversation: str, replies: List[Dict[str, Any]]) -> None:
        for reply in replies:
            lang = reply.get("lang") if reply.get("lang") in LANGUAGES else "en"
            bodies = build_messages(
                str(reply.get("text") or ""),
                reply.get("buttons") or [],
                lambda msgid, lang=lang: interface_text(lang, msgid),
                self.settings.text_limit,
            )
            for body in bodies:
                sent = await self.graph.send(message.phone, body, conversation)
                if sent is None:
                    # Later parts without the earlier ones would not make sense.
                    logger.error(
                        "whatsapp: the reply to %s (%s) was not delivered",
                        conversation,
                        reply.get("answer_id") or "notice",
                    )
                    return
                self._remember_answer(sent, conversation, reply, lang)
        logger.info(
            "whatsapp: answered %s with %s",
            conversation,
            ", ".join(str(r.get("answer_id") or "notice") for r in replies),
        )

    def _remember_answer(self, sent: str, conversation: str, reply: Dict[str, Any], lang: str) -> None:
        """Which answer a sent message carried, so a reaction to it can be counted."""
        if not sent or not reply.get("answer_id") or self._deliveries is None:
            return
        try:
            self._deliveries.remember_answer(
                message_key(sent, self.settings.phone_hash_key),
                conversation,
                str(reply["answer_id"]),
                lang,
                str(reply.get("version") or ""),
            )
        except SQLAlchemyError:  # the answer went out; only a later reaction to it is lost
            logger.exception("whatsapp: could not note the answer sent to %s", conversation)


def _with_media(metadata: Dict[str, str], message: Inbound) -> Dict[str, str]:
    """A caption's turn says which media it came with (for an audit); typed text's does not."""
    return {**metadata, "media": message.media} if message.media else metadata


def _looks_like_number(text: str) -> bool:
    stripped = text.strip().rstrip(".)-").strip()
    return 0 < len(stripped) <= 3 and stripped.isdecimal()
