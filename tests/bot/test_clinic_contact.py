"""The clinic's contact lines that fill an answer's {contact} (bot/clinic_contact.py)."""

import pytest

from bot.clinic_contact import clinics, contact_for_region, contact_text
from bot.i18n import CONTACT_BOOKING, CONTACT_PHONE, CONTACT_WHATSAPP, interface_text


@pytest.mark.parametrize("lang", ["en", "ar", "ur"])
def test_the_branch_serving_the_region_in_the_persons_language(lang):
    lahore = clinics().for_region("PK")
    text = contact_for_region("PK", lang)
    lines = text.splitlines()
    assert lines[0] == lahore.name[lang]
    plain = text.replace("\u2066", "").replace("\u2069", "")
    for msgid, value in ((CONTACT_PHONE, lahore.phone), (CONTACT_WHATSAPP, lahore.whatsapp),
                         (CONTACT_BOOKING, lahore.booking_url)):
        label = interface_text(lang, msgid).split("{")[0]
        assert label in plain and value in plain


def test_numbers_and_links_keep_their_order_in_right_to_left_text():
    for lang in ("ar", "ur"):
        assert "\u2066+92 42 0000 0000\u2069" in contact_for_region("PK", lang)
    assert "\u2066" not in contact_for_region("PK", "en")


def test_an_unknown_region_gets_the_default_branch():
    assert contact_for_region(None, "en").splitlines()[0] == clinics().for_region(None).name["en"]
    assert contact_text(clinics().for_region("BR"), "en") == contact_for_region(None, "en")
