"""The rule half of the safety decision: red-flag concepts and the shape of a report.

Two lexicons, both content (data/safety/):
- `triggers.yml`: phrase lists grown from real messages (always-urgent phrases, symptoms that
  are urgent with a report marker, personal decisions, past and general markers, negations
  and harmless set phrases);
- `concepts.yml`: vocabularies by red-flag concept (alarm signs, states, body functions,
  treatment events, time cues, general-question shapes, personal-decision concepts).

What generalises is the shape, not the phrase (../shared/spec/red-flags.md): a message that
REPORTS a treatment that happened, to the writer or someone they describe, and how things are
now, is never an information question. So the guard answers urgent for
1. an always-urgent phrase (can't breathe, fainted, pus...),
2. an alarm sign of a red-flag concept, unless the message only asks about it in general,
3. a symptom with a report marker (the triggers.yml rule), unless past or general,
4. any state, body-function loss or whole-body symptom in a report of a treatment that
   happened (or of someone, now), unless the person says all is well;
and personal for a personal-decision phrase or concept word, unless it is curiosity about why
clinics ask. Negation ("no swelling, no fever", "ما في ورم ولا حرارة", "koi sojan nahi") is
scoped: it reaches along a list of signs but not across a "but" or a full stop, and hedges
("not sure", "not going down") are not negations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

from bot import PROJECT_ROOT
from bot.core._yaml import read_yaml
from bot.core.normalize import normalise_for_matching
from bot.core.safety._matching import COMMA, STOP, Hit, blank, compile_terms, find, flatten, prepare, word_set

SAFETY_DIR = PROJECT_ROOT / "data" / "safety"
TRIGGERS_FILE = SAFETY_DIR / "triggers.yml"
# One file per written form (en.yml also holds the Spanish and Portuguese terms).
CONCEPTS_DIR = SAFETY_DIR / "concepts"
LISTS = ("urgent_always", "urgent_symptoms", "report_markers", "personal")
NEGATION_WINDOW = 3  # counted words between a negation and what it negates
# Words that end a negation's reach ("not swollen but hot").
_CLAUSE_BREAKS = {
    "but", "however", "although", "though", "except",  # English
    "bas", "magar", "lekin", "laikin",  # Roman Urdu
    "لكن", "بس", "بل",  # Arabic
    "لیکن", "ليكن", "مگر", "پر",  # Urdu
    STOP,
}  # fmt: skip
# "or not" asks; it does not negate ("karwana chahiye ya nahi").
_OR_WORDS = {"ya", "یا", "يا", "or"}
# After an Urdu negation, these make it "there is no X"; a verb instead ("nahi ja rahi",
# "swelling isn't going down") makes it a report.
_PROGRESSIVE = {"raha", "rahi", "rahe", "rha", "rhi", "rhe", "رہا", "رہی", "رہے", "رها", "رهي", "رهے"}
# "Sujan kam nahi hui" (the swelling did not go down) is a report, not a denial.
_NOT_BETTER = {
    "kam", "km", "theek", "thik", "khatam", "band", "behtar",  # Roman Urdu
    "کم", "كم", "ٹھیک", "ٹهيك", "ختم", "بہتر", "بهتر",  # Urdu
    "improvement", "better", "change", "difference",  # English
    "تحسن", "تحسين", "فايده", "فرق", "نتيجه",  # Arabic
}  # fmt: skip
_EXISTENCE = {
    "hui", "hua", "huyi", "hoi", "ہوئی", "هويي", "ہوا", "هوا",  # happened
    "koi", "کوئی", "كوئي",  # any
    "پڑا", "پڑی", "پڑے", "پڑي", "pada", "padi", "para", "pari", "pare",  # (a rash) appeared
    "hai", "he", "hay", "h", "hain", "hen", "thi", "tha",  # is, was
    "ہے", "هے", "ہیں", "هيں", "تھی", "تها", "تھا",
    "aur", "or", "ya", "na", "اور", "یا", "نہ", "نه",  # and, or, nor
    COMMA,
    STOP,
}  # fmt: skip


def _folded(words) -> frozenset:
    """Word sets written by hand here, in the normal form messages are read in (ی ک ئ folded)."""
    return frozenset(w if w in (STOP, COMMA) else normalise_for_matching(w) for w in words)


_CLAUSE_BREAKS = _folded(_CLAUSE_BREAKS)
_OR_WORDS = _folded(_OR_WORDS)
_PROGRESSIVE = _folded(_PROGRESSIVE)
_NOT_BETTER = _folded(_NOT_BETTER)
_EXISTENCE = _folded(_EXISTENCE)


class SafetyClass(str, Enum):
    URGENT = "urgent"
    PERSONAL = "personal"


_RECENT_READINGS = 256  # messages whose reading is kept (a batch of questions fits)


@dataclass(frozen=True)
class GuardResult:
    safety_class: Optional[SafetyClass]
    matched: tuple = ()
    concepts: tuple = ()  # red-flag concepts recognised, e.g. "urgent:eyes_vision"
    rule: str = ""  # which rule decided, for audits
    mentions_health: bool = False  # treatment, body, sign or time cue: the safe "didn't understand"

    @property
    def fired(self) -> bool:
        return self.safety_class is not None


@dataclass(frozen=True)
class Reading:
    """What the lexicons found in one message, negated signs already left out."""

    has: Dict[str, bool]
    always: List[Hit]
    alarms: List[Hit]
    symptoms: List[Hit]
    signs: List[Hit]
    negated: int
    personal: List[Hit]

    @property
    def happening(self) -> bool:
        """It is happening to someone: a treatment they had, or a person and a time ("since").
        Not a session still to come ("will I be red after my appointment tomorrow?")."""
        if self.has["future_markers"]:
            # A session still to come; only a treatment already had AND a "now" make it a report.
            return self.has["treatment_event"] and self.has["time_cue"]
        return (
            self.has["treatment_event"]
            or self.has["confession"]
            or (self.has["person"] and self.has["time_cue"])
        )

    @property
    def past(self) -> bool:
        """Over and done ("my sister had a rash last year"), with nothing saying it still is."""
        return self.has["past_markers"] and not self.has["time_cue"]

    @property
    def general(self) -> bool:
        """Asked about the treatment in general, with nothing saying it is happening."""
        return (
            self.has["general_shape"] or self.has["general_markers"] or self.curious
        ) and not self.happening

    @property
    def curious(self) -> bool:
        """Curiosity said outright ("just curious"), not taken back ("...actually it's me")."""
        return self.has["curiosity"] and not self.has["confession"]

    @property
    def denial(self) -> bool:
        """Signs named only to deny them ("no swelling, no fever"): some negated, none left."""
        return self.negated > 0 and not (self.always or self.alarms or self.symptoms or self.signs)

    @property
    def mentions(self) -> bool:
        """About treatment, a sign or a time since treatment (the safe "didn't understand")."""
        return bool(
            self.always
            or self.alarms
            or self.symptoms
            or self.signs
            or self.has["treatment_event"]
            or self.has["treatment"]
            or self.has["time_cue"]
        )


def _is_flat(by_language) -> bool:
    """A `{language: [terms]}` mapping (not one keyed by concept)."""
    return isinstance(by_language, dict) and all(
        isinstance(v, list) or v is None for v in by_language.values()
    )


def _load(path: Path) -> dict:
    return read_yaml(path) or {}


def _merge(into: dict, more: dict) -> dict:
    """Merge concept files: lists of the same key and language are joined."""
    for key, value in (more or {}).items():
        if isinstance(value, dict):
            into[key] = _merge(dict(into.get(key) or {}), value)
        elif isinstance(value, list):
            into[key] = list(into.get(key) or []) + value
        else:
            into[key] = value
    return into


def load_concepts(directory: Path = CONCEPTS_DIR) -> dict:
    merged: dict = {}
    for path in sorted(directory.glob("*.yml")) if directory.exists() else []:
        merged = _merge(merged, _load(path))
    return merged


class SafetyGuard:
    """Classifies a message as urgent, personal or neither, from the two lexicons."""

    def __init__(self, triggers: Dict, concepts: Optional[Dict] = None):
        self._recent_readings: Dict[str, "Reading"] = {}  # see read()
        missing = [name for name in LISTS if name not in triggers]
        if missing:
            raise ValueError(f"{TRIGGERS_FILE.name}: missing list(s) {', '.join(missing)}")
        concepts = concepts or {}
        # triggers.yml's flat lists, plus the same lists from the concept files where they are
        # flat too (`personal` there is by concept: it is read into self._personal below).
        flat = lambda name: flatten(concepts.get(name)) if _is_flat(concepts.get(name)) else []  # noqa: E731
        lists = {
            name: flatten(triggers.get(name)) + flat(name)
            for name in (*LISTS, "ignore_phrases", "past_markers", "general_markers")
        }
        self._p = {name: compile_terms(terms) for name, terms in lists.items()}
        for name in (
            "states",
            "systemic",
            "function_loss",
            "treatment_event",
            "treatment",
            "person",
            "time_cue",
            "general_shape",
            "all_well",
            "personal_general",
            "future_markers",
            "curiosity",
            "confession",
        ):
            self._p[name] = compile_terms(flatten(concepts.get(name)))
        self._alarms = {c: compile_terms(flatten(v)) for c, v in (concepts.get("alarms") or {}).items()}
        self._personal = {c: compile_terms(flatten(v)) for c, v in (concepts.get("personal") or {}).items()}
        self._negation_before = word_set(triggers.get("negation_before")) | word_set(
            concepts.get("negation_before")
        )
        self._negation_after = word_set(triggers.get("negation_after")) | word_set(
            concepts.get("negation_after")
        )
        self._hedges = word_set(concepts.get("negation_hedges"))
        self._coordinators = word_set(concepts.get("coordinators")) | {COMMA}
        # Amounts ("2 ml") and ages ("my son is 16", "بہن 16 کی ہے"): regular expressions.
        self._amounts = [
            re.compile(p)
            for p in [*(triggers.get("personal_patterns") or []), *(concepts.get("personal_patterns") or [])]
        ]
        self._p = {name: matcher for name, matcher in self._p.items()}

    @classmethod
    def load(cls, triggers: Path = TRIGGERS_FILE, concepts: Path = CONCEPTS_DIR) -> "SafetyGuard":
        return cls(_load(triggers), load_concepts(concepts))

    # -- negation ---------------------------------------------------------------------------
    def _negated_before(self, words: List[str], start: int, covered: frozenset = frozenset()) -> bool:
        counted = 0
        for i in range(start - 1, -1, -1):
            word = words[i]
            # "No improvement in the swelling", "ما في تحسن والاحمرار يزيد": what is denied is
            # the getting better, not the sign.
            if word in _CLAUSE_BREAKS or word in _NOT_BETTER:
                return False
            if word in self._negation_before:
                nxt = words[i + 1] if i + 1 < len(words) else ""
                # "No, it still hurts": an answer, not a negation of what follows.
                return nxt not in self._hedges and nxt not in (COMMA, STOP)
            if word in self._coordinators or i in covered:
                continue  # "no swelling, redness or fever": the other signs of a list are free
            counted += 1
            if counted >= NEGATION_WINDOW:
                return False
        return False

    def _negated_after(
        self, words: List[str], end: int, denial_of_state: bool = True, covered: frozenset = frozenset()
    ) -> bool:
        counted = 0
        for i in range(end, len(words)):
            word = words[i]
            # A comma ends it too: in "pregnant hoon, test nahi kiya" the "nahi" is the test's.
            if word in _CLAUSE_BREAKS or word == COMMA or word in _NOT_BETTER:
                return False
            if word in self._negation_after:
                if i and words[i - 1] in _OR_WORDS:
                    return False
                nxt = words[i + 1] if i + 1 < len(words) else STOP
                # A sign: only "there is no X" negates ("sojan nahi ja rahi" is a report). A
                # personal fact: any verb does ("warfarin nahi leti", "pregnant nahi hoon").
                return nxt in _EXISTENCE or not denial_of_state and nxt not in _PROGRESSIVE
            if word in self._coordinators or i in covered:
                continue
            counted += 1
            if counted >= NEGATION_WINDOW:
                return False
        return False

    def _negations(self, words: List[str], hits: List[Hit], signs: bool = True) -> Dict[Hit, bool]:
        """Which signs are negated; a negation carries along a list ("no swelling, redness or fever")."""
        out: Dict[Hit, bool] = {}
        ordered = sorted(hits, key=lambda h: (h.start, -h.end))
        covered = frozenset(i for h in hits for i in range(h.start, h.end))
        for n, hit in enumerate(ordered):
            negated = self._negated_before(words, hit.start, covered) or self._negated_after(
                words, hit.end, signs, covered
            )
            if not negated and n:
                prev = ordered[n - 1]
                between = words[prev.end : hit.start]
                if (
                    out.get(prev)
                    and len([w for w in between if w not in self._coordinators]) <= 1
                    and not set(between) & _CLAUSE_BREAKS
                ):
                    negated = True
            out[hit] = negated
        # Urdu and Roman Urdu put the negation last ("sojan ya bukhar nahi"): carry it back.
        for n in range(len(ordered) - 2, -1, -1):
            hit, nxt = ordered[n], ordered[n + 1]
            between = words[hit.end : nxt.start]
            if (
                not out[hit]
                and out[nxt]
                and self._negated_after(words, nxt.end, signs, covered)
                and all(w in self._coordinators for w in between)
            ):
                out[hit] = True
        return out

    # -- reading a message ------------------------------------------------------------------
    def read(self, text: str) -> "Reading":
        """What the lexicons find in a message, negation applied; the decision is made from it.

        Each message is read twice (the rules' decision, then the shape classifier's
        features: bot/core/safety/classifier.py); the readings of the latest messages are kept."""
        reading = self._recent_readings.get(text)
        if reading is None:
            if len(self._recent_readings) >= _RECENT_READINGS:
                self._recent_readings.clear()
            reading = self._recent_readings[text] = self._read(text)
        return reading

    def _read(self, text: str) -> "Reading":
        norm = prepare(text)
        ignore = self._p["ignore_phrases"]
        denied = 0
        if ignore:
            # Ignore phrases are mostly negations ("no fever", "not pregnant") or harmless set
            # phrases ("hot shower"); what follows a negation stays negated.
            def replace(ws: List[str]) -> str:
                nonlocal denied
                if set(ws) & self._negation_before:
                    denied += 1
                    return "not"
                return "·"

            norm = blank(ignore, norm, replace)
        words = norm.split(" ") if norm else []
        has = {
            name: bool(find(self._p[name], norm, name))
            for name in (
                "report_markers",
                "past_markers",
                "general_markers",
                "treatment_event",
                "treatment",
                "person",
                "time_cue",
                "general_shape",
                "personal_general",
                "future_markers",
                "curiosity",
                "confession",
            )
        }
        # "It never went away" is not all well: an all-is-well phrase counts only un-negated.
        well = [
            h for h in find(self._p["all_well"], norm, "all_well") if not self._negated_before(words, h.start)
        ]
        always = find(self._p["urgent_always"], norm, "always")
        alarms = [h for c, p in self._alarms.items() for h in find(p, norm, "alarm", c)]
        symptoms = find(self._p["urgent_symptoms"], norm, "symptom")
        signs = [
            h for name in ("states", "systemic", "function_loss") for h in find(self._p[name], norm, name)
        ]
        negated = self._negations(words, always + alarms + symptoms + signs)
        live = lambda hits: [h for h in hits if not negated[h]]  # noqa: E731
        always, alarms, symptoms, signs = live(always), live(alarms), live(symptoms), live(signs)
        # "All fine yesterday, but today my forehead feels strange": a sign after a "but" or a
        # full stop that follows the all-is-well phrase undoes it.
        later = [h.start for h in symptoms + signs]
        has["all_well"] = any(
            not any(start > w.end and set(words[w.end : start]) & _CLAUSE_BREAKS for start in later)
            for w in well
        )
        return Reading(
            has=has,
            always=always,
            alarms=alarms,
            symptoms=symptoms,
            signs=signs,
            negated=sum(negated.values()) + denied,
            personal=self._personal_hits(norm, words),
        )

    def marked(self, text: str) -> str:
        """The normalised text with what the rules know that n-grams cannot see: each negated
        sign prefixed "neg_" ("no swelling" -> "no neg_swelling"), and the message's shape as
        leading tokens (a general question, curiosity, a session still to come). For the
        trained classifier: it learns from these, without being handed the rules' verdict."""
        norm = prepare(text)
        words = norm.split(" ") if norm else []
        always = find(self._p["urgent_always"], norm, "always")
        alarms = [h for c, p in self._alarms.items() for h in find(p, norm, "alarm", c)]
        symptoms = find(self._p["urgent_symptoms"], norm, "symptom")
        signs = [
            h for name in ("states", "systemic", "function_loss") for h in find(self._p[name], norm, name)
        ]
        negated = self._negations(words, always + alarms + symptoms + signs)
        out = list(words)
        for hit, is_negated in negated.items():
            if is_negated:
                for i in range(hit.start, hit.end):
                    if not out[i].startswith("neg_"):
                        out[i] = "neg_" + out[i]
        flags = [
            name
            for name in (
                "general_shape",
                "general_markers",
                "curiosity",
                "future_markers",
                "confession",
                "treatment_event",
                "past_markers",
            )
            if find(self._p[name], norm, name)
        ]
        return " ".join(
            [f"zz{f.replace('_', '')}" for f in flags] + [w for w in out if w not in (STOP, COMMA)]
        )

    def features(self, text: str) -> List[float]:
        """The reading as numbers, for the trained classifier (bot/core/safety/classifier.py)."""
        r = self.read(text)
        verdict = self.decide(r).safety_class
        return [float(r.has[k]) for k in sorted(r.has)] + [
            float(r.happening),
            float(r.general),
            min(len(r.always), 3) / 3,
            min(len(r.alarms), 3) / 3,
            min(len(r.symptoms), 3) / 3,
            min(len(r.signs), 3) / 3,
            min(r.negated, 3) / 3,
            min(len(r.personal), 3) / 3,
            float(verdict is SafetyClass.URGENT),
            float(verdict is SafetyClass.PERSONAL),
        ]

    # -- the decision -----------------------------------------------------------------------
    def check(self, text: str) -> GuardResult:
        return self.decide(self.read(text))

    def decide(self, r: "Reading") -> GuardResult:
        has, general, happening = r.has, r.general, r.happening
        always, alarms, symptoms, signs = r.always, r.alarms, r.symptoms, r.signs

        def urgent(hits: List[Hit], rule: str) -> GuardResult:
            concepts = tuple(sorted({f"urgent:{h.concept}" for h in hits if h.concept}))
            return GuardResult(SafetyClass.URGENT, tuple(h.text for h in hits), concepts, rule, True)

        past = r.past
        if always and not general and not past:
            return urgent(always, "always-urgent phrase")
        if alarms and not general and not past:
            return urgent(alarms, "alarm sign")
        if symptoms and has["report_markers"] and not past and not general:
            return urgent(symptoms, "symptom reported")
        if (symptoms or signs) and happening and not has["all_well"] and not past:
            return urgent(symptoms + signs, "report of a treatment and how things are")
        if r.personal and not r.curious:
            concepts = tuple(sorted({f"personal:{h.concept}" for h in r.personal if h.concept}))
            return GuardResult(
                SafetyClass.PERSONAL,
                tuple(h.text for h in r.personal),
                concepts,
                "personal decision",
                r.mentions,
            )
        return GuardResult(None, mentions_health=r.mentions)

    @staticmethod
    def _clause(words: List[str], index: int) -> int:
        return sum(1 for w in words[:index] if w == STOP)

    def _personal_hits(self, norm: str, words: List[str]) -> List[Hit]:
        phrases = find(self._p["personal"], norm, "personal")
        phrases += [Hit(m.group(0), 0, 0, "amount") for p in self._amounts for m in p.finditer(norm)]
        concepts = [h for c, p in self._personal.items() for h in find(p, norm, "personal", c)]
        negated = self._negations(words, phrases + concepts, signs=False)
        phrases = [h for h in phrases if not negated.get(h)]
        concepts = [h for h in concepts if not negated.get(h)]
        # "Why do clinics ask if you're pregnant?" is curiosity: the personal words in the same
        # clause as such a question are not a decision. A general question ("can it cause an
        # allergy?") drops the concept words unless it names a person.
        curious = find(self._p["personal_general"], norm, "")
        if curious:
            clauses = {self._clause(words, h.start) for h in curious}
            phrases = [
                h for h in phrases if h.kind == "amount" or self._clause(words, h.start) not in clauses
            ]
            concepts = [h for h in concepts if self._clause(words, h.start) not in clauses]
        if find(self._p["general_shape"], norm, "") or find(self._p["general_markers"], norm, ""):
            people = {self._clause(words, h.start) for h in find(self._p["person"], norm, "")}
            if not people:
                # "Who should avoid it, pregnant women?": a group, not this person.
                phrases = [h for h in phrases if h.kind == "amount"]
            # "Can it cause an allergy? Asking before I book": the concept word must share a
            # clause with the person it is about.
            concepts = [h for h in concepts if self._clause(words, h.start) in people]
        return phrases + concepts


@lru_cache(maxsize=1)
def default_guard() -> SafetyGuard:
    return SafetyGuard.load()
