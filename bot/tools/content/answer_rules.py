"""Rules on the answer store beyond what the loader refuses.

The loader (bot/core/answer_store.py) refuses what would break a reply: a missing text, an
unknown placeholder, a broken related id. These rules catch what a content edit can
still get wrong: a message WhatsApp would refuse or split, a link present in one
language only, a text left untranslated, an English text edited after its
translation, a misspelt key the bot silently ignores, an odd review date.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

from bot import LANGUAGE_NAMES, LANGUAGES
from bot.core.answer_store import PLACEHOLDERS, REVIEW_FIELDS, AnswerStore, answer_entries
from bot.core.i18n import CLINICIAN_REMINDER
from bot.core.problems import Problem
from bot.core.whatsapp_limits import (
    BUTTON_BODY_LIMIT,
    MAX_LIST_ROWS,
    MAX_REPLY_BUTTONS,
    TEXT_LIMIT,
)
from bot.core.whatsapp_limits import units as _units
from bot.tools.content import tracking
from bot.tools.content._fastyaml import load as load_yaml_with_lines
from bot.tools.content.catalog_rules import interface_strings
from bot.tools.content.paths import ContentPaths

# WhatsApp's limits (bot/core/whatsapp_limits.py). More related topics than MAX_REPLY_BUTTONS are
# shown as a list; more than MAX_LIST_ROWS become a numbered menu.

ENTRY_KEYS = {
    "id",
    "kind",
    "intents",
    "medical",
    "source",
    "review",
    "related",
    "title",
    "text",
    tracking.KEY,
}
REVIEW_KEYS = set(REVIEW_FIELDS)

_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\"'«»]+[^\s<>()\"'«».,;:!?،؛۔]", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s-]{5,}\d")
_ARABIC_LETTER = re.compile("[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def raw_entries(folder: Path) -> Iterator[Tuple[Path, dict]]:
    """(file, raw entry) for every readable entry of the answer files, with line numbers:
    the answer store's own reader, over this package's cache of parsed files (what cannot
    be read, the store's loader reports)."""
    return answer_entries(folder, load=load_yaml_with_lines)


def _line(mapping, key: str, *inner: str) -> int:
    """The line of `mapping[key][inner...]`, or of the closest enclosing key."""
    line = getattr(mapping, "key_lines", {}).get(key, getattr(mapping, "line", 1))
    value = mapping.get(key) if isinstance(mapping, dict) else None
    for k in inner:
        if not isinstance(value, dict):
            break
        line = getattr(value, "key_lines", {}).get(k, line)
        value = value.get(k)
    return line


class _EntryRules:
    def __init__(
        self,
        path: Path,
        raw: dict,
        store: Optional[AnswerStore],
        reminder: Dict[str, str],
        strict: bool,
        problems: List[Problem],
        contact: Optional[Dict[str, str]] = None,
    ):
        self.path, self.raw, self.store, self.reminder = path, raw, store, reminder
        self.contact = contact or {}  # the longest {contact} a branch gives, per language
        self.strict, self.problems = strict, problems
        self.id = str(raw.get("id"))

    def add(self, line: int, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.path, line, f"entry '{self.id}': {message}", severity))

    def texts(self, key: str) -> Dict[str, str]:
        value = self.raw.get(key)
        if not isinstance(value, dict):
            return {}
        return {lang: str(value.get(lang) or "").strip() for lang in LANGUAGES}

    def run(self) -> None:
        self.keys()
        self.review_date()
        self.untranslated()
        self.links()
        self.translation_record()
        if self.store is not None and self.id in self.store.answers:
            self.whatsapp()

    def keys(self) -> None:
        for key in self.raw:
            if key not in ENTRY_KEYS:
                self.add(
                    _line(self.raw, key),
                    f"the bot does not read '{key}:'; check the spelling "
                    f"(an entry has: {', '.join(sorted(ENTRY_KEYS - {tracking.KEY}))})",
                    "warning",
                )
        review = self.raw.get("review")
        for key in review if isinstance(review, dict) else ():
            if key not in REVIEW_KEYS:
                self.add(
                    _line(self.raw, "review", key),
                    f"the bot does not read 'review: {key}:'; " f"use {', '.join(REVIEW_FIELDS)}",
                    "warning",
                )

    def review_date(self) -> None:
        review = self.raw.get("review")
        date = str(review.get("date") or "") if isinstance(review, dict) else ""
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            return  # the loader reports the format
        line = _line(self.raw, "review", "date")
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            self.add(
                line, f"review date {date} is not a real date; " "write the day of the review as YYYY-MM-DD"
            )
            return
        if day > dt.date.today():
            self.add(
                line, f"review date {date} is in the future; write the day the text was reviewed", "warning"
            )

    def untranslated(self) -> None:
        for key in ("title", "text"):
            texts = self.texts(key)
            for lang in ("ar", "ur"):
                text = texts.get(lang, "")
                if not text:
                    continue  # the loader reports it
                if text == texts.get("en"):
                    self.add(
                        _line(self.raw, key, lang),
                        f"the {lang} {key} is the English {key}; " f"write it in {LANGUAGE_NAMES[lang]}",
                    )
                elif not _ARABIC_LETTER.search(text):
                    self.add(
                        _line(self.raw, key, lang),
                        f"the {lang} {key} has no Arabic-script letters; "
                        f"write it in {LANGUAGE_NAMES[lang]} (it looks untranslated)",
                    )

    def links(self) -> None:
        texts = self.texts("text")
        if not texts:
            return
        found = {lang: self._links(text) for lang, text in texts.items()}
        if len({frozenset(v) for v in found.values()}) > 1:
            shown = "; ".join(f"{lang}: {', '.join(sorted(v)) or 'none'}" for lang, v in found.items())
            self.add(
                _line(self.raw, "text"),
                f"links, e-mail addresses or phone numbers differ between "
                f"languages ({shown}); give every language the same ones",
            )

    @staticmethod
    def _links(text: str) -> set:
        out = {m.group(0).lower() for m in _URL.finditer(text)}
        out |= {m.group(0).lower() for m in _EMAIL.finditer(text)}
        numbers = _PHONE.findall(text.translate(_DIGITS))
        out |= {re.sub(r"[\s-]", "", n) for n in numbers}
        return out

    def translation_record(self) -> None:
        english = {key: self.texts(key).get("en", "") for key in tracking.FIELDS}
        if not all(english.values()):
            return
        record = tracking.read_record(self.raw)
        if tracking.KEY in self.raw and not record:
            self.add(
                _line(self.raw, tracking.KEY),
                f"'{tracking.KEY}' is written by make "
                "translations-import; delete it and import the translations again",
                "warning",
            )
        missing, stale = [], {}
        for lang in tracking.TRANSLATED:
            changed, recorded = tracking.stale_fields(record, english, lang)
            if not recorded:
                missing.append(lang)
            elif changed:
                stale.setdefault(tuple(changed), []).append(lang)
        for changed, langs in stale.items():
            what = " and ".join(f"the English {f}" for f in changed)
            plural = "translations were" if len(langs) > 1 else "translation was"
            self.add(
                _line(self.raw, changed[-1], "en"),
                f"translation out of date: {what} changed after the {' and '.join(langs)} "
                f"{plural} made; "
                "send it to the translators (make translations-export) and import their file "
                "(make translations-import)",
                "error" if self.strict else "warning",
            )
        if missing:
            self.add(
                _line(self.raw, "text"),
                f"the {' and '.join(missing)} texts have no translation "
                "record, so a later change to the English cannot be caught; pass them through "
                "make translations-export and make translations-import",
                "warning",
            )

    def whatsapp(self) -> None:
        answer = self.store.get(self.id)
        related = [self.store.answers[r] for r in answer.related if r in self.store.answers]
        if len(related) > MAX_LIST_ROWS:
            self.add(
                _line(self.raw, "related"),
                f"{len(related)} related topics; WhatsApp lists at most "
                f"{MAX_LIST_ROWS}, so they become a numbered menu; keep {MAX_LIST_ROWS} or fewer",
                "warning",
            )
        regions = [*self.store.regions.regions.values(), self.store.regions.unknown]
        for lang in LANGUAGES:
            # a title's length is the answer store's own check (bot/core/answer_store.py)
            longest = max((self._composed(answer, lang, region) for region in regions), key=_units)
            line = _line(self.raw, "text", lang)
            if _units(longest) > TEXT_LIMIT:
                self.add(
                    line,
                    f"the {lang} reply is {_units(longest)} characters with the clinician "
                    f"reminder and the longest region text; WhatsApp refuses more than {TEXT_LIMIT}: "
                    "shorten it",
                )
            elif related and len(related) <= MAX_REPLY_BUTTONS and _units(longest) > BUTTON_BODY_LIMIT:
                self.add(
                    line,
                    f"the {lang} reply is {_units(longest)} characters; above buttons WhatsApp "
                    f"shows at most {BUTTON_BODY_LIMIT}, so it is sent in two messages; shorten it "
                    "to keep one",
                    "warning",
                )
            titles = [r.title[lang] for r in related]
            for title in sorted({t for t in titles if titles.count(t) > 1}):
                self.add(
                    _line(self.raw, "related"),
                    f"two related topics have the same {lang} title "
                    f"{title!r}; WhatsApp needs different button titles: change one of those titles",
                    "warning",
                )

    def _composed(self, answer, lang: str, region) -> str:
        values = {
            "emergency": region.emergency.get(lang, ""),
            "licensing": region.licensing.get(lang, ""),
            "place": region.name.get(lang, ""),
            "contact": self.contact.get(lang, ""),
        }
        text = answer.text[lang]
        for name in PLACEHOLDERS:
            text = text.replace("{%s}" % name, values[name])
        if answer.medical:
            text += "\n\n" + self.reminder.get(lang, CLINICIAN_REMINDER)
        return text


def check_answers(paths: ContentPaths, store: Optional[AnswerStore], strict: bool = False) -> List[Problem]:
    """Problems of the answer entries in `paths.answers` (`store` is None when it did not load)."""
    problems: List[Problem] = []
    reminder = {
        lang: strings.get(CLINICIAN_REMINDER, CLINICIAN_REMINDER)
        for lang, strings in interface_strings(paths).items()
    }
    contact = _longest_contact(paths)
    for path, raw in raw_entries(paths.answers):
        _EntryRules(path, raw, store, reminder, strict, problems, contact).run()
    return problems


def _longest_contact(paths: ContentPaths) -> Dict[str, str]:
    """What `{contact}` can become at its longest, per language (the clinic file's own problems
    are reported by its check; an unreadable file counts as empty here)."""
    from bot.core.clinic import read_clinics
    from bot.core.clinic_contact import longest_contact_text

    directory = read_clinics(paths.root / "data" / "clinic.yml", [])
    if directory is None:
        return {}
    return {lang: longest_contact_text(lang, directory) for lang in LANGUAGES}
