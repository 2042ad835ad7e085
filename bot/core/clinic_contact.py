"""How to reach the clinic, as people read it: what an answer's `{contact}` becomes.

The branch serving the person's region (data/clinic.yml, bot/core/clinic.py): its name, phone,
WhatsApp number, e-mail and booking page, one per line, labelled in the reply's
language; given the time, an honest line on whether staff are there now ("Open now:
staff are there until 18:00" / "Closed now: the clinic opens on Monday at 09:00"),
worked out in the branch's own time zone. In Arabic and Urdu each number and address
is isolated left-to-right, or a phone's digit groups would be shown in reverse order.

`contact_links` are the same ways as buttons: tap-to-call (`tel:`), WhatsApp
(`https://wa.me/<digits>`) and the booking page. The web channel shows them as `url`
buttons (docs/webchat-channel.md).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Dict, List, Optional

from bot import RTL_LANGUAGES
from bot.core.clinic import Clinic, ClinicDirectory, day_name, time_text
from bot.core.i18n import (
    BACK_ON_DAY,
    BACK_TODAY,
    BACK_TOMORROW,
    BOOKING_BUTTON,
    CALL_BUTTON,
    CONTACT_BOOKING,
    CONTACT_EMAIL,
    CONTACT_PHONE,
    CONTACT_WHATSAPP,
    OPEN_UNTIL,
    WHATSAPP_BUTTON,
    interface_text,
)

_LTR_ISOLATE, _POP_ISOLATE = "\u2066", "\u2069"


@lru_cache(maxsize=1)
def clinics() -> ClinicDirectory:
    """data/clinic.yml, read once per process like the answer store: restart the bot after editing it."""
    return ClinicDirectory.load()


def _ltr(value: str, lang: str) -> str:
    return f"{_LTR_ISOLATE}{value}{_POP_ISOLATE}" if lang in RTL_LANGUAGES else value


def availability_text(clinic: Clinic, lang: str, now: datetime) -> str:
    """Whether staff are there at `now`, and until when or from when; "" for a branch with no hours."""
    closes = clinic.closes_at(now)
    if closes is not None:
        return interface_text(lang, OPEN_UNTIL).format(time=_ltr(time_text(lang, closes), lang))
    opening = clinic.next_opening(now)
    if opening is None:
        return ""
    local_now = now.astimezone(opening.tzinfo) if now.tzinfo else now.replace(tzinfo=opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    when = _ltr(time_text(lang, opening), lang)
    if days == 0:
        return interface_text(lang, BACK_TODAY).format(time=when)
    if days == 1:
        return interface_text(lang, BACK_TOMORROW).format(time=when)
    return interface_text(lang, BACK_ON_DAY).format(day=day_name(lang, opening), time=when)


def contact_text(clinic: Clinic, lang: str, now: Optional[datetime] = None) -> str:
    """The clinic's name and the ways to reach it, one per line, in `lang`; with `now`,
    whether staff are there at that moment."""
    lines = [clinic.name.get(lang) or clinic.name.get("en", "")]
    if clinic.phone:
        lines.append(interface_text(lang, CONTACT_PHONE).format(number=_ltr(clinic.phone, lang)))
    if clinic.whatsapp:
        lines.append(interface_text(lang, CONTACT_WHATSAPP).format(number=_ltr(clinic.whatsapp, lang)))
    if clinic.email:
        lines.append(interface_text(lang, CONTACT_EMAIL).format(address=_ltr(clinic.email, lang)))
    if clinic.booking_url:
        lines.append(interface_text(lang, CONTACT_BOOKING).format(link=_ltr(clinic.booking_url, lang)))
    if now is not None:
        lines.append(availability_text(clinic, lang, now))
    return "\n".join(line for line in lines if line)


def contact_for_region(region: Optional[str], lang: str, now: Optional[datetime] = None) -> str:
    """`contact_text` of the branch that serves `region` (the default branch when unknown)."""
    return contact_text(clinics().for_region(region), lang, now)


def contact_links(clinic: Clinic, lang: str) -> List[Dict[str, str]]:
    """Buttons that open the phone, WhatsApp and the booking page: `{"title", "url"}`."""
    links = [
        (CALL_BUTTON, clinic.tel_link),
        (WHATSAPP_BUTTON, clinic.whatsapp_link),
        (BOOKING_BUTTON, clinic.booking_url),
    ]
    return [{"title": interface_text(lang, title), "url": url} for title, url in links if url]


def longest_contact_text(lang: str, directory: Optional[ClinicDirectory] = None) -> str:
    """The longest `{contact}` any branch can produce in `lang` (for the WhatsApp length checks)."""
    directory = directory or clinics()
    longest_day = max((day_name(lang, datetime(2026, 12, 7 + i)) for i in range(7)), key=len)
    status = max(
        (
            interface_text(lang, msgid).format(day=longest_day, time=_ltr("00:00", lang))
            for msgid in (OPEN_UNTIL, BACK_TODAY, BACK_TOMORROW, BACK_ON_DAY)
        ),
        key=len,
    )
    return max((contact_text(clinic, lang) + "\n" + status for clinic in directory.clinics), key=len)
