"""The curated answer store: every text the bot can send, in English, Arabic and Urdu.

Content staff edit the YAML under `data/answers/`; this module loads it and refuses
it when it is incomplete, so the bot never answers with a missing or broken text.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from bot import LANGUAGES, PROJECT_ROOT
from bot.core._yaml import YamlFileError, load_yaml_with_lines
from bot.core.problems import InvalidContent, Problem
from bot.core.regions import RegionTable, load_regions
from bot.core.whatsapp_limits import REPLY_BUTTON_TITLE, units

ANSWERS_DIR = PROJECT_ROOT / "data" / "answers"
IDS_FILE = "ids.yml"
REGIONS_FILE = "regions.yml"

KINDS = ("answer", "safety", "urgent", "chitchat", "fallback", "handoff", "system")
# Review states, weakest first. `pending`: nobody has checked it yet. `content-checked`:
# content staff checked it against the reference article (not a clinical sign-off).
# `approved`: a named clinician signed it off, with their role and registration.
PENDING, CONTENT_CHECKED, APPROVED = "pending", "content-checked", "approved"
REVIEW_STATUSES = (PENDING, CONTENT_CHECKED, APPROVED)
REVIEW_FIELDS = ("status", "reviewer", "role", "registration", "date")
# Kinds whose text is clinical advice even without the clinician line (`medical: false`
# only keeps that line off the urgent reply and the redirect): they need a clinician too.
CLINICAL_KINDS = ("safety", "urgent")
SOURCES = ("article", "general guidance")
# Placeholders the bot fills in, and where their values come from.
PLACEHOLDERS = {
    "emergency": "the region's emergency instruction",
    "licensing": "the region's licensing body",
    "place": "the name of the person's region (or of the country of their location pin)",
    "contact": "the clinic branch serving the region (data/clinic.yml): name, phone, WhatsApp, "
    "e-mail and booking link, one per line, and whether staff are there now",
}
TITLE_MAX = REPLY_BUTTON_TITLE  # the strictest place a title is shown: a WhatsApp reply button
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A professional register and number: "GMC 1234567", "SCFHS 12-R-M-3456", "PMDC 12345-P".
_REGISTRATION = re.compile(r"(?=.*[A-Za-z\u0600-\u06ff])(?=.*\d).{4,}")


@dataclass(frozen=True)
class Review:
    """An entry's `review:` block: who vouches for the text, and how far.

    The one definition of the schema: the loader, `make validate`, `make review`'s
    sign-off list and the sign-off writer (bot/tools/content/signoff.py) all use it.
    """

    status: str
    reviewer: str = ""
    role: str = ""  # e.g. "aesthetic physician"
    registration: str = ""  # e.g. "GMC 1234567"
    date: str = ""  # YYYY-MM-DD: the entry's revision, shown to audits as `version`

    @classmethod
    def from_raw(cls, raw: object) -> "Review":
        raw = raw if isinstance(raw, dict) else {}
        return cls(**{f: str(raw.get(f) or "").strip() for f in REVIEW_FIELDS})

    def problems(self) -> List[str]:
        """What is wrong with this block, each message ending with the fix."""
        out = []
        if self.status not in REVIEW_STATUSES:
            out.append(f"review status is {self.status or None!r}; use {', '.join(REVIEW_STATUSES)}")
        if not _DATE.fullmatch(self.date):
            out.append(f"review date is {self.date or None!r}; write it as YYYY-MM-DD")
        if self.status in (CONTENT_CHECKED, APPROVED) and not self.reviewer:
            out.append(f"{'an' if self.status == APPROVED else 'a'} {self.status} entry names its reviewer")
        if self.status == APPROVED:
            if not self.role:
                out.append("an approved entry names the reviewer's clinical role (role: aesthetic physician)")
            if not _REGISTRATION.fullmatch(self.registration):
                out.append(
                    f"an approved entry gives the reviewer's professional registration "
                    f"(registration: GMC 1234567), not {self.registration or None!r}"
                )
        return out

    def as_mapping(self) -> Dict[str, str]:
        """The block as written in the YAML (empty clinician fields left out below approved)."""
        out = {"status": self.status, "reviewer": self.reviewer}
        if self.status == APPROVED or self.role or self.registration:
            out.update(role=self.role, registration=self.registration)
        out["date"] = self.date
        return out


@dataclass(frozen=True)
class Answer:
    id: str
    kind: str
    intents: Tuple[str, ...]
    medical: bool
    source: str
    review: Review
    related: Tuple[str, ...]
    title: Mapping[str, str]
    text: Mapping[str, str]
    path: Path
    line: int

    @property
    def version(self) -> str:
        """The entry's revision, shown to audits: its review date."""
        return self.review.date

    @property
    def review_status(self) -> str:
        return self.review.status

    @property
    def reviewer(self) -> str:
        return self.review.reviewer

    @property
    def review_date(self) -> str:
        return self.review.date

    @property
    def needs_clinician(self) -> bool:
        """Medical or safety content: only a clinician's sign-off clears it for production."""
        return self.medical or self.kind in CLINICAL_KINDS

    @property
    def awaiting_sign_off(self) -> bool:
        """A clinician still has to sign this entry (what `make review` lists)."""
        return self.needs_clinician and self.review.status != APPROVED

    @property
    def pending_review(self) -> bool:
        """Production (`BOT_STRICT`) refuses it: medical and not approved by a clinician, or
        not medical and not even content-checked."""
        if self.needs_clinician:
            return self.review.status != APPROVED
        return self.review.status not in (CONTENT_CHECKED, APPROVED)

    def refusal(self) -> str:
        """Why production refuses this entry, and what clears it."""
        if self.needs_clinician:
            return (
                f"entry '{self.id}' is medical and its review status is {self.review.status}: production "
                "refuses it until a clinician approves it (status: approved, with reviewer, role, "
                "registration and date; make review lists what to sign)"
            )
        return (
            f"entry '{self.id}' is still pending review: production refuses it until content staff "
            "check it (status: content-checked, reviewer and date) or a clinician approves it"
        )


