"""Replies: region facts filled in, the clinician reminder, follow-up buttons."""

import json

import pytest

from bot.core.i18n import CLINICIAN_REMINDER, interface_text
from bot.core.replies import compose_reply


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_urgent_reply_gives_the_region_number(store, lang):
    reply = compose_reply(store, "safety.urgent", lang, "SA")
    assert store.regions.get("SA").emergency[lang] in reply.text
    assert "{" not in reply.text and reply.kind == "urgent"
    general = compose_reply(store, "safety.urgent", lang, None)
    assert store.regions.unknown.emergency[lang] in general.text


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_practitioner_reply_names_the_licensing_body(store, lang):
    reply = compose_reply(store, "safety.practitioner", lang, "PK")
    assert store.regions.get("PK").licensing[lang] in reply.text


@pytest.mark.parametrize("lang, direction", [("en", "ltr"), ("ar", "rtl"), ("ur", "rtl")])
def test_medical_answers_end_with_the_clinician_reminder(store, lang, direction):
    reply = compose_reply(store, "procedure.pain", lang)
    assert reply.text.endswith(interface_text(lang, CLINICIAN_REMINDER))
    assert (reply.lang, reply.dir, reply.answer_id, reply.kind) == (
        lang,
        direction,
        "procedure.pain",
        "answer",
    )
    assert reply.version == store.get("procedure.pain").review_date
    greeting = compose_reply(store, "chitchat.greet", lang)
    assert interface_text(lang, CLINICIAN_REMINDER) not in greeting.text


def test_buttons_ask_for_related_topics_in_the_reply_language(store):
    reply = compose_reply(store, "fallback.not_understood", "ar")
    related = store.get("fallback.not_understood").related
    assert [b["title"] for b in reply.buttons[:-1]] == [store.get(r).title["ar"] for r in related]
    first = reply.buttons[0]["payload"]
    assert first.startswith("/ask_topic") and json.loads(first[len("/ask_topic") :]) == {"topic": related[0]}


def test_the_reminder_differs_per_language():
    texts = {interface_text(lang, CLINICIAN_REMINDER) for lang in ("en", "ar", "ur")}
    assert len(texts) == 3


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_every_reply_set_offers_a_language_switch(store, lang):
    reply = compose_reply(store, "procedure.pain", lang)
    assert reply.buttons[-1] == {
        "title": store.get("system.choose_language").title[lang],
        "payload": '/ask_topic{"topic":"system.choose_language"}',
    }
    assert all(
        b["payload"] != reply.buttons[-1]["payload"]
        for b in compose_reply(store, "safety.urgent", lang).buttons
    )


def test_the_language_chooser_names_each_language_in_itself(store):
    reply = compose_reply(store, "system.choose_language", "en")
    assert [(b["title"], b["payload"]) for b in reply.buttons] == [
        ("العربية", '/switch_language{"language":"ar"}'),
        ("اردو", '/switch_language{"language":"ur"}'),
    ]


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_the_whatsapp_notices_fill_place_and_contact(store, lang):
    from bot.core.clinic_contact import contact_for_region

    media = compose_reply(store, "system.media_unsupported", lang, "SA").text
    assert contact_for_region("SA", lang) in media and "997" in media and "{" not in media
    pinned = compose_reply(store, "system.location_set", lang, "AE").text
    assert store.regions.get("AE").name[lang] in pinned and "998" in pinned
    abroad = compose_reply(store, "system.location_set", lang, None, values={"place": "Ruritania"}).text
    assert "Ruritania" in abroad and store.regions.unknown.emergency[lang] in abroad


# ---- the clinic's contact details (issue 14) ---------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
@pytest.mark.parametrize("answer_id", ["handoff.human", "booking.consultation"])
def test_asking_for_staff_or_to_book_gives_the_clinics_real_contact(store, answer_id, lang):
    from datetime import datetime, timezone

    from bot.core.clinic_contact import clinics, contact_links, contact_text

    now = datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)  # Monday: Riyadh open, 17:00 there
    reply = compose_reply(store, answer_id, lang, "SA", now=now)
    riyadh = clinics().for_region("SA")
    assert contact_text(riyadh, lang, now) in reply.text and "{" not in reply.text
    assert reply.links == contact_links(riyadh, lang)
    assert [link["url"] for link in reply.links] == [
        riyadh.tel_link,
        riyadh.whatsapp_link,
        riyadh.booking_url,
    ]
    # the links stay apart from the payload buttons: a channel that cannot open them is not confused
    assert all("url" not in button for button in reply.buttons)
    assert reply.as_message()["links"] == reply.links
    # no promise the bot cannot keep: nobody writes back "through this chat"
    assert "through this chat" not in store.get(answer_id).text["en"]


def test_other_answers_carry_no_contact_links(store):
    assert compose_reply(store, "procedure.pain", "en").links == []
    assert "links" not in compose_reply(store, "procedure.pain", "en").as_message()
