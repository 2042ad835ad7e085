"""The regions the clinic serves: emergency numbers and licensing bodies, as data.

The facts live in `data/answers/regions.yml`, with their sources, so content staff can
correct them without a code change. This module reads them and decides which region a
conversation is in.

A region is a country (ISO 3166-1 code, `IQ`) or a part of one with its own emergency
services and licensing (ISO 3166-2 code with its `parent`, `IQ-KR` for Iraq's Kurdistan
Region): a place named in it picks it; a phone number or a locale only tells the country.
Every emergency number is listed under `numbers:` with its source and the date it was
checked, and must appear in the region's emergency text in all three languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

from babel import Locale, UnknownLocaleError

from bot import LANGUAGES
from bot.core._yaml import YamlFileError, load_yaml_with_lines
from bot.core.normalize import normalise_for_matching
from bot.core.problems import Problem

_TEXT_FIELDS = ("emergency", "licensing")
_CODE = re.compile(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?")  # IQ, or a subdivision such as IQ-KR
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# What a number is for. `emergency`: call it now for an ambulance (listed in the built-in
# urgent reply); `advice`: urgent but not life-threatening (NHS 111); `police`: named only
# so nobody mistakes it for the ambulance.
NUMBER_USES = ("emergency", "advice", "police")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


@dataclass(frozen=True)
class PhoneNumber:
    number: str
    use: str
    source: str
    checked: str  # YYYY-MM-DD: when it was last checked against `source`


@dataclass(frozen=True)
class Region:
    code: str
    name: Mapping[str, str]
    calling_codes: Tuple[str, ...]
    places: Tuple[str, ...]
    emergency: Mapping[str, str]
    licensing: Mapping[str, str]
    source: str = ""
    verify: bool = False
    numbers: Tuple[PhoneNumber, ...] = ()
    parent: Optional[str] = None
    locales: Tuple[str, ...] = ()

    @property
    def emergency_numbers(self) -> Tuple[str, ...]:
        """The numbers to call now, in the order the file lists them."""
        return tuple(n.number for n in self.numbers if n.use == "emergency")


@dataclass
class RegionTable:
    regions: Dict[str, Region]
    unknown: Region
    _places: List[Tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Longest place names first, so "abu dhabi" wins over a shorter match.
        pairs = {(normalise_for_matching(p), r.code) for r in self.regions.values() for p in r.places}
        self._places = sorted((p, c) for p, c in pairs if p)
        self._places.sort(key=lambda pc: -len(pc[0]))

    def get(self, code: Optional[str]) -> Region:
        """The region for an ISO code (`GB`, `IQ-KR`), or the general instruction for an unknown one."""
        if isinstance(code, str) and code.upper() in self.regions:
            return self.regions[code.upper()]
        return self.unknown

    def from_phone_number(self, number: str) -> Optional[str]:
        """The region of an international phone number (+44..., 0092..., 966...)."""
        digits = re.sub(r"\D", "", number or "")
        if digits.startswith("00"):
            digits = digits[2:]
        best = None
        for region in self.regions.values():
            for cc in region.calling_codes if region.parent is None else ():
                if digits.startswith(cc) and (best is None or len(cc) > len(best[1])):
                    best = (region.code, cc)
        return best[0] if best else None

    def from_text(self, text: str) -> Optional[str]:
        """A region the person names ("I'm in Lahore", "انا في الرياض")."""
        padded = f" {normalise_for_matching(text or '')} "
        for place, code in self._places:
            if f" {place} " in padded or f" ال{place} " in padded or f" في{place} " in padded:
                return code
        return None

    def resolve(
        self,
        phone_region: Optional[str] = None,
        page_region: Optional[str] = None,
        locale: Optional[str] = None,
        text: Optional[str] = None,
        named_before: Optional[str] = None,
        pin_region: Optional[str] = None,
    ) -> "RegionChoice":
        """The conversation's region, as ../shared/spec/regions.md orders the evidence.

        Where the person says they are decides alone: a place named in this message, a
        location pin, or a place named earlier in the conversation. Otherwise the WhatsApp
        calling code's region (`phone_region`, from `from_phone_number`), then the region the embedding page sets, then the browser locale's
        country; when these disagree, the others are kept so the urgent reply can give
        their numbers too, the strongest first.
        """
        named = self.from_text(text or "") or self._pinned(pin_region) or self._pinned(named_before)
        if named:
            # A pin in a country the table does not list still decides: the person is
            # there, so the general instruction (the local emergency number) is right,
            # not the number of the country their phone comes from.
            return RegionChoice(named if named in self.regions else None, (), named)
        evidence = [
            self._known(phone_region),
            self._known(page_region),
            self._known(locale_territory(locale)),
        ]
        found = list(dict.fromkeys(code for code in evidence if code))
        if not found:
            return RegionChoice(None)
        return RegionChoice(found[0], tuple(found[1:]))

    def _known(self, code: Optional[str]) -> Optional[str]:
        return code.upper() if isinstance(code, str) and code.upper() in self.regions else None

    def _pinned(self, code: Optional[str]) -> Optional[str]:
        """A place the person is in: a region of the table, or any other country (ISO code)."""
        return self._known(code) or (code.upper() if is_country_code(code) else None)


@dataclass(frozen=True)
class RegionChoice:
    """The region a reply is for, the others the evidence points to, and a named one."""

    primary: Optional[str]  # None: unknown, or a pinned country the table does not list
    also: Tuple[str, ...] = ()  # their emergency numbers are given after the primary's
    named: Optional[str] = None  # named or pinned by the person: remembered for the conversation


def is_country_code(code: object) -> bool:
    """An ISO 3166-1 alpha-2 country code CLDR knows (`FR`), in any case."""
    return (
        isinstance(code, str)
        and len(code) == 2
        and code.isascii()
        and code.isalpha()
        and code.upper() in _territories()
    )


@lru_cache(maxsize=1)
def _territories() -> frozenset:
    # CLDR also names groupings (EU, UN, QO outlying Oceania, pseudo-locales XA/XB, ZZ unknown).
    groupings = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
    return frozenset(code for code in Locale("en").territories if code.isalpha() and code not in groupings)


def country_name(code: str, lang: str) -> str:
    """A country's name in `lang` from CLDR (Babel), for a country the table does not list."""
    locale = {"en": "en", "ar": "ar", "ur": "ur"}.get(lang, "en")
    return Locale(locale).territories.get(code.upper(), code.upper())