def _placeholders(text: str) -> set:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unbalanced braces>"}


class _EntryReader:
    """Turns one raw YAML entry into an `Answer`, collecting problems."""

    def __init__(self, path: Path, raw: dict, problems: List[Problem]):
        self.path, self.raw, self.problems = path, raw, problems
        self.id = str(raw.get("id") or "")
        self.line = getattr(raw, "line", 1)

    def _line(self, key: str) -> int:
        return getattr(self.raw, "key_lines", {}).get(key, self.line)

    def error(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.path, self._line(key), f"entry '{self.id}': {message}"))

    def choice(self, key: str, allowed: Iterable[str], default: Optional[str] = None) -> str:
        value = self.raw.get(key, default)
        if value not in allowed:
            self.error(key, f"'{key}' is {value!r}; use one of: {', '.join(allowed)}")
        return str(value)

    def id_list(self, key: str) -> Tuple[str, ...]:
        value = self.raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, f"'{key}' must be a list such as [procedure.pain, procedure.downtime]")
            return ()
        return tuple(value)

    def texts(self, key: str) -> Dict[str, str]:
        value = self.raw.get(key)
        if not isinstance(value, dict):
            self.error(key, f"'{key}' needs en, ar and ur texts")
            return {lang: "" for lang in LANGUAGES}
        for extra in set(value) - set(LANGUAGES):
            self.error(key, f"'{key}' has a text in '{extra}'; only en, ar and ur are served")
        out = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.error(key, f"'{key}' has no {lang} text; write the {lang} text")
            out[lang] = str(text or "").strip()
        return out

    def read(self) -> Answer:
        raw_review = self.raw.get("review")
        if not isinstance(raw_review, dict) or not raw_review:
            self.error("review", "add 'review:' with status, reviewer and date")
        review = Review.from_raw(raw_review)
        for message in review.problems() if isinstance(raw_review, dict) and raw_review else ():
            self.error("review", message)
        medical = self.raw.get("medical", False)
        if not isinstance(medical, bool):
            self.error("medical", "'medical' is true or false")
        answer = Answer(
            id=self.id,
            kind=self.choice("kind", KINDS),
            intents=self.id_list("intents"),
            medical=bool(medical),
            source=self.choice("source", SOURCES),
            review=review,
            related=self.id_list("related"),
            title=self.texts("title"),
            text=self.texts("text"),
            path=self.path,
            line=self.line,
        )
        self._check_texts(answer)
        return answer

    def _check_texts(self, answer: Answer) -> None:
        for lang, title in answer.title.items():
            if units(title) > TITLE_MAX:
                self.error(
                    "title",
                    f"the {lang} title counts {units(title)} characters on WhatsApp (an emoji counts two); "
                    f"a button allows {TITLE_MAX}: shorten it",
                )
        found = {lang: _placeholders(text) for lang, text in answer.text.items()}
        for lang, names in found.items():
            for name in names - set(PLACEHOLDERS):
                self.error(
                    "text",
                    f"the {lang} text has an unknown placeholder {{{name}}}; "
                    f"known: {', '.join('{%s}' % p for p in PLACEHOLDERS)}",
                )
        if len({frozenset(n) for n in found.values()}) > 1:
            shown = "; ".join(f"{lang}: {sorted(n) or 'none'}" for lang, n in found.items())
            self.error("text", f"placeholders differ between languages ({shown}); use the same in all three")


