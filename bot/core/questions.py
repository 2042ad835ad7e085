"""Several questions in one message: where they are, and which of them to answer.

People ask two things at once ("how many sessions and how much?", "بيوجع؟ وبيقعد قد ايه",
"kitne din red rehta hai aur kitne sessions"), or open with a greeting ("salam, does it
hurt?"). The NLU model gives one intent per message, so one of the questions would go
unanswered, or the greeting would win.

`question_parts` cuts a message into its questions with word lists per language
(`question_cues.yml`); the NLU pipeline parses each part with the same model
(bot/rasa_server/nlu/questions.py) and publishes them as `questions`; `answers_for_parts` (called by
bot/core/dialogue.py) picks what to answer. Only a message the safety layer did not escalate
is ever answered in parts: a reported reaction or a personal question gets the safety
reply alone, whatever else it asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.core._yaml import read_yaml
from bot.core.normalize import fold_unicode, normalise_for_matching
from bot.core.payloads import reads_as_intent

if TYPE_CHECKING:
    from bot.core.answer_store import AnswerStore

CUES_FILE = Path(__file__).with_name("question_cues.yml")
MAX_PARTS = 4  # a longer list of questions is read as one message
MAX_ANSWERS = 3  # more answers in one go is a wall of text; the person can ask again
MAX_CHARS = 600  # beyond this a message is a story, not a list of questions
# A part's intent counts only at this confidence; the whole message's answer is used otherwise.
MIN_PART_CONFIDENCE = 0.6
# Answer kinds that answer a question; greetings, thanks and fallbacks do not.
QUESTION_KINDS = frozenset({"answer", "handoff"})

_SEPARATOR = re.compile(r"([?؟!۔\n]+|[,،;؛]|\.+(?=\s|$))")
_ASKED = re.compile("[?؟]")


@dataclass(frozen=True)
class _Lists:
    cues: FrozenSet[str]
    first_word_cues: FrozenSet[str]
    joiners: FrozenSet[str]
    courtesies: Tuple[Tuple[str, ...], ...]  # longest first


@lru_cache(maxsize=1)
def _lists() -> _Lists:
    raw = read_yaml(CUES_FILE)

    def fold(words: Iterable[Any]) -> FrozenSet[str]:
        return frozenset(filter(None, (normalise_for_matching(str(w)) for w in words)))

    courtesies = {tuple(normalise_for_matching(str(p)).split()) for p in raw["courtesies"]}
    return _Lists(
        cues=fold(w for words in raw["cues"].values() for w in words),
        first_word_cues=fold(raw["first_word_cues"]),
        joiners=fold(w for words in raw["joiners"].values() for w in words) | {"&"},
        courtesies=tuple(sorted((c for c in courtesies if c), key=len, reverse=True)),
    )


@dataclass
class _Piece:
    words: List[str] = field(default_factory=list)  # as written
    lead: str = ""  # the comma or joining word before it, as written
    mark: str = ""  # the question mark it ended with (? or ؟), if any
    courtesy: bool = False

    @property
    def asked(self) -> bool:
        return bool(self.mark)

    @property
    def folded(self) -> List[str]:
        return [f for f in (normalise_for_matching(w) for w in self.words) if f]

    def has_cue(self) -> bool:
        lists = _lists()
        folded = [w for f in self.folded for w in f.split()]
        return bool(folded) and (
            folded[0] in lists.first_word_cues
            or any(w in lists.cues or _arabic_joined_cue(w) for w in folded)
        )

    def text(self) -> str:
        return " ".join(self.words) + self.mark


def _arabic_joined_cue(folded: str) -> Optional[str]:
    """The cue in a word that starts with و ("وكم", "وشكد"), unless the word is a cue itself (وش, وين)."""
    lists = _lists()
    if folded.startswith("و") and folded not in lists.cues and folded[1:] in lists.cues:
        return folded[1:]
    return None


def _pieces(text: str) -> List[_Piece]:
    """The message cut at every possible boundary, each piece marked with what preceded it."""
    lists = _lists()
    pieces, current = [], _Piece()
    for chunk in _SEPARATOR.split(text):
        if not chunk or chunk.isspace():
            continue
        if _SEPARATOR.fullmatch(chunk):
            asked = _ASKED.findall(chunk)
            current.mark = current.mark or (asked[-1] if asked else "")
            soft = chunk in ",،"
            pieces.append(current)
            current = _Piece(lead=chunk if soft else "")
            continue
        for word in chunk.split():
            folded = normalise_for_matching(word)
            if folded in lists.joiners and not current.words and not current.lead:
                current.lead = word  # "? and how long": the joining word is not part of the question
            elif current.words and folded in lists.joiners:
                pieces.append(current)
                current = _Piece(lead=word)
            elif _arabic_joined_cue(folded):  # "وكم": "and how much"
                if current.words:
                    pieces.append(current)
                    current = _Piece()
                current.words.append(word[1:])
                current.lead = current.lead or "و"
            else:
                current.words.append(word)
    pieces.append(current)
    # A joining word with nothing after it ("how much and?") belongs to the piece before.
    out: List[_Piece] = []
    for piece in pieces:
        if not piece.words and out and not out[-1].asked:
            out[-1].words += [piece.lead] if piece.lead.strip(",،") else []
            out[-1].mark = out[-1].mark or piece.mark
        elif piece.words:
            out.append(piece)
    return out


def _take_courtesies(piece: _Piece) -> List[_Piece]:
    """A greeting or "ok" at the front of a piece, as pieces of their own."""
    out = []
    while piece.words:
        folded = [normalise_for_matching(w) for w in piece.words]
        phrase = next((c for c in _lists().courtesies if tuple(folded[: len(c)]) == c), None)
        if phrase is None:
            break
        if len(phrase) == len(folded):
            piece.courtesy = True
            break
        out.append(_Piece(words=piece.words[: len(phrase)], lead=piece.lead, courtesy=True))
        piece = _Piece(words=piece.words[len(phrase) :], mark=piece.mark)
    return out + [piece]


def _merge(pieces: List[_Piece]) -> List[_Piece]:
    """Keep a piece apart only where it is a question of its own (or a courtesy)."""
    kept: List[_Piece] = []
    for piece in pieces:  # a comma or "and" not followed by a question joins the piece before
        if (
            kept
            and piece.lead
            and not piece.courtesy
            and not piece.has_cue()
            and not kept[-1].courtesy
            and not kept[-1].asked
        ):
            kept[-1].words += ([piece.lead] if piece.lead not in ",،" else []) + piece.words
            kept[-1].mark = piece.mark
        else:
            kept.append(piece)
    out: List[_Piece] = []
    carry: List[str] = []
    for i, piece in enumerate(kept):  # context with no question of its own ("for the neck in Basra,")
        standalone = piece.courtesy or piece.asked or piece.has_cue()
        if not standalone and i + 1 < len(kept) and not kept[i + 1].courtesy:
            carry += piece.words
            continue
        if not standalone and out and not out[-1].courtesy:
            out[-1].words += piece.words
            continue
        out.append(_Piece(words=carry + piece.words, mark=piece.mark, courtesy=piece.courtesy))
        carry = []
    return out


def question_parts(text: str) -> List[str]:
    """The questions of a message, when it asks more than one or opens with a courtesy.

    Returns [] for a message that is one question (or none): the model reads it whole.
    A courtesy ("salam", "ok", "thanks") is never a part; "salam, does it hurt?" gives
    ["does it hurt?"], so the question is answered rather than the greeting.
    """
    text = fold_unicode(text or "").strip()
    if not text or len(text) > MAX_CHARS or reads_as_intent(text):
        return []
    pieces: List[_Piece] = []
    for piece in _pieces(text):
        pieces += _take_courtesies(piece) if not pieces or pieces[-1].courtesy else [piece]
    merged = _merge(pieces)
    questions = [p.text() for p in merged if not p.courtesy]
    had_courtesy = any(p.courtesy for p in merged)
    if not questions or len(questions) > MAX_PARTS or (len(questions) == 1 and not had_courtesy):
        return []
    return questions


@dataclass(frozen=True)
class Part:
    """One question of a message as the NLU pipeline read it (published as `questions`)."""

    text: str
    intent: Optional[str]
    confidence: float
    verdict: Optional[str] = None  # "urgent" / "personal" when the safety layer escalated this part

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "Part":
        safety = raw.get("safety") if isinstance(raw.get("safety"), Mapping) else {}
        verdict = safety.get("verdict")
        return cls(
            text=str(raw.get("text") or ""),
            intent=raw.get("intent"),
            confidence=float(raw.get("confidence") or 0.0),
            verdict=verdict if verdict in ("urgent", "personal") else None,
        )


def parts_from(raw: Any) -> Tuple[Part, ...]:
    """The published `questions` of a parse, read defensively (None, junk: no parts)."""
    if not isinstance(raw, list):
        return ()
    return tuple(Part.from_dict(p) for p in raw if isinstance(p, Mapping))


def answers_for_parts(
    parts: Sequence[Part], store: "AnswerStore", safety_answer: Mapping[Any, str]
) -> List[str]:
    """The answer ids for a message's questions, safety answers first, each once.

    `safety_answer` maps a verdict to its answer, most severe first. Parts the model is not
    sure of, and greetings, thanks or fallbacks, give nothing; an empty list means "answer
    the whole message".
    """
    by_verdict = {getattr(verdict, "value", verdict): answer for verdict, answer in safety_answer.items()}
    safety, others = set(), []
    for part in parts:
        if part.verdict in by_verdict:
            safety.add(by_verdict[part.verdict])
            continue
        answer = store.for_intent(part.intent)
        if answer and answer.kind in QUESTION_KINDS and part.confidence >= MIN_PART_CONFIDENCE:
            others.append(answer.id)
    ordered = [a for a in by_verdict.values() if a in safety] + others
    return list(dict.fromkeys(ordered))[:MAX_ANSWERS]
