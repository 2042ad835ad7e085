"""Button payloads: the only messages that skip the safety decision, and only when exact.

Rasa reads a message that starts with `/` as an intent (`/ask_topic{"topic": ...}`) and
never runs the NLU pipeline on it. A person can type such a text too, or paste a payload
followed by words ("/ask_topic{...} my face is swollen"). So a message counts as a button
press only when it is, character for character, a payload the bot itself issues: one of
the button intents with exactly its one entity and a known value, and nothing else. Any
other text is the person's, and goes through understanding and the safety decision; a
leading `/` is removed from it so that Rasa does not read it as an intent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from bot import LANGUAGES, PROJECT_ROOT
from bot.core._yaml import read_yaml

IDS_FILE = PROJECT_ROOT / "data" / "answers" / "ids.yml"
# The intents the bot's own buttons carry, and the one entity each carries.
BUTTON_ENTITIES = {"ask_topic": "topic", "switch_language": "language"}
_PAYLOAD = re.compile(r"/(?P<intent>[a-z_]+)(?P<entities>\{.*\})", re.DOTALL)
_LEADING_SLASHES = re.compile(r"^[\s/\\]+")


@dataclass(frozen=True)
class ButtonPress:
    intent: str
    entity: str
    value: str


@lru_cache(maxsize=1)
def known_answer_ids() -> frozenset:
    """The answer ids of the store's vocabulary (data/answers/ids.yml)."""
    raw = read_yaml(IDS_FILE) or {}
    return frozenset((raw.get("ids") or {}).keys())


def _valid_values(entity: str) -> Iterable[str]:
    return LANGUAGES if entity == "language" else known_answer_ids()


def payload(intent: str, value: str) -> str:
    """The payload of one of the bot's buttons, in the one form `button_press` accepts."""
    return f"/{intent}" + json.dumps({BUTTON_ENTITIES[intent]: value}, separators=(",", ":"))


def button_press(text: str) -> Optional[ButtonPress]:
    """The button this text is, if it is exactly one of the bot's payloads."""
    match = _PAYLOAD.fullmatch(text or "")
    if not match or match.group("intent") not in BUTTON_ENTITIES:
        return None
    try:
        entities = json.loads(match.group("entities"))
    except ValueError:
        return None
    entity = BUTTON_ENTITIES[match.group("intent")]
    if not isinstance(entities, dict) or list(entities) != [entity]:
        return None
    value = entities[entity]
    if not isinstance(value, str) or value not in _valid_values(entity):
        return None
    if text != payload(match.group("intent"), value):
        return None  # same meaning, other spelling: not something our buttons send
    return ButtonPress(match.group("intent"), entity, value)


def is_button_press(text: str) -> bool:
    return button_press(text) is not None


def reads_as_intent(text: str) -> bool:
    """Whether Rasa takes `text` for an intent rather than words (it starts with `/`).

    Past `as_user_text` only the bot's own button payloads still do, so in a stored
    conversation this tells a button press from what the person typed.
    """
    return (text or "").startswith("/")


def as_user_text(text: str) -> str:
    """What reaches the dialogue engine: an exact payload as it is, anything else as text.

    A leading `/` (or several, or a backslash) is removed from a person's text so Rasa
    does not take it for an intent; the words stay, and the safety decision reads them.
    """
    if is_button_press(text):
        return text
    return _LEADING_SLASHES.sub("", text or "") if (text or "").lstrip().startswith(("/", "\\")) else text