class AnswerStore:
    """The validated answers, by id and by intent, with the regions table."""

    def __init__(self, answers: Mapping[str, Answer], regions: RegionTable, descriptions: Mapping[str, str]):
        self.answers = dict(answers)
        self.regions = regions
        self.descriptions = dict(descriptions)
        self._by_intent = {intent: a for a in self.answers.values() for intent in a.intents}

    @classmethod
    def load(cls, folder: Path = ANSWERS_DIR, strict: bool = False) -> "AnswerStore":
        """Load and check the store; raises `InvalidContent` listing every error.

        `strict` (production) also refuses every medical entry a clinician has not approved
        and every other entry not at least content-checked (`Answer.pending_review`).
        """
        problems: List[Problem] = []
        store = cls._read(Path(folder), problems)
        if strict:
            problems += [Problem(a.path, a.line, a.refusal()) for a in (store.pending() if store else [])]
        errors = [p for p in problems if p.severity == "error"]
        if errors or store is None:
            raise InvalidContent(errors or [Problem(Path(folder), 1, "the answer store could not be read")])
        return store

    @classmethod
    def _read(cls, folder: Path, problems: List[Problem]) -> Optional["AnswerStore"]:
        descriptions = _read_ids(folder / IDS_FILE, problems)
        regions = load_regions(folder / REGIONS_FILE, problems)
        answers: Dict[str, Answer] = {}
        for path, raw_entry in answer_entries(folder, problems):
            answer = _EntryReader(path, raw_entry, problems).read()
            if answer.id in answers:
                first = answers[answer.id]
                problems.append(
                    Problem(
                        path,
                        answer.line,
                        f"entry '{answer.id}' is also in " f"{first.path.name}:{first.line}; keep one",
                    )
                )
                continue
            answers[answer.id] = answer
        _check_references(answers, descriptions, folder, problems)
        if regions is None:
            return None
        return cls(answers, regions, descriptions)

    def get(self, answer_id: str) -> Answer:
        return self.answers[answer_id]

    def for_intent(self, intent: Optional[str]) -> Optional[Answer]:
        return self._by_intent.get(intent or "")

    @property
    def intents(self) -> frozenset:
        return frozenset(self._by_intent)

    def pending(self) -> List[Answer]:
        """The entries production refuses (see `Answer.pending_review`)."""
        return [a for a in self.answers.values() if a.pending_review]

    def awaiting_sign_off(self) -> List[Answer]:
        """Medical and safety entries no clinician has approved yet, by file and line."""
        return sorted(
            (a for a in self.answers.values() if a.awaiting_sign_off), key=lambda a: (a.path.name, a.line)
        )