def locale_territory(locale: Optional[str]) -> Optional[str]:
    """The country part of a BCP 47 locale (`ar-SA` -> `SA`), parsed by Babel."""
    if not locale or not isinstance(locale, str) or len(locale) > 35:
        return None
    try:
        return Locale.parse(locale.strip(), sep="-" if "-" in locale else "_").territory
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def _texts(entry: dict, key: str, path: Path, where: str, problems: List[Problem]) -> Dict[str, str]:
    value = entry.get(key)
    line = getattr(entry, "key_lines", {}).get(key, getattr(entry, "line", 1))
    if not isinstance(value, dict):
        problems.append(Problem(path, line, f"{where}: '{key}' needs en, ar and ur texts"))
        return {}
    for lang in LANGUAGES:
        if not str(value.get(lang) or "").strip():
            problems.append(Problem(path, line, f"{where}: '{key}' has no {lang} text; add it"))
    return {lang: str(value.get(lang) or "").strip() for lang in LANGUAGES}


def _numbers(entry: dict, path: Path, where: str, problems: List[Problem]) -> Tuple[PhoneNumber, ...]:
    raw = entry.get("numbers")
    line = getattr(entry, "key_lines", {}).get("numbers", getattr(entry, "line", 1))
    if not isinstance(raw, list) or not raw:
        problems.append(
            Problem(
                path,
                line,
                f"{where}: list its emergency numbers under 'numbers:', each with "
                "number, use, source and checked (the date it was checked)",
            )
        )
        return ()
    out = []
    for item in raw:
        item_line = getattr(item, "line", line)
        if not isinstance(item, dict):
            problems.append(
                Problem(
                    path,
                    item_line,
                    f"{where}: a number is written as "
                    '{number: "999", use: emergency, source: ..., checked: YYYY-MM-DD}',
                )
            )
            continue
        number = PhoneNumber(
            *(str(item.get(k) or "").strip() for k in ("number", "use", "source", "checked"))
        )
        label = f"{where}: number {number.number or '?'}"
        if not re.fullmatch(r"\d{2,6}", number.number):
            problems.append(
                Problem(path, item_line, f'{label}: write the number as digits in quotes ("999")')
            )
        if number.use not in NUMBER_USES:
            problems.append(
                Problem(
                    path,
                    item_line,
                    f"{label}: 'use' is {number.use or None!r}; use one of: " f"{', '.join(NUMBER_USES)}",
                )
            )
        if not number.source:
            problems.append(Problem(path, item_line, f"{label}: add the 'source' it was checked against"))
        if not _DATE.fullmatch(number.checked):
            problems.append(
                Problem(
                    path,
                    item_line,
                    f"{label}: 'checked' is {number.checked or None!r}; "
                    "write the date it was last checked as YYYY-MM-DD",
                )
            )
        out.append(number)
    if out and not any(n.use == "emergency" for n in out):
        problems.append(
            Problem(path, line, f"{where}: no number has 'use: emergency'; " "say which one to call now")
        )
    return tuple(out)


