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

from bot import LANGUAGE_NAMES, LANGUAGES, PROJECT_ROOT

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"

# Message ids of the interface strings the bot itself uses. `make validate` and the
# tests check that every one is translated in every catalog.
CLINICIAN_REMINDER = "A licensed clinician decides what is right for you."
TALK_TO_PERSON = "Talk to a person"
# After the region's emergency instruction, for each other region the evidence points to
# (a +92 phone on a page set to AE): "If you are in Pakistan: call 1122 now".
ALSO_IN_REGION = "If you are in {place}: {instruction}."
# WhatsApp channel (bot/rasa_server/channels/whatsapp.py): the list-message button (20 characters at
# most in every language), the prompt above a numbered menu, the answer to an image or a
# voice note, and the apology when no answer could be produced.
TOPICS_BUTTON = "Topics"
NUMBERED_CHOICE_PROMPT = "Reply with the number of a topic:"
TEXT_NEEDED = "I can only read text messages. Please type your question."
TRY_AGAIN_LATER = "Sorry, I could not answer just now. Please send your message again in a few minutes."
# The clinic's contact lines (bot/core/clinic_contact.py), filled into an answer's {contact}, and
# whether staff are there now, in the branch's own time zone.
CONTACT_PHONE = "Phone: {number}"
CONTACT_WHATSAPP = "WhatsApp: {number}"
CONTACT_EMAIL = "E-mail: {address}"
CONTACT_BOOKING = "Book online: {link}"
OPEN_UNTIL = "Open now: staff are there until {time} (clinic time)."
BACK_TODAY = "Closed now: staff are back today at {time} (clinic time)."
BACK_TOMORROW = "Closed now: staff are back tomorrow at {time} (clinic time)."
BACK_ON_DAY = "Closed now: the clinic opens on {day} at {time} (clinic time)."
# The same ways as buttons (the web channel's `url` buttons): phone, WhatsApp, booking page.
CALL_BUTTON = "Call the clinic"
WHATSAPP_BUTTON = "Message on WhatsApp"
BOOKING_BUTTON = "Book online"
CONTACT_MSGIDS = (
    CONTACT_PHONE,
    CONTACT_WHATSAPP,
    CONTACT_EMAIL,
    CONTACT_BOOKING,
    OPEN_UNTIL,
    BACK_TODAY,
    BACK_TOMORROW,
    BACK_ON_DAY,
    CALL_BUTTON,
    WHATSAPP_BUTTON,
    BOOKING_BUTTON,
)
# Website widget (bot/rasa_server/channels/widget/): its own interface, by the key widget.js uses.
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
    # opening the panel when the bot is down: nothing was sent, so nothing to reassure about
    "unreachable_start": "The assistant cannot be reached just now. Please try again in a moment.",
    "timeout_start": "The assistant is taking too long to answer. Please try again in a moment.",
    # a 503 with "stored": true: the message is in the conversation, only the answer failed
    "not_answered": "Your message was received, but the assistant could not answer just now.",
    "urgent_heading": "Urgent: get medical help now",
    # the launcher while the panel is closed and a reply came in
    "open_unread": "Open the chat: new message from the assistant",
    "open_urgent": "Open the chat: urgent message from the assistant",
    "too_long_count": "{count} characters: the limit is {limit}. Please shorten your message.",
    # a message typed while the previous one waits for its answer
    "queued": "Will be sent after the answer",
    "wait_for_answer": "Please wait for the answer before sending another message.",
    "new_conversation_confirm": "Start a new conversation? This conversation will be cleared from this page.",
    "confirm_new": "Start over",
    "cancel": "Cancel",
    # the form under the handoff answer, shown only when the bot can deliver it to staff
    "handoff_open": "Ask the clinic to contact me",
    "handoff_intro": "Leave your name and a phone number or e-mail address, and the clinic's staff "
    "will contact you.",
    "name": "Your name",
    "phone": "Phone number",
    "email": "E-mail address",
    "handoff_contact_hint": "A phone number, an e-mail address, or both.",
    "handoff_consent": "I agree that the clinic may keep these details and use them to contact me "
    "about my request.",
    "handoff_send": "Send my details",
    "handoff_need_name": "Please give your name.",
    "handoff_need_contact": "Please give a phone number or an e-mail address.",
    "handoff_bad_phone": "Please check the phone number.",
    "handoff_bad_email": "Please check the e-mail address.",
    "handoff_need_consent": "Please tick the box to agree, or contact the clinic yourself using the "
    "details above.",
    "handoff_delivered": "Thank you. The clinic's staff have your details and will contact you.",
    "handoff_queued": "Thank you. Your details are saved and will reach the clinic's staff shortly.",
    "handoff_failed": "Your details could not be sent just now. Please try again, or contact the clinic "
    "using the details above.",
}
# The web channel's 429 answer (bot/rasa_server/channels/_ratelimit.py): the same words as the widget's.
SLOW_DOWN = WIDGET_STRINGS["slow_down"]
USED_MSGIDS = (
    CLINICIAN_REMINDER,
    TALK_TO_PERSON,
    ALSO_IN_REGION,
    *LANGUAGE_NAMES.values(),
    TOPICS_BUTTON,
    NUMBERED_CHOICE_PROMPT,
    TEXT_NEEDED,
    TRY_AGAIN_LATER,
    *CONTACT_MSGIDS,
    *WIDGET_STRINGS.values(),
)


def catalog_path(lang: str, locales_dir: Path = LOCALES_DIR) -> Path:
    """Where the interface catalog of `lang` is (`locales/<lang>/LC_MESSAGES/messages.po`)."""
    return locales_dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str, locales_dir: Path = LOCALES_DIR, strict: bool = False):
    """The Babel catalog of `lang`: the one reader of the interface catalogs (the bot's
    compiling, its completeness check and `make validate`). `strict` refuses what Babel would
    otherwise skip, raising PoFileError with the line; a missing file raises OSError."""
    with catalog_path(lang, locales_dir).open("rb") as f:
        return read_po(f, locale=lang, abort_invalid=strict)


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list:
    """Compile every `messages.po` to `messages.mo` with Babel; returns the files written."""
    written = []
    for lang in LANGUAGES:
        catalog = read_catalog(lang, locales_dir)
        mo_path = catalog_path(lang, locales_dir).with_suffix(".mo")
        with mo_path.open("wb") as f:
            write_mo(f, catalog)
        written.append(mo_path)
    return written


@lru_cache(maxsize=None)
def _translations(lang: str) -> gettext.NullTranslations:
    po = catalog_path(lang)
    mo = po.with_suffix(".mo")
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
        catalog = read_catalog(lang, locales_dir)
        for msgid in USED_MSGIDS:
            message = catalog.get(msgid)
            if message is None or not message.string or message.fuzzy:
                missing.append((lang, msgid))
    return missing