def _read_ids(path: Path, problems: List[Problem]) -> Dict[str, str]:
    try:
        raw, _ = load_yaml_with_lines(path)
    except (YamlFileError, OSError) as err:
        problems.append(Problem(path, getattr(err, "line", 1), str(getattr(err, "message", err))))
        return {}
    ids = raw.get("ids") if isinstance(raw, dict) else None
    if not isinstance(ids, dict):
        problems.append(Problem(path, 1, "needs an 'ids:' mapping of answer id to what it covers"))
        return {}
    return {str(k): str(v) for k, v in ids.items()}


def answer_entries(
    folder: Path = ANSWERS_DIR,
    problems: Optional[List[Problem]] = None,
    load: Callable[[Path], Tuple[object, str]] = load_yaml_with_lines,
) -> Iterator[Tuple[Path, dict]]:
    """(file, entry as written) for every entry of the answer files, in file order.

    The one reader of `data/answers/*.yml`: the store builds its answers from it, and the
    content rules and the translators' export read the same entries. What cannot be read
    (a YAML error, no `entries:` list, an entry without `id:`) goes to `problems` when
    given; `load` lets the tools share their cache of parsed files."""
    report = problems.append if problems is not None else (lambda problem: None)
    for path in sorted(Path(folder).glob("*.yml")):
        if path.name in (IDS_FILE, REGIONS_FILE):
            continue
        try:
            raw, _ = load(path)
        except YamlFileError as err:
            report(Problem(path, err.line, err.message))
            continue
        except OSError as err:
            report(Problem(path, 1, f"cannot read the file ({err.strerror or err})"))
            continue
        entries = raw.get("entries") if isinstance(raw, dict) else None
        if not isinstance(entries, list):
            report(Problem(path, 1, "an answers file holds an 'entries:' list"))
            continue
        for raw_entry in entries:
            if not isinstance(raw_entry, dict) or not raw_entry.get("id"):
                report(Problem(path, getattr(raw_entry, "line", 1), "an entry needs an 'id:'"))
                continue
            yield path, raw_entry


def _check_references(
    answers: Dict[str, Answer], descriptions: Dict[str, str], folder: Path, problems: List[Problem]
) -> None:
    intent_owner: Dict[str, str] = {}
    for answer in answers.values():
        if descriptions and answer.id not in descriptions:
            problems.append(
                Problem(
                    answer.path,
                    answer.line,
                    f"entry '{answer.id}' is not a known answer id; "
                    f"fix the spelling or add it to {IDS_FILE}",
                )
            )
        for rel in answer.related:
            if rel not in answers:
                problems.append(
                    Problem(
                        answer.path,
                        answer.line,
                        f"entry '{answer.id}': related id '{rel}' " "has no entry; fix the id or remove it",
                    )
                )
            elif rel == answer.id:
                problems.append(
                    Problem(answer.path, answer.line, f"entry '{answer.id}' is related to itself")
                )
        for intent in answer.intents:
            if intent in intent_owner:
                problems.append(
                    Problem(
                        answer.path,
                        answer.line,
                        f"intent '{intent}' is answered by both "
                        f"'{intent_owner[intent]}' and '{answer.id}'; keep one",
                    )
                )
            intent_owner[intent] = answer.id
    for answer_id in descriptions:
        if answer_id not in answers:
            problems.append(
                Problem(
                    folder / IDS_FILE,
                    1,
                    f"answer id '{answer_id}' has no entry; " "write one in data/answers/",
                )
            )
