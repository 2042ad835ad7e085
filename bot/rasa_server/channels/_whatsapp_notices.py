"""What the WhatsApp channel itself says: to media without words, after a photo's caption
is answered, to a location pin, to shared contacts; and what a reaction means.

The texts are answer-store entries (data/answers/whatsapp.yml), so content staff edit and
translators translate them like every other answer, and each message is recorded in the
conversation with its answer id and version. Pure functions, tested without a server.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional

from bot import LANGUAGES
from bot.core.answer_store import AnswerStore
from bot.core.i18n import LANGUAGE_NAMES, interface_text
from bot.core.language import direction
from bot.core.regions import country_name
from bot.core.replies import compose_reply, switch_payload

MEDIA_ID = "system.media_unsupported"
PICTURE_NOTE_ID = "system.picture_note"
LOCATION_SET_ID = "system.location_set"
LOCATION_UNKNOWN_ID = "system.location_unknown"
CONTACTS_ID = "system.contacts_unsupported"
NOTICE_IDS = (MEDIA_ID, PICTURE_NOTE_ID, LOCATION_SET_ID, LOCATION_UNKNOWN_ID, CONTACTS_ID)

# Reactions that rate an answer. Skin tones and the emoji variation selector are ignored
# (👍🏽 is 👍); any other emoji replaces an earlier rating with none, as WhatsApp keeps one
# reaction per person and message.
HELPFUL = frozenset({"👍", "❤", "🙏"})
NOT_HELPFUL = frozenset({"👎", "😡"})


def rating(emoji: str) -> Optional[bool]:
    """True (helpful), False (not helpful) or None (removed, or an emoji that rates nothing)."""
    plain = "".join(ch for ch in emoji if ch != "\ufe0f" and not 0x1F3FB <= ord(ch) <= 0x1F3FF)
    if plain in HELPFUL:
        return True
    if plain in NOT_HELPFUL:
        return False
    return None


def notice(
    store: AnswerStore,
    answer_id: str,
    lang: Optional[str],
    region: Optional[str] = None,
    values: Optional[Callable[[str], Mapping[str, str]]] = None,
    buttons: bool = True,
) -> Dict[str, Any]:
    """The bot message for a channel notice, with the fields every reply carries.

    In the conversation's language; when it has none yet, in all three, with a button per
    language so the person can pick one. `values(lang)` fills extra placeholders.
    """

    def reply(code: str):
        return compose_reply(store, answer_id, code, region, values=values(code) if values else None)

    if lang in LANGUAGES:
        message = reply(lang).as_message()
        if not buttons:
            message.pop("buttons", None)
        return message
    parts = [reply(code) for code in LANGUAGES]
    message = {
        **parts[0].as_message(),
        "text": "\n\n".join(part.text for part in parts),
        "lang": "en",
        "dir": direction("en"),
        "languages": list(LANGUAGES),
    }
    message["buttons"] = [
        {"title": interface_text(code, LANGUAGE_NAMES[code]), "payload": switch_payload(code)}
        for code in LANGUAGES
    ]
    return message


def place_values(store: AnswerStore, country: str) -> Callable[[str], Mapping[str, str]]:
    """`{place}` for a pinned country: the regions table's name, else CLDR's (Babel)."""
    region = store.regions.get(country)

    def values(lang: str) -> Mapping[str, str]:
        return {"place": region.name.get(lang) if region.code else country_name(country, lang)}

    return values


def feedback_value(
    answer_id: str, lang: str, version: str, helpful: Optional[bool], emoji: str, message: str
) -> Dict[str, Any]:
    """The `feedback` slot value for a reaction: as the widget records it, plus the keyed
    hash of the rated message (so a later reaction replaces this one in `make review`).
    `helpful` None takes an earlier rating back."""
    return {
        "answer_id": answer_id,
        "helpful": helpful,
        "version": version,
        "lang": lang,
        "channel": "whatsapp",
        "reaction": emoji,
        "message": message,
    }
