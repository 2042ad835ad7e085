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


def test_a_named_place_beats_every_other_clue(regions):
    # ../shared/spec/regions.md: where the person says they are decides alone.
    assert regions.resolve(locale="en-GB", text="I'm in Karachi and my face is swelling").primary == "PK"
    assert regions.resolve(locale="ar-SA", text="I live in London").primary == "GB"
    assert regions.resolve(phone_region="PK", text="I'm in Dubai").primary == "AE"
    assert regions.resolve(page_region="SA", locale="en-GB", text="I'm in Lahore") == regions.resolve(text="Lahore")
    assert regions.resolve(text="انا في الرياض").primary == "SA"
    assert regions.resolve(text="میں کراچی میں ہوں").primary == "PK"


def test_a_place_named_earlier_and_a_pin_count_as_named(regions):
    choice = regions.resolve(page_region="GB", locale="en-GB", text="does it hurt?", named_before="PK")
    assert (choice.primary, choice.also, choice.named) == ("PK", (), "PK")
    choice = regions.resolve(phone_region="GB", text="my lips are swelling", pin_region="PK")
    assert (choice.primary, choice.also, choice.named) == ("PK", (), "PK")
    assert regions.resolve(pin_region="AE", phone_region="PK").primary == "AE"


def test_without_a_named_place_calling_code_then_page_then_locale(regions):
    assert regions.resolve(phone_region="PK", page_region="SA", locale="en-GB").primary == "PK"
    assert regions.resolve(page_region="sa", locale="en-GB").primary == "SA"
    assert regions.resolve(locale="ar-KW").primary == "KW"
    assert regions.resolve(text="does it hurt?").primary is None


def test_disagreeing_clues_give_both_regions_strongest_first(regions):
    choice = regions.resolve(phone_region="PK", page_region="AE")
    assert (choice.primary, choice.also, choice.named) == ("PK", ("AE",), None)
    assert regions.resolve(page_region="GB", locale="ar-SA").also == ("SA",)
    assert regions.resolve(page_region="GB", locale="en-GB").also == ()


def test_bad_hints_are_ignored(regions):
    assert regions.resolve(page_region="ZZ", locale="not a locale!!", text="").primary is None
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


def test_a_pin_in_a_country_the_table_does_not_list_still_decides(regions):
    # A UK phone pinned in Paris: the general instruction, not 999; remembered as FR.
    choice = regions.resolve(phone_region="GB", pin_region="FR")
    assert (choice.primary, choice.also, choice.named) == (None, (), "FR")
    assert regions.resolve(phone_region="GB", named_before="FR").named == "FR"
    assert regions.resolve(phone_region="GB", named_before="FR", text="I'm in Karachi").primary == "PK"
    for junk in ("EU", "ZZ", "12", "F", "France", 44):
        assert regions.resolve(phone_region="GB", pin_region=junk).primary == "GB", junk


def test_country_names_for_pins_come_from_cldr():
    from bot.regions import country_name

    assert [country_name("FR", lang) for lang in ("en", "ar", "ur")] == ["France", "فرنسا", "فرانس"]
