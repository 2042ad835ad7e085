"""Which region a conversation is in, and the facts for it."""

import re

import pytest

from bot.core.regions import locale_territory


@pytest.fixture
def regions(store):
    return store.regions


@pytest.mark.parametrize(
    "number, region",
    [
        ("+447700900123", "GB"),
        ("+966501234567", "SA"),
        ("00971501234567", "AE"),
        ("+96550012345", "KW"),
        ("+9647701234567", "IQ"),
        ("923001234567", "PK"),
        ("+5511912345678", "BR"),
        ("+525512345678", "MX"),
        ("+15551234567", None),
    ],
)
def test_region_from_phone_number(regions, number, region):
    assert regions.from_phone_number(number) == region


def test_a_named_place_beats_every_other_clue(regions):
    # ../shared/spec/regions.md: where the person says they are decides alone.
    assert regions.resolve(locale="en-GB", text="I'm in Karachi and my face is swelling").primary == "PK"
    assert regions.resolve(locale="ar-SA", text="I live in London").primary == "GB"
    assert regions.resolve(phone_region="PK", text="I'm in Dubai").primary == "AE"
    assert regions.resolve(page_region="SA", locale="en-GB", text="I'm in Lahore") == regions.resolve(
        text="Lahore"
    )
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
    assert set(regions.regions) == {"GB", "SA", "AE", "KW", "IQ", "IQ-KR", "PK", "BR", "MX"}
    for region in regions.regions.values():
        for lang in ("en", "ar", "ur"):
            assert region.emergency[lang] and region.licensing[lang] and region.name[lang]
        assert region.source


def test_every_number_has_its_source_and_the_date_it_was_checked(regions):
    for region in regions.regions.values():
        assert region.emergency_numbers, region.code
        for number in region.numbers:
            assert number.source and re.fullmatch(r"\d{4}-\d{2}-\d{2}", number.checked), (region.code, number)


@pytest.mark.parametrize(
    "text",
    [
        "I'm in Erbil, my face is swollen",
        "انا في أربيل",
        "نحن في السليمانية",
        "main Duhok mein hoon",
        "we live in Sulaymaniyah",
        "ہم اربیل میں ہیں",
    ],
)
def test_a_place_in_the_kurdistan_region_picks_its_numbers(regions, text):
    assert regions.from_text(text) == "IQ-KR"
    kurdistan = regions.get(regions.resolve(text=text).primary)
    assert kurdistan.parent == "IQ" and kurdistan.emergency_numbers[0] == "122"
    assert "Kurdistan Regional Government" in kurdistan.licensing["en"]


def test_the_rest_of_iraq_keeps_the_federal_numbers(regions):
    assert regions.resolve(text="I'm in Baghdad").primary == "IQ"
    assert regions.get("IQ").emergency_numbers == ("911", "122")
    # A phone number tells the country only; a place in Kurdistan named now or before decides.
    assert regions.from_phone_number("+9647501234567") == "IQ"
    assert regions.resolve(phone_region="IQ", text="does it hurt?").primary == "IQ"
    assert regions.resolve(phone_region="IQ", text="I'm in Erbil").primary == "IQ-KR"
    assert regions.resolve(phone_region="IQ", text="does it hurt?", named_before="IQ-KR").primary == "IQ-KR"
    # Where the person says they are beats the phone (../shared/spec/regions.md).
    assert regions.resolve(phone_region="PK", text="I'm in Erbil").primary == "IQ-KR"
    assert regions.resolve(page_region="iq-kr").primary == "IQ-KR"


def test_brazil_names_the_nursing_councils_and_saudi_911_has_no_dated_city_list(regions):
    for lang in ("en", "ar", "ur"):
        assert "COFEN" in regions.get("BR").licensing[lang] and "COREN" in regions.get("BR").licensing[lang]
    assert (
        "where available" in regions.get("SA").emergency["en"]
        and "Riyadh" not in regions.get("SA").emergency["en"]
    )
    assert regions.get("PK").emergency_numbers == ("1122", "115")


def _load(path):
    from bot.core.regions import load_regions

    problems = []
    load_regions(path, problems)
    return "\n".join(str(p) for p in problems)


def test_a_number_missing_from_an_emergency_text_or_without_a_date_is_refused(answers_copy):
    path = answers_copy / "regions.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("یا ایدھی ایمبولینس کے لیے 115 پر کال کریں", "یا ایدھی ایمبولینس کو کال کریں").replace(
            'source: "Mexico national emergency number 911", checked: 2026-12-04',
            'source: "Mexico national emergency number 911"',
        ),
        encoding="utf-8",
    )
    report = _load(path)
    assert "region PK: the ur emergency text does not give the number 115" in report
    assert "region MX: number 911: 'checked' is None" in report


@pytest.mark.parametrize(
    "code, number",
    [
        ("GB", "999"),
        ("SA", "997"),
        ("AE", "998"),
        ("KW", "112"),
        ("IQ", "911"),
        ("IQ-KR", "122"),
        ("PK", "1122"),
        ("PK", "115"),
        ("BR", "192"),
        ("MX", "911"),
    ],
)
def test_emergency_numbers_are_those_of_the_regions_table(regions, code, number):
    for lang in ("en", "ar", "ur"):
        assert number in regions.get(code).emergency[lang].translate(
            str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
        ), (code, lang)


def test_a_pin_in_a_country_the_table_does_not_list_still_decides(regions):
    # A UK phone pinned in Paris: the general instruction, not 999; remembered as FR.
    choice = regions.resolve(phone_region="GB", pin_region="FR")
    assert (choice.primary, choice.also, choice.named) == (None, (), "FR")
    assert regions.resolve(phone_region="GB", named_before="FR").named == "FR"
    assert regions.resolve(phone_region="GB", named_before="FR", text="I'm in Karachi").primary == "PK"
    for junk in ("EU", "ZZ", "12", "F", "France", 44):
        assert regions.resolve(phone_region="GB", pin_region=junk).primary == "GB", junk


def test_country_names_for_pins_come_from_cldr():
    from bot.core.regions import country_name

    assert [country_name("FR", lang) for lang in ("en", "ar", "ur")] == ["France", "فرنسا", "فرانس"]
