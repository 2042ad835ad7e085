"""Conversation keys: only the client that started a web conversation can continue it.

A conversation id (`sender`) is chosen by the client, so by itself it proves nothing:
anyone who learns or guesses one could read the answers given in that conversation
(through feedback) or write into it. The web channel therefore gives every
conversation a key, `HMAC-SHA256(WEBCHAT_SECRET, conversation id)`, in the
`X-Conversation-Key` header of its first reply. The client sends it back as
`conversation_key` with every later message and with feedback (the widget keeps it in
sessionStorage, beside the conversation id).

- A message without a key may only *start* a conversation: if the id already has a
  stored conversation, the request is refused (`403 invalid_conversation_key`), as is a
  message or feedback with a wrong key. Missing and wrong keys get the same answer,
  and the feedback route checks the key before it reads anything, so its answer never
  depends on another conversation's content.
- Keys need no storage: any replica holding the same `WEBCHAT_SECRET` recognises them.
  `make run` keeps one in `var/webchat-secret` (0600); production sets the variable
  (docs/deploy.md). Changing it invalidates every open conversation's key (the widget
  then starts a new conversation).
- Each channel owns its id space: web ids may not start with another channel's prefix
  (`wa-` is WhatsApp's keyed hash of a phone number).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from typing import Any, Mapping, Optional

logger = logging.getLogger(__name__)

KEY_HEADER = "X-Conversation-Key"
SECRET_VARIABLE = "WEBCHAT_SECRET"
MIN_SECRET_LENGTH = 32
RESERVED_PREFIXES = ("wa-",)  # bot/rasa_server/channels/whatsapp.py conversation_id()
INVALID_KEY = "invalid_conversation_key"


class ConversationKeys:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode("utf-8")

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> "ConversationKeys":
        secret = (env.get(SECRET_VARIABLE) or "").strip()
        if not secret:
            logger.warning(
                "webchat: %s is not set; conversation keys are valid until this server stops "
                "and on this server only (set it; see docs/deploy.md)",
                SECRET_VARIABLE,
            )
            return cls(secrets.token_urlsafe(32))
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"webchat: {SECRET_VARIABLE} must be at least {MIN_SECRET_LENGTH} random "
                "characters (e.g. `openssl rand -hex 32`)"
            )
        return cls(secret)

    def key_for(self, sender: str) -> str:
        message = b"webchat-conversation\0" + sender.encode("utf-8")
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def holds(self, sender: str, key: Optional[str]) -> bool:
        return bool(key) and hmac.compare_digest(
            self.key_for(sender).encode(), str(key).encode("utf-8", "replace")
        )


def reserved(sender: str) -> bool:
    """Whether `sender` belongs to another channel's id space."""
    return sender.lower().startswith(RESERVED_PREFIXES)


async def conversation_exists(agent: Any, sender: str) -> bool:
    """Whether the tracker store holds a conversation under `sender`."""
    from bot.rasa_server.tracker_store import unwrapped  # ours answers with one query

    return bool(await unwrapped(agent.tracker_store).exists(sender))
