"""Interface strings (button titles, reminders, language names) from gettext catalogs.

The catalogs live in `locales/<lang>/LC_MESSAGES/messages.po` and are compiled to `.mo`
with Babel (`make locales`). Answers themselves live in the answer store, not here.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import LANGUAGES, PROJECT_ROOT

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"

# Message ids of the interface strings the bot itself uses. `make validate` and the
# tests check that every one is translated in every catalog.
CLINICIAN_REMINDER = "A licensed clinician decides what is right for you."
TALK_TO_PERSON = "Talk to a person"
# After the region's emergency instruction, for each other region the evidence points to
# (a +92 phone on a page set to AE): "If you are in Pakistan: call 1122 now".
ALSO_IN_REGION = "If you are in {place}: {instruction}."
LANGUAGE_NAMES = {"en": "English", "ar": "Arabic", "ur": "Urdu"}
# WhatsApp channel (bot/channels/whatsapp.py): the list-message button (20 characters at
# most in every language), the prompt above a numbered menu, the answer to an image or a
# voice note, and the apology when no answer could be produced.
TOPICS_BUTTON = "Topics"
NUMBERED_CHOICE_PROMPT = "Reply with the number of a topic:"
TEXT_NEEDED = "I can only read text messages. Please type your question."
TRY_AGAIN_LATER = "Sorry, I could not answer just now. Please send your message again in a few minutes."
# The clinic's contact lines (bot/clinic_contact.py), filled into an answer's {contact}.
CONTACT_PHONE = "Phone: {number}"
CONTACT_WHATSAPP = "WhatsApp: {number}"
CONTACT_BOOKING = "Book online: {link}"
# Website widget (bot/channels/widget/): its own interface, by the key widget.js uses.
# Served to the widget as JSON by the web channel (GET /webhooks/webchat/strings.json).
WIDGET_STRINGS = {
    "title": "Mesotherapy questions",
    "subtitle": "Automated assistant: general information, not medical advice",
    "open": "Open the chat",
    "close": "Close the chat",
    "conversation": "Conversation",
    "placeholder": "Type your question",
    "send": "Send",
    "typing": "The assistant is typing…",
    "you": "You",
    "assistant": "Assistant",
    "helpful": "Was this helpful?",
    "helpful_yes": "Yes, this was helpful",
    "helpful_no": "No, this was not helpful",
    "feedback_thanks": "Thank you for your feedback.",
    "feedback_failed": "Your feedback could not be sent.",
    "new_conversation": "New conversation",
    "language": "Language",
    "unreachable": "The assistant cannot be reached just now. Your message was not lost.",
    "timeout": "The assistant is taking too long to answer. Your message was not lost.",
    "retry": "Try again",
    "too_long": "Your message is too long. Please shorten it.",
    "empty": "Please type a question.",
    "new_tab": "(opens in a new tab)",
    "slow_down": "You are sending messages too quickly. Please wait a moment, then try again.",
}
# The web channel's 429 answer (bot/channels/_ratelimit.py): the same words as the widget's.
SLOW_DOWN = WIDGET_STRINGS["slow_down"]
USED_MSGIDS = (CLINICIAN_REMINDER, TALK_TO_PERSON, ALSO_IN_REGION, *LANGUAGE_NAMES.values(),
               TOPICS_BUTTON, NUMBERED_CHOICE_PROMPT, TEXT_NEEDED, TRY_AGAIN_LATER,
               CONTACT_PHONE, CONTACT_WHATSAPP, CONTACT_BOOKING, *WIDGET_STRINGS.values())


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list:
    """Compile every `messages.po` to `messages.mo` with Babel; returns the files written."""
    written = []
    for lang in LANGUAGES:
        po_path = locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        with po_path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as f:
            write_mo(f, catalog)
        written.append(mo_path)
    return written


@lru_cache(maxsize=None)
def _translations(lang: str) -> gettext.NullTranslations:
    mo = LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    po = mo.with_suffix(".po")
    if not mo.exists() or (po.exists() and po.stat().st_mtime > mo.stat().st_mtime):
        compile_catalogs()
    return gettext.translation(DOMAIN, localedir=str(LOCALES_DIR), languages=[lang])


def interface_text(lang: str, msgid: str) -> str:
    """The interface string `msgid` in `lang`."""
    return _translations(lang).gettext(msgid)


def missing_translations(locales_dir: Path = LOCALES_DIR) -> list:
    """(lang, msgid) pairs the bot uses that a catalog does not translate."""
    missing = []
    for lang in LANGUAGES:
        with (locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
            catalog = read_po(f, locale=lang)
        for msgid in USED_MSGIDS:
            message = catalog.get(msgid)
            if message is None or not message.string or message.fuzzy:
                missing.append((lang, msgid))
    return missing
