"""The clinic's contact lines that fill an answer's {contact} (bot/core/clinic_contact.py)."""

from datetime import datetime, timezone

import pytest

from bot.core.clinic_contact import (
    availability_text,
    clinics,
    contact_for_region,
    contact_links,
    contact_text,
)
from bot.core.i18n import (
    BACK_ON_DAY,
    BACK_TODAY,
    BACK_TOMORROW,
    CONTACT_BOOKING,
    CONTACT_EMAIL,
    CONTACT_PHONE,
    CONTACT_WHATSAPP,
    OPEN_UNTIL,
    interface_text,
)

LTR, POP = "\u2066", "\u2069"


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_the_branch_serving_the_region_in_the_persons_language(lang):
    lahore = clinics().for_region("PK")
    text = contact_for_region("PK", lang)
    lines = text.splitlines()
    assert lines[0] == lahore.name[lang]
    plain = text.replace("\u2066", "").replace("\u2069", "")
    for msgid, value in (
        (CONTACT_PHONE, lahore.phone),
        (CONTACT_WHATSAPP, lahore.whatsapp),
        (CONTACT_BOOKING, lahore.booking_url),
    ):
        label = interface_text(lang, msgid).split("{")[0]
        assert label in plain and value in plain


def test_numbers_and_links_keep_their_order_in_right_to_left_text():
    for lang in ("ar", "ur"):
        assert "\u2066+92 42 0000 0000\u2069" in contact_for_region("PK", lang)
    assert "\u2066" not in contact_for_region("PK", "en")


def test_an_unknown_region_gets_the_default_branch():
    assert contact_for_region(None, "en").splitlines()[0] == clinics().for_region(None).name["en"]
    assert contact_text(clinics().for_region("BR"), "en") == contact_for_region(None, "en")


# ---- whether staff are there now (issue 14), in the branch's own time zone ---------------------


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_open_now_says_until_when_in_the_clinics_time(lang):
    riyadh = clinics().for_region("SA")
    # Monday 14:00 UTC is 17:00 in Riyadh: open until 22:00 there
    text = availability_text(riyadh, lang, _utc(2026, 12, 7, 14, 0))
    assert text == interface_text(lang, OPEN_UNTIL).format(
        time=(LTR + "22:00" + POP) if lang != "en" else "22:00"
    )


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_closed_now_says_when_staff_are_back(lang):
    riyadh = clinics().for_region("SA")
    wrap = (lambda t: LTR + t + POP) if lang != "en" else (lambda t: t)
    # Monday 11:00 UTC: the midday break in Riyadh; back at 16:00 the same day
    assert availability_text(riyadh, lang, _utc(2026, 12, 7, 11, 0)) == interface_text(
        lang, BACK_TODAY
    ).format(time=wrap("16:00"))
    # Friday: closed all day; back on Saturday at 16:00, which is tomorrow
    assert availability_text(riyadh, lang, _utc(2026, 12, 11, 9, 0)) == interface_text(
        lang, BACK_TOMORROW
    ).format(time=wrap("16:00"))
    # London on Saturday evening: closed Sunday, open Monday at 09:00: named by its day
    london = clinics().for_region("GB")
    monday = {"en": "Monday", "ar": "الاثنين", "ur": "پیر"}[lang]
    assert availability_text(london, lang, _utc(2026, 12, 5, 19, 0)) == interface_text(
        lang, BACK_ON_DAY
    ).format(day=monday, time=wrap("09:00"))


def test_the_clinics_time_zone_decides_not_the_servers():
    lahore = clinics().for_region("PK")
    # 05:30 UTC is 10:30 in Lahore (closed, opens 11:00), though it is after 09:00 in London
    assert availability_text(lahore, "en", _utc(2026, 12, 7, 5, 30)) == interface_text(
        "en", BACK_TODAY
    ).format(time="11:00")
    assert availability_text(lahore, "en", _utc(2026, 12, 7, 6, 0)).startswith("Open now")


def test_with_the_time_the_contact_ends_with_whether_staff_are_there():
    london = clinics().for_region("GB")
    now = _utc(2026, 12, 7, 10, 0)
    text = contact_text(london, "en", now)
    assert (
        text.splitlines()[-1]
        == availability_text(london, "en", now)
        == "Open now: staff are there until 18:00 (clinic time)."
    )
    assert interface_text("en", CONTACT_EMAIL).format(address=london.email) in text
    assert contact_text(london, "en").splitlines()[-1] != text.splitlines()[-1], "without a time: no claim"


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_links_to_call_message_and_book(lang):
    lahore = clinics().for_region("PK")
    links = contact_links(lahore, lang)
    assert [link["url"] for link in links] == [
        "tel:+924200000000",
        "https://wa.me/923000000000",
        "https://clinic.example/book/lahore",
    ]
    assert all(link["title"].strip() for link in links)
    titles = {lang: [link["title"] for link in contact_links(lahore, lang)] for lang in ("en", "ar", "ur")}
    assert len({tuple(t) for t in titles.values()}) == 3, "each language has its own words"
