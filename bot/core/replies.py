"""Turn an answer-store entry into the message a person sees."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Dict, List, Mapping, Optional, Sequence

from bot.core.answer_store import AnswerStore
from bot.core.clinic_contact import clinics, contact_links, contact_text
from bot.core.i18n import ALSO_IN_REGION, CLINICIAN_REMINDER, LANGUAGE_NAMES, interface_text
from bot.core.language import direction
from bot.core.payloads import payload

CHOOSE_LANGUAGE_ID = "system.choose_language"
# Kinds whose replies carry no language button: an urgent answer stays short and plain.
NO_LANGUAGE_BUTTON = {"urgent"}


def switch_payload(lang: str) -> str:
    """The button payload that switches the conversation to `lang`."""
    return payload("switch_language", lang)


def topic_payload(answer_id: str) -> str:
    """The button payload that asks for one answer by id."""
    return payload("ask_topic", answer_id)


@dataclass(frozen=True)
class Reply:
    """One bot message with the fields the channels and the audit trail need."""

    text: str
    answer_id: str
    lang: str
    dir: str
    kind: str
    version: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    # Buttons that open an address rather than ask the bot: `{"title", "url"}` with a tel:,
    # https://wa.me/ or booking link (the clinic's contact). Kept apart from `buttons` (whose
    # payloads are sent back as messages) so a channel shows them only where it can open them;
    # the web channel lists them first among its buttons, as `url` buttons.
    links: List[Dict[str, str]] = field(default_factory=list)

    def as_message(self) -> dict:
        """Keyword arguments for `dispatcher.utter_message`; they become the bot event's
        metadata in the tracker store, so an audit can see which text a person saw."""
        message = asdict(self)
        for key in ("buttons", "links"):
            if not message[key]:
                message.pop(key)
        return message


def emergency_instruction(
    store: AnswerStore, lang: str, region: Optional[str], also: Sequence[str] = ()
) -> str:
    """The region's emergency instruction, then those of the other regions the evidence
    points to ("If you are in Pakistan: call 1122"), strongest first."""
    text = store.regions.get(region).emergency[lang]
    for code in also:
        other = store.regions.get(code)
        if other.code and other.code != region:
            text += " " + interface_text(lang, ALSO_IN_REGION).format(
                place=other.name[lang], instruction=other.emergency[lang]
            )
    return text


def compose_reply(
    store: AnswerStore,
    answer_id: str,
    lang: str,
    region: Optional[str] = None,
    also_regions: Sequence[str] = (),
    values: Optional[Mapping[str, str]] = None,
    now: Optional[datetime] = None,
) -> Reply:
    """The reply for `answer_id` in `lang`, with region facts filled in and follow-up buttons.

    `values` fills or overrides placeholders (the WhatsApp channel names a pinned country
    the regions table does not list as `place`). An answer with `{contact}` gets the
    details of the clinic branch serving `region`, whether its staff are there at `now`
    (default: this moment), and buttons to call, message it on WhatsApp and book.
    """
    answer = store.get(answer_id)
    place = store.regions.get(region)
    template = answer.text[lang]
    fill = {
        "emergency": emergency_instruction(store, lang, region, also_regions),
        "licensing": place.licensing[lang],
        "place": place.name.get(lang, ""),
        **(values or {}),
    }
    links: List[Dict[str, str]] = []
    if "{contact}" in template:
        clinic = clinics().for_region(region)
        fill.setdefault("contact", contact_text(clinic, lang, now or datetime.now(timezone.utc)))
        links = contact_links(clinic, lang)
    text = template.format_map(fill)
    if answer.medical:
        text = f"{text}\n\n{interface_text(lang, CLINICIAN_REMINDER)}"
    buttons = [{"title": store.get(rel).title[lang], "payload": topic_payload(rel)} for rel in answer.related]
    if answer.id == CHOOSE_LANGUAGE_ID:
        # Each language named in itself: a reader of that language finds it at a glance.
        buttons = [
            {"title": interface_text(code, LANGUAGE_NAMES[code]), "payload": switch_payload(code)}
            for code in LANGUAGE_NAMES
            if code != lang
        ]
    elif answer.kind not in NO_LANGUAGE_BUTTON and CHOOSE_LANGUAGE_ID in store.answers:
        # Every reply set ends with a way to change language.
        buttons.append(
            {"title": store.get(CHOOSE_LANGUAGE_ID).title[lang], "payload": topic_payload(CHOOSE_LANGUAGE_ID)}
        )
    return Reply(
        text=text,
        answer_id=answer.id,
        lang=lang,
        dir=direction(lang),
        kind=answer.kind,
        version=answer.version,
        buttons=buttons,
        links=links,
    )


def replies_for_several_questions(replies: Sequence[Reply]) -> List[Reply]:
    """Answers to several questions of one message, sent one after the other.

    Follow-up buttons only under the last one: one row of buttons, where the person reads
    last, rather than a row under every answer; the medical answers keep their clinician line.
    """
    return [replace(r, buttons=[]) for r in replies[:-1]] + list(replies[-1:])
