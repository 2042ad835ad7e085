"""The clinic's contact details and opening hours, as content (data/clinic.yml).

A person who asks for a member of staff, or how to book, gets the real ways to reach the
clinic (phone, WhatsApp, booking page) in their language, and an honest word on whether
staff are there now, worked out in the clinic's own time zone. A clinic with several
branches lists one entry per branch with the regions it serves; one entry is the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_time, get_day_names

from bot import LANGUAGES, PROJECT_ROOT
from bot.core._yaml import YamlFileError, load_yaml_with_lines
from bot.core.problems import InvalidContent, Problem

CLINIC_FILE = PROJECT_ROOT / "data" / "clinic.yml"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PHONE = re.compile(r"\+\d[\d ]{6,20}\d")
_HOURS = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_URL = re.compile(r"https://[^\s]+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")


@dataclass(frozen=True)
class Clinic:
    id: str
    name: Mapping[str, str]
    phone: str
    whatsapp: str
    email: str
    booking_url: str
    time_zone: str
    hours: Mapping[str, Tuple[Tuple[int, int], ...]]  # weekday -> ((open minute, close minute), ...)
    regions: Tuple[str, ...] = ()
    default: bool = False

    @property
    def whatsapp_link(self) -> str:
        return f"https://wa.me/{re.sub(r'[^0-9]', '', self.whatsapp)}" if self.whatsapp else ""

    @property
    def tel_link(self) -> str:
        return f"tel:{re.sub(r'[^0-9+]', '', self.phone)}" if self.phone else ""

    def _local(self, now: datetime) -> datetime:
        zone = ZoneInfo(self.time_zone)
        return now.astimezone(zone) if now.tzinfo else now.replace(tzinfo=zone)

    def is_open(self, now: datetime) -> bool:
        local = self._local(now)
        minute = local.hour * 60 + local.minute
        return any(a <= minute < b for a, b in self.hours.get(DAYS[local.weekday()], ()))

    def closes_at(self, now: datetime) -> Optional[datetime]:
        local = self._local(now)
        minute = local.hour * 60 + local.minute
        for a, b in self.hours.get(DAYS[local.weekday()], ()):
            if a <= minute < b:  # b may be 24:00: midnight, the start of the next day
                return local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=b)
        return None

    def next_opening(self, now: datetime) -> Optional[datetime]:
        """When staff are next there, within the coming week (None if never)."""
        local = self._local(now)
        for offset in range(8):
            day = local + timedelta(days=offset)
            for a, _ in sorted(self.hours.get(DAYS[day.weekday()], ())):
                start = day.replace(hour=a // 60, minute=a % 60, second=0, microsecond=0)
                if start > local:
                    return start
        return None


@dataclass(frozen=True)
class ClinicDirectory:
    clinics: Tuple[Clinic, ...]

    @classmethod
    def load(cls, path: Path = CLINIC_FILE) -> "ClinicDirectory":
        problems: List[Problem] = []
        directory = read_clinics(path, problems)
        errors = [p for p in problems if p.severity == "error"]
        if errors or directory is None:
            raise InvalidContent(errors or [Problem(path, 1, "the clinic file could not be read")])
        return directory

    def for_region(self, code: Optional[str]) -> Clinic:
        """The branch that serves a region, else the default one."""
        for clinic in self.clinics:
            if code and code.upper() in clinic.regions:
                return clinic
        return next((c for c in self.clinics if c.default), self.clinics[0])


def _parse_hours(value, where: str, path: Path, line: int, problems: List[Problem]) -> Dict[str, tuple]:
    hours: Dict[str, tuple] = {}
    if not isinstance(value, dict):
        problems.append(
            Problem(
                path,
                line,
                f"{where}: 'hours' needs a line per day (mon ... sun), "
                'e.g. mon: ["09:00-18:00"]; use [] for a closed day',
            )
        )
        return hours
    for day in DAYS:
        spans = []
        for text in value.get(day) or []:
            m = _HOURS.fullmatch(str(text).strip())
            if not m:
                problems.append(
                    Problem(path, line, f"{where}: {day} hours '{text}' should look like 09:00-18:00")
                )
                continue
            a, b = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
            if not (0 <= a < b <= 24 * 60):
                problems.append(Problem(path, line, f"{where}: {day} hours '{text}' close before they open"))
                continue
            spans.append((a, b))
        hours[day] = tuple(spans)
    unknown = set(value) - set(DAYS)
    if unknown:
        problems.append(
            Problem(
                path,
                line,
                f"{where}: unknown day(s) {', '.join(sorted(map(str, unknown)))}; "
                "use mon, tue, wed, thu, fri, sat, sun",
            )
        )
    return hours


def read_clinics(path: Path, problems: List[Problem]) -> Optional[ClinicDirectory]:
    """Read and check data/clinic.yml; problems are appended as `file:line` messages."""
    try:
        raw, _ = load_yaml_with_lines(path)
    except (YamlFileError, OSError) as err:
        problems.append(Problem(path, getattr(err, "line", 1), str(getattr(err, "message", err))))
        return None
    entries = raw.get("clinics") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(path, 1, "needs a 'clinics:' list with at least one clinic"))
        return None
    clinics = []
    for entry in entries:
        line = getattr(entry, "line", 1)
        if not isinstance(entry, dict):
            problems.append(Problem(path, line, "each clinic is a mapping with id, name, phone, ..."))
            continue
        where = f"clinic '{entry.get('id') or '?'}'"
        name = entry.get("name") if isinstance(entry.get("name"), dict) else {}
        for lang in LANGUAGES:
            if not str(name.get(lang) or "").strip():
                problems.append(Problem(path, line, f"{where}: 'name' has no {lang} text; add it"))
        for key in sorted(set(map(str, name)) - set(LANGUAGES)):
            # {en: Clinic, Riyadh, ...}: the comma split the name; the rest became a key
            problems.append(
                Problem(
                    path,
                    line,
                    f"{where}: 'name' has an unknown key '{key}'; a name with a "
                    'comma must be quoted: {en: "Clinic, Riyadh", ...}',
                )
            )
        phone, whatsapp = str(entry.get("phone") or ""), str(entry.get("whatsapp") or "")
        for key, value in (("phone", phone), ("whatsapp", whatsapp)):
            if value and not _PHONE.fullmatch(value):
                problems.append(
                    Problem(
                        path,
                        line,
                        f"{where}: {key} '{value}' should be international, " "e.g. +44 20 7946 0000",
                    )
                )
        if not phone and not whatsapp:
            problems.append(Problem(path, line, f"{where}: give a phone or a WhatsApp number"))
        booking = str(entry.get("booking_url") or "")
        if booking and not _URL.fullmatch(booking):
            problems.append(Problem(path, line, f"{where}: booking_url must start with https://"))
        email = str(entry.get("email") or "")
        if email and not _EMAIL.fullmatch(email):
            problems.append(Problem(path, line, f"{where}: email '{email}' does not look like an address"))
        zone = str(entry.get("time_zone") or "")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                Problem(
                    path,
                    line,
                    f"{where}: time_zone '{zone}' is not a time zone name such as "
                    "Europe/London or Asia/Riyadh",
                )
            )
            zone = "UTC"
        regions = tuple(str(r).upper() for r in entry.get("regions") or ())
        clinics.append(
            Clinic(
                id=str(entry.get("id") or ""),
                name={k: str(name.get(k) or "") for k in LANGUAGES},
                phone=phone,
                whatsapp=whatsapp,
                email=email,
                booking_url=booking,
                time_zone=zone,
                hours=_parse_hours(entry.get("hours"), where, path, line, problems),
                regions=regions,
                default=bool(entry.get("default")),
            )
        )
    if sum(c.default for c in clinics) > 1:
        problems.append(Problem(path, 1, "only one clinic can be `default: true`"))
    return ClinicDirectory(tuple(clinics)) if clinics else None


def day_name(lang: str, when: datetime) -> str:
    """The weekday in the person's language (Babel's CLDR names)."""
    locale = {"en": "en", "ar": "ar", "ur": "ur_PK"}[lang]
    return get_day_names("wide", locale=locale)[when.weekday()]


def time_text(lang: str, when: datetime) -> str:
    locale = {"en": "en_GB", "ar": "ar", "ur": "ur_PK"}[lang]
    return format_time(when, "HH:mm", locale=locale)
