"""The overview's figures, and the inbox, computed from the conversations in memory.

Days and weeks are UTC days and ISO weeks (Monday first). A message's language is the
written form the NLU pipeline detected (en, ar, ur, roman_ur), or for a button press the
language of the reply. An escalation is a message the safety layer decided was urgent or
for a clinician (`safety.verdict` in its parse data; for messages stored before the layer
published it, the safety answer it got), in the region the bot used for that reply.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from bot.workbench.conversations import Conversation, FlaggedTurn, item_id

FORMS = ("en", "ar", "ur", "roman_ur")
FORM_LABELS = {
    "en": "English",
    "ar": "Arabic · العربية",
    "ur": "Urdu · اردو",
    "roman_ur": "Roman Urdu",
    "unknown": "other / unknown",
}
TOP = 10


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> List[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def bounds(self) -> Tuple[float, float]:
        start = dt.datetime.combine(self.start, dt.time(), dt.timezone.utc).timestamp()
        end = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), dt.timezone.utc).timestamp()
        return start, end

    def __contains__(self, at: float) -> bool:
        start, end = self.bounds
        return start <= at < end


DEFAULT_DAYS = 30


def default_period(today: Optional[dt.date] = None) -> Period:
    """What the overview shows unless asked: the last 30 days, today included (UTC)."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    return Period(today - dt.timedelta(days=DEFAULT_DAYS - 1), today)


def day_of(at: float) -> dt.date:
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).date()


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class Overview:
    period: Period
    conversations: int = 0
    messages: int = 0
    typed: int = 0
    not_understood: int = 0
    by_language: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # form -> day -> n
    by_channel: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    weekly_typed: Dict[str, Counter] = field(
        default_factory=lambda: defaultdict(Counter)
    )  # form -> week -> n
    weekly_not_understood: Dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    escalations: Dict[str, Dict[str, Counter]] = field(
        default_factory=lambda: {"urgent": defaultdict(Counter), "personal": defaultdict(Counter)}
    )  # kind->region->day
    answers: Counter = field(default_factory=Counter)
    unhelpful: Dict[str, Counter] = field(
        default_factory=lambda: defaultdict(Counter)
    )  # channel -> answer -> n
    helpful: Counter = field(default_factory=Counter)

    @property
    def weeks(self) -> List[dt.date]:
        return sorted({week_of(d) for d in self.period.days})

    def not_understood_share(self) -> Dict[str, Dict[dt.date, Optional[float]]]:
        """form -> week -> share of typed messages not understood (None: no message that week)."""
        out = {}
        for form in sorted(self.weekly_typed, key=_form_order):
            out[form] = {
                week: (self.weekly_not_understood[form][week] / n if n else None)
                for week in self.weeks
                for n in [self.weekly_typed[form][week]]
            }
        return out

    def top_answers(self) -> List[Tuple[str, int]]:
        return self.answers.most_common(TOP)

    def top_unhelpful(self) -> List[Tuple[str, Dict[str, int], int]]:
        """(answer id, not helpful per channel, helpful) for the answers most often marked unhelpful."""
        total = Counter()
        for per_answer in self.unhelpful.values():
            total.update(per_answer)
        return [
            (
                answer,
                {
                    ch: self.unhelpful[ch][answer]
                    for ch in sorted(self.unhelpful)
                    if self.unhelpful[ch][answer]
                },
                self.helpful[answer],
            )
            for answer, _ in total.most_common(TOP)
        ]

    def escalation_total(self, kind: str) -> int:
        return sum(sum(days.values()) for days in self.escalations[kind].values())


def _form_order(form: str) -> tuple:
    return (FORMS.index(form) if form in FORMS else len(FORMS), form)


def overview(conversations: Iterable[Conversation], period: Period) -> Overview:
    out = Overview(period)
    start, end = period.bounds
    for conversation in conversations:
        counted = False
        for message in conversation.messages:
            if not start <= message.at < end:
                continue
            counted = True
            day = day_of(message.at)
            form = message.form if message.form in FORMS else "unknown"
            out.messages += 1
            out.by_language[form][day] += 1
            out.by_channel[message.channel][day] += 1
            for answer, _, _ in message.answers:
                out.answers[answer] += 1
            if not message.button:
                out.typed += 1
                out.weekly_typed[form][week_of(day)] += 1
                if message.not_understood:
                    out.not_understood += 1
                    out.weekly_not_understood[form][week_of(day)] += 1
            kind = message.escalation
            if kind:
                out.escalations[kind][message.region or "unknown"][day] += 1
        out.conversations += counted
        for rating in conversation.ratings:
            if start <= rating.at < end:
                if rating.helpful is False:
                    out.unhelpful[rating.channel][rating.answer_id] += 1
                elif rating.helpful is True:
                    out.helpful[rating.answer_id] += 1
    return out


# ---- the inbox ---------------------------------------------------------------------------
@dataclass
class InboxItem:
    id: str
    text: str
    form: str
    guess: str
    reasons: List[str]
    confidence: Optional[float]
    turns: List[FlaggedTurn]

    @property
    def last_at(self) -> float:
        return max(t.at for t in self.turns)

    @property
    def times(self) -> int:
        return len(self.turns)

    @property
    def conversations(self) -> List[str]:
        seen: List[str] = []
        for turn in sorted(self.turns, key=lambda t: -t.at):
            if turn.conversation.pseudonym not in seen:
                seen.append(turn.conversation.pseudonym)
        return seen

    @property
    def latest(self) -> FlaggedTurn:
        return max(self.turns, key=lambda t: t.at)


@dataclass
class InboxGroup:
    form: str
    guess: str
    items: List[InboxItem]


def inbox(
    conversations: Iterable[Conversation], period: Optional[Period] = None, hidden: Iterable[str] = ()
) -> Tuple[List[InboxGroup], int]:
    """The flagged messages, merged when the same text recurs, grouped by written form and
    guessed intent, newest first; and how many items `hidden` (already dealt with) removed."""
    start, end = period.bounds if period else (float("-inf"), float("inf"))
    merged: Dict[tuple, InboxItem] = {}
    for conversation in conversations:
        for turn in conversation.flagged:
            if not start <= turn.at < end:
                continue
            key = turn.key
            item = merged.get(key)
            if item is None:
                merged[key] = InboxItem(
                    item_id(key),
                    turn.text,
                    turn.form,
                    turn.guess,
                    list(turn.reasons),
                    turn.confidence,
                    [turn],
                )
            else:
                item.turns.append(turn)
                item.reasons += [r for r in turn.reasons if r not in item.reasons]
    hidden = set(hidden)
    shown = [item for item in merged.values() if item.id not in hidden]
    groups: Dict[tuple, List[InboxItem]] = defaultdict(list)
    for item in shown:
        groups[(item.form, item.guess)].append(item)
    out = [
        InboxGroup(form, guess, sorted(items, key=lambda i: -i.last_at))
        for (form, guess), items in groups.items()
    ]
    out.sort(key=lambda g: (_form_order(g.form), -g.items[0].last_at))
    return out, len(merged) - len(shown)


def find_item(conversations: Iterable[Conversation], wanted: str) -> Optional[InboxItem]:
    groups, _ = inbox(conversations)
    return next((item for group in groups for item in group.items if item.id == wanted), None)
