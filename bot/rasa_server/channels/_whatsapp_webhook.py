"""Reading what Meta posts to the WhatsApp webhook: the signature, messages and statuses.

Pure functions of the request, so they are tested without a server. Payload shape:
https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from bot.core.payloads import as_user_text, reads_as_intent
from bot.core.whatsapp_limits import TEXT_LIMIT
from bot.rasa_server.channels._sanitize import clean_user_text

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PHONE = re.compile(r"\d{6,15}")
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")

# Media whose caption (if any) is read like typed text; the file itself is never fetched.
CAPTIONED_MEDIA = frozenset({"image", "video", "document"})
# Media that never carries words: a voice note or other audio, a sticker.
WORDLESS_MEDIA = frozenset({"audio", "sticker"})


def signature_for(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, header: Optional[str], app_secret: str) -> bool:
    """Whether `header` is the HMAC-SHA256 of the raw body with the app secret.

    Compared in constant time, so the response time tells a forger nothing.
    """
    if not app_secret or not header:
        return False
    match = _SIGNATURE.fullmatch(header.strip())
    if not match:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


@dataclass(frozen=True)
class Inbound:
    """One message a person sent.

    `kind` is what the bot does with it:
    - `text`: words to understand: typed, a tapped button, or the caption of a photo,
      video or document (then `media` names the media);
    - `media`: a voice note, a photo, video or document without a caption, a sticker;
    - `location`: a location pin (`latitude`, `longitude`);
    - `contacts`: shared contact cards (never read);
    - `reaction`: an emoji on one of the bot's messages (`reacted_to`; `emoji` "" = removed);
    - `unsupported`: nothing the bot can use (answered with "please send text");
    - `ignored`: WhatsApp's own system notices.
    """

    message_id: str  # the wamid: it encodes the phone number, so it is never logged or stored
    phone: str  # digits only; kept in memory for the reply, never stored or logged
    sent_at: float
    kind: str
    type: str  # WhatsApp's message type, for the logs
    text: str = ""
    media: str = ""  # image, video, document, audio, sticker
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    reacted_to: str = ""  # the wamid of the message reacted to: like message_id, never logged or stored
    emoji: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """What happened to a message the bot sent: sent, delivered, read or failed."""

    status: str
    errors: Tuple[Tuple[str, str], ...] = field(default_factory=tuple)  # (code, title)


class NotAWebhook(ValueError):
    """A signed body that is not a WhatsApp webhook delivery."""


def _timestamp(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return time.time()
    return value if value > 0 else time.time()


def _coordinate(value: Any, limit: float) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


def _content_of(message: Dict[str, Any]) -> Dict[str, Any]:
    """`Inbound` fields (kind, text, ...) for one message object's content."""
    kind = message.get("type")
    if kind in CAPTIONED_MEDIA:
        caption = (message.get(kind) if isinstance(message.get(kind), dict) else {}).get("caption")
        # The caption is the person's words about the picture: read like typed text.
        if isinstance(caption, str) and caption.strip():
            return {"kind": "text", "text": caption, "media": kind}
        return {"kind": "media", "media": kind}
    if kind in WORDLESS_MEDIA:
        return {"kind": "media", "media": kind}
    if kind == "location":
        pin = message.get("location") if isinstance(message.get("location"), dict) else {}
        latitude, longitude = _coordinate(pin.get("latitude"), 90), _coordinate(pin.get("longitude"), 180)
        if latitude is None or longitude is None:
            return {"kind": "unsupported"}
        return {"kind": "location", "latitude": latitude, "longitude": longitude}
    if kind == "contacts":
        return {"kind": "contacts"}
    if kind == "reaction":
        reaction = message.get("reaction") if isinstance(message.get("reaction"), dict) else {}
        target, emoji = reaction.get("message_id"), reaction.get("emoji", "")
        if not isinstance(target, str) or not target or not isinstance(emoji, str) or len(emoji) > 32:
            return {"kind": "ignored"}
        return {"kind": "reaction", "reacted_to": target, "emoji": emoji}
    found, text = _text_of(message)
    return {"kind": found, "text": text}


def _text_of(message: Dict[str, Any]) -> Tuple[str, str]:
    """(kind, text) for a message whose content is words: typed or tapped."""
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body")
        return ("text", body) if isinstance(body, str) else ("unsupported", "")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get(interactive.get("type") or "") or {}
        if interactive.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict):
            # The id is the payload we put on the button (`/ask_topic{...}`); a reply to a
            # message some other tool sent carries its own id, so its title is the text.
            reply_id, title = reply.get("id"), reply.get("title")
            if isinstance(reply_id, str) and reads_as_intent(reply_id):
                return "text", reply_id
            return ("text", title) if isinstance(title, str) else ("unsupported", "")
        return "unsupported", ""
    if kind == "button":  # a quick-reply button on a template message
        button = message.get("button") or {}
        payload = button.get("payload")
        text = payload if isinstance(payload, str) and reads_as_intent(payload) else button.get("text")
        return ("text", text) if isinstance(text, str) else ("unsupported", "")
    if kind in ("system", "ephemeral", "request_welcome"):
        return "ignored", ""
    return "unsupported", ""


def parse_delivery(payload: Any) -> Tuple[List[Inbound], List[StatusUpdate]]:
    """The messages and status updates in one webhook delivery, in order.

    Malformed parts are skipped rather than failing the whole delivery: Meta would
    redeliver it forever, and the well-formed messages in it deserve an answer.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise NotAWebhook("the body has no 'entry' list")
    messages: List[Inbound] = []
    statuses: List[StatusUpdate] = []
    for entry in payload["entry"]:
        for change in (entry.get("changes") if isinstance(entry, dict) else None) or []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                continue
            for raw in value.get("statuses") or []:
                if isinstance(raw, dict):
                    errors = tuple(
                        (str(e.get("code", "")), str(e.get("title", "")))
                        for e in raw.get("errors") or []
                        if isinstance(e, dict)
                    )
                    statuses.append(StatusUpdate(str(raw.get("status", "")), errors))
            for raw in value.get("messages") or []:
                if not isinstance(raw, dict):
                    continue
                phone, message_id = str(raw.get("from") or ""), raw.get("id")
                if not _PHONE.fullmatch(phone) or not isinstance(message_id, str) or not message_id:
                    continue
                content = _content_of(raw)
                if content["kind"] == "text":
                    # WhatsApp itself caps a text message at TEXT_LIMIT characters, both ways.
                    content["text"] = as_user_text(clean_user_text(content["text"][:TEXT_LIMIT]))
                    if not content["text"]:  # only markup or control characters: nothing to read
                        content["kind"] = "media" if content.get("media") else "unsupported"
                messages.append(
                    Inbound(
                        message_id=message_id,
                        phone=phone,
                        sent_at=_timestamp(raw.get("timestamp")),
                        type=str(raw.get("type") or "")[:40],
                        **content,
                    )
                )
    return messages, statuses
