"""Which region a conversation is in, and the facts for it."""

import pytest

from bot.regions import locale_territory


@pytest.fixture
def regions(store):
    return store.regions


@pytest.mark.parametrize("number, region", [
    ("+447700900123", "GB"), ("+966501234567", "SA"), ("00971501234567", "AE"), ("+96550012345", "KW"),
    ("+9647701234567", "IQ"), ("923001234567", "PK"), ("+5511912345678", "BR"), ("+525512345678", "MX"),
    ("+15551234567", None),
])
def test_region_from_phone_number(regions, number, region):
    assert regions.from_phone_number(number) == region


def test_evidence_strongest_first(regions):
    assert regions.resolve(phone_number="+923001234567", page_region="SA", locale="en-GB") == "PK"
    assert regions.resolve(page_region="sa", locale="en-GB", text="I'm in Lahore") == "SA"
    assert regions.resolve(locale="ar-KW", text="I'm in Lahore") == "KW"
    assert regions.resolve(text="I'm in Lahore, does it hurt?") == "PK"
    assert regions.resolve(text="انا في الرياض") == "SA"
    assert regions.resolve(text="does it hurt?", current="AE") == "AE"
    assert regions.resolve(text="does it hurt?") is None


def test_bad_hints_are_ignored(regions):
    assert regions.resolve(page_region="ZZ", locale="not a locale!!", text="") is None
    assert locale_territory("x" * 200) is None
    assert locale_territory("ar-SA") == "SA"
    assert locale_territory("ur_PK") == "PK"


def test_every_region_has_its_facts_in_three_languages(regions):
    assert set(regions.regions) == {"GB", "SA", "AE", "KW", "IQ", "PK", "BR", "MX"}
    for region in regions.regions.values():
        for lang in ("en", "ar", "ur"):
            assert region.emergency[lang] and region.licensing[lang] and region.name[lang]
        assert region.source


@pytest.mark.parametrize("code, number", [("GB", "999"), ("SA", "997"), ("AE", "998"), ("KW", "112"),
                                          ("IQ", "911"), ("PK", "1122"), ("BR", "192"), ("MX", "911")])
def test_emergency_numbers_are_those_of_the_regions_table(regions, code, number):
    for lang in ("en", "ar", "ur"):
        assert number in regions.get(code).emergency[lang].translate(str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")), (code, lang)
