"""Cleaning what a person typed before it reaches the dialogue engine."""

from __future__ import annotations

import html
import re
import unicodedata
from typing import Optional

# Control characters except tab and newline; they carry no meaning in a chat message.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A real tag: "<" then a letter ("<b>", "<img src=x>"), "/" and a letter ("</p>") or "!"
# ("<!-- -->", "<!doctype>"), up to the next ">". A "<" or ">" that does not open such a
# tag is a comparison and stays: "I am <18 and my sister is >25" keeps every word.
_TAG = re.compile(r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?=[\s/>])|!)[^<>]{0,500}>")
_SPACES = re.compile(r"[ \t]+")
# A conversation id the widget or a REST client may send: random, never personal data.
SENDER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
# Rasa's own intents that reset or rewind a conversation (action_restart, action_session_start,
# action_back). Typed by a person, Rasa would obey them as if they were button payloads and
# wipe or rewind the conversation's record, so no channel lets them through. Rasa reads
# "/<intent>", optionally followed by "@<confidence>" and "{entities}".
CONTROL_INTENTS = ("restart", "session_start", "back")
_CONTROL_COMMAND = re.compile(
    r"/\s*(%s)\s*(?:[@{].*)?" % "|".join(CONTROL_INTENTS), re.IGNORECASE | re.DOTALL
)


def clean_user_text(text: str) -> str:
    """Plain text from a chat message: NFC, no control characters, no HTML markup.

    Markup is removed rather than escaped because the bot reads meaning, not layout;
    what is shown back to people is always the bot's own curated text. Only real tags
    go: "<" and ">" used as "less than" and "more than" are words.
    """
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _TAG.sub(" ", text)  # markup that was entity-encoded (&lt;script&gt;)
    return _SPACES.sub(" ", text).strip()


def control_command(text: str) -> Optional[str]:
    """ "/restart" (or "/session_start", "/back") if `text` would trigger one of Rasa's own
    conversation resets, else None."""
    match = _CONTROL_COMMAND.fullmatch(text.strip())
    return "/" + match.group(1).lower() if match else None
