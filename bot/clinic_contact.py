"""How to reach the clinic, as the lines an answer's `{contact}` placeholder becomes.

The branch serving the person's region (data/clinic.yml, bot/clinic.py): its name, phone,
WhatsApp number and booking page, one per line, labelled in the reply's language. In
Arabic and Urdu each number and link is isolated left-to-right, or the phone's digit
groups would be shown in reverse order.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from bot import RTL_LANGUAGES
from bot.clinic import Clinic, ClinicDirectory
from bot.i18n import CONTACT_BOOKING, CONTACT_PHONE, CONTACT_WHATSAPP, interface_text

_LTR_ISOLATE, _POP_ISOLATE = "\u2066", "\u2069"


@lru_cache(maxsize=1)
def clinics() -> ClinicDirectory:
    """data/clinic.yml, read once per process like the answer store: restart the bot after editing it."""
    return ClinicDirectory.load()


def contact_text(clinic: Clinic, lang: str) -> str:
    """The clinic's name and the ways to reach it, one per line, in `lang`."""
    def ltr(value: str) -> str:
        return f"{_LTR_ISOLATE}{value}{_POP_ISOLATE}" if lang in RTL_LANGUAGES else value

    lines = [clinic.name.get(lang) or clinic.name.get("en", "")]
    if clinic.phone:
        lines.append(interface_text(lang, CONTACT_PHONE).format(number=ltr(clinic.phone)))
    if clinic.whatsapp:
        lines.append(interface_text(lang, CONTACT_WHATSAPP).format(number=ltr(clinic.whatsapp)))
    if clinic.booking_url:
        lines.append(interface_text(lang, CONTACT_BOOKING).format(link=ltr(clinic.booking_url)))
    return "\n".join(line for line in lines if line)


def contact_for_region(region: Optional[str], lang: str) -> str:
    """`contact_text` of the branch that serves `region` (the default branch when unknown)."""
    return contact_text(clinics().for_region(region), lang)