def _numbers_in(text: str) -> set:
    return set(re.findall(r"(?<!\d)\d{2,6}(?!\d)", text.translate(_DIGITS)))


def _check_numbers_in_texts(region: Region, path: Path, line: int, problems: List[Problem]) -> None:
    """The emergency texts name exactly the listed numbers, in every language."""
    listed = {n.number for n in region.numbers}
    for lang, text in region.emergency.items():
        found = _numbers_in(text)
        for number in sorted(listed - found):
            problems.append(
                Problem(
                    path,
                    line,
                    f"region {region.code}: the {lang} emergency text does not "
                    f"give the number {number}; add it or remove it from 'numbers:'",
                )
            )
        for number in sorted(found - listed):
            problems.append(
                Problem(
                    path,
                    line,
                    f"region {region.code}: the {lang} emergency text gives "
                    f"{number}, which 'numbers:' does not list (with its source and date)",
                )
            )


def load_regions(path: Path, problems: List[Problem]) -> Optional[RegionTable]:
    """Read and check `regions.yml`; problems are appended to `problems`."""
    try:
        raw, _ = load_yaml_with_lines(path)
    except (YamlFileError, OSError) as err:
        problems.append(Problem(path, getattr(err, "line", 1), str(getattr(err, "message", err))))
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("regions"), list):
        problems.append(Problem(path, 1, "needs a 'regions:' list and an 'unknown:' entry"))
        return None
    regions: Dict[str, Region] = {}
    for entry in raw["regions"]:
        line = getattr(entry, "line", 1)
        code = str(entry.get("code", "")).upper() if isinstance(entry, dict) else ""
        if not _CODE.fullmatch(code):
            problems.append(
                Problem(
                    path,
                    line,
                    "a region needs an ISO 'code' such as GB (a country) or "
                    "IQ-KR (a part of one, with its 'parent: IQ')",
                )
            )
            continue
        if code in regions:
            problems.append(Problem(path, line, f"region {code} is listed twice; keep one"))
        where = f"region {code}"
        parent = str(entry.get("parent") or "").upper() or None
        if "-" in code and parent != code.split("-")[0]:
            problems.append(
                Problem(path, line, f"{where} is part of a country: add 'parent: {code.split('-')[0]}'")
            )
        regions[code] = Region(
            code=code,
            name=_texts(entry, "name", path, where, problems),
            calling_codes=tuple(str(c) for c in entry.get("calling_codes") or ()),
            places=tuple(str(p) for p in entry.get("places") or ()),
            emergency=_texts(entry, "emergency", path, where, problems),
            licensing=_texts(entry, "licensing", path, where, problems),
            source=str(entry.get("source") or ""),
            verify=bool(entry.get("verify", False)),
            numbers=_numbers(entry, path, where, problems),
            parent=parent,
            locales=tuple(str(loc) for loc in entry.get("locales") or ()),
        )
        if not regions[code].source:
            problems.append(Problem(path, line, f"{where}: add the 'source' of these facts"))
        if regions[code].numbers:
            _check_numbers_in_texts(regions[code], path, line, problems)
    for region in regions.values():
        if region.parent and region.parent not in regions:
            problems.append(
                Problem(path, 1, f"region {region.code}: its parent {region.parent} is not a region")
            )
    unknown_raw = raw.get("unknown")
    if not isinstance(unknown_raw, dict):
        problems.append(Problem(path, 1, "add an 'unknown:' entry for people whose region is not known"))
        return None
    unknown = Region(
        code="",
        name={lang: "" for lang in LANGUAGES},
        calling_codes=(),
        places=(),
        emergency=_texts(unknown_raw, "emergency", path, "unknown region", problems),
        licensing=_texts(unknown_raw, "licensing", path, "unknown region", problems),
    )
    return RegionTable(regions=regions, unknown=unknown)
