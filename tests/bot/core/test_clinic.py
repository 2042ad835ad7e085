"""The clinic's contact details and opening hours (data/clinic.yml, bot/core/clinic.py)."""

from datetime import datetime, timezone

import pytest

from bot.core.clinic import ClinicDirectory, day_name, read_clinics


@pytest.fixture(scope="module")
def clinics():
    return ClinicDirectory.load()


def test_each_region_gets_its_branch_and_others_the_default(clinics):
    assert clinics.for_region("PK").id == "lahore"
    assert clinics.for_region("sa").id == "riyadh"
    assert clinics.for_region("BR").id == clinics.for_region(None).id == "london"


def test_opening_hours_are_worked_out_in_the_clinics_time_zone(clinics):
    riyadh = clinics.for_region("SA")
    # 14:00 UTC on a Monday is 17:00 in Riyadh: open after the afternoon break.
    assert riyadh.is_open(datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc))
    # 11:00 UTC is 14:00 in Riyadh: the midday break.
    noon = datetime(2026, 12, 7, 11, 0, tzinfo=timezone.utc)
    assert not riyadh.is_open(noon)
    assert riyadh.next_opening(noon).hour == 16
    # Friday: closed all day; it opens again on Saturday at 16:00.
    friday = datetime(2026, 12, 11, 9, 0, tzinfo=timezone.utc)
    assert not riyadh.is_open(friday)
    opening = riyadh.next_opening(friday)
    assert (opening.weekday(), opening.hour) == (5, 16)
    assert riyadh.closes_at(datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)).hour == 22


def test_links_for_tap_to_call_and_whatsapp(clinics):
    london = clinics.for_region("GB")
    assert london.tel_link == "tel:+442079460000"
    assert london.whatsapp_link == "https://wa.me/447700900000"


def test_weekday_names_in_three_languages():
    monday = datetime(2026, 12, 7)
    assert day_name("en", monday) == "Monday"
    assert day_name("ar", monday) == "الاثنين"
    assert day_name("ur", monday) == "پیر"


def test_a_broken_clinic_file_is_reported_by_line(tmp_path):
    bad = tmp_path / "clinic.yml"
    bad.write_text(
        "clinics:\n  - id: x\n    name: {en: X}\n    phone: '0207 946 0000'\n    time_zone: Mars/Base\n"
        "    hours: {mon: ['18:00-09:00'], funday: []}\n",
        encoding="utf-8",
    )
    problems = []
    read_clinics(bad, problems)
    text = "\n".join(str(p) for p in problems)
    assert "no ar text" in text and "international" in text and "Mars/Base" in text
    assert "close before they open" in text and "funday" in text
    assert all(p.line == 2 for p in problems)


def test_a_span_that_ends_at_midnight_closes_at_midnight(tmp_path):
    late = tmp_path / "clinic.yml"
    late.write_text(
        "clinics:\n  - id: late\n    name: {en: Late, ar: متأخر, ur: دیر}\n    phone: '+44 20 7946 0001'\n"
        "    time_zone: Europe/London\n    hours: {fri: ['18:00-24:00']}\n",
        encoding="utf-8",
    )
    clinic = ClinicDirectory.load(late).clinics[0]
    closes = clinic.closes_at(datetime(2026, 12, 11, 22, 0, tzinfo=timezone.utc))
    assert (closes.day, closes.hour, closes.minute) == (12, 0, 0)


def test_an_unquoted_name_with_a_comma_is_caught(tmp_path):
    """{en: Clinic, Riyadh, ...}: YAML splits the name at the comma; make validate says to quote it."""
    bad = tmp_path / "clinic.yml"
    bad.write_text(
        "clinics:\n  - id: x\n    name: {en: Example Clinic, Riyadh, ar: عيادة, ur: کلینک}\n"
        "    phone: '+966 11 000 0000'\n    time_zone: Asia/Riyadh\n    hours: {}\n",
        encoding="utf-8",
    )
    problems = []
    read_clinics(bad, problems)
    assert any("unknown key 'Riyadh'" in p.message and "quoted" in p.message for p in problems), problems
