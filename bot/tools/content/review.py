"""`make review`: what clinicians must sign, and what patients wrote that the bot handled badly.

First, the sign-off list: every medical or safety entry of the answer store that no
clinician has approved yet (`AnswerStore.awaiting_sign_off`), as `file:line`, and a
sheet with its three texts for the clinician to read (`review/sign-off-<date>.md`).

Then the conversations. Reads the tracker store (SQLite, `var/tracker.db`) and collects the person's messages
that the bot
- did not understand (NLU fallback, or answered with fallback.not_understood),
- understood only with low confidence, or answered as out of scope,
- sent to the safety layer (urgent care or the clinician redirect): check them, the
  guard errs on the safe side,
- answered with a thumbs-down in the widget (`SlotSet("feedback", {answer_id,
  helpful: false})`, see bot/rasa_server/channels/_widget_routes.py) or a 👎 or 😡 reaction on
  WhatsApp (the same event, with `message`: a reaction replaced or removed later
  replaces its rating, see bot/rasa_server/channels/whatsapp.py).

It also counts the ratings per answer and language (helpful / not helpful), so content
staff see which answers people find unhelpful.

The output YAML groups them by language and by the intent the bot guessed, one line per
message, so content staff can fix the intent and copy the text into data/nlu/. No
personal data: conversations appear under a pseudonym, and phone numbers, e-mail
addresses and long numbers in the texts are masked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from bot import LANGUAGES
from bot.core.answer_store import AnswerStore
from bot.core.language import detect_language
from bot.core.normalize import normalise_for_matching
from bot.core.payloads import reads_as_intent

FEEDBACK = "feedback"  # the slot (bot/rasa_server/channels/_widget_routes.py FEEDBACK_SLOT) or action name
MIN_CONFIDENCE = 0.6  # below this an answered message is worth a look
NOT_UNDERSTOOD = {"fallback.not_understood"}
OUT_OF_SCOPE = {"fallback.out_of_scope"}
SAFETY_KINDS = {"urgent", "safety"}  # the guard's answers: safety.urgent, safety.clinician_redirect
FOLDERS = {"en": "data/nlu/en/", "ar": "data/nlu/ar/", "ur": "data/nlu/ur/", "roman_ur": "data/nlu/ur/"}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\w)\+?[\d٠-٩۰-۹][\d٠-٩۰-۹\s().-]{5,}[\d٠-٩۰-۹](?!\w)")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)


def mask_contact_details(text: str) -> str:
    """`text` with e-mail addresses, links and phone or other long numbers masked."""
    text = _EMAIL.sub("[email]", text)
    text = _URL.sub("[link]", text)
    return _PHONE.sub("[number]", text)


def pseudonym(sender_id: str) -> str:
    """A stable stand-in for a conversation id (a WhatsApp id is a phone number)."""
    return "c-" + hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:10]


@dataclass
class Flagged:
    text: str
    language: str
    intent: str  # the intent the bot guessed
    reasons: List[str]
    confidence: Optional[float]
    conversations: List[str]
    times: int = 1


@dataclass
class Turn:
    """One message the person typed, as the bot read and answered it."""

    text: str
    intent: Optional[str]
    guess: Optional[str]
    confidence: Optional[float]
    answers: List[str] = field(default_factory=list)
    reasons: List[str] = field(default_factory=list)
    event_id: Optional[int] = None  # the message's event in the tracker store
    at: Optional[float] = None  # when it was sent (Unix time)


def _events(db: Path, since: Optional[float]) -> Iterator[tuple]:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        query = "SELECT id, sender_id, type_name, action_name, data FROM events"
        args: tuple = ()
        if since is not None:
            query += " WHERE timestamp >= ?"
            args = (since,)
        yield from connection.execute(query + " ORDER BY sender_id, id", args)
    finally:
        connection.close()


def _feedback(type_name: str, name: Optional[str], data: dict) -> Optional[dict]:
    """The feedback an event carries, if any."""
    if type_name == "slot" and (data.get("name") or name) == FEEDBACK and isinstance(data.get("value"), dict):
        return data["value"]
    if type_name == "action" and (data.get("name") or name) == FEEDBACK:
        return data.get("metadata") or {}
    value = (data.get("metadata") or {}).get(FEEDBACK)
    return value if isinstance(value, dict) else None


def _negative(feedback: dict) -> bool:
    rating = str(feedback.get("rating", "")).lower()
    return feedback.get("helpful") is False or rating in ("down", "-1", "0", "bad")


def _positive(feedback: dict) -> bool:
    rating = str(feedback.get("rating", "")).lower()
    return feedback.get("helpful") is True or rating in ("up", "+1", "1", "good")


@dataclass
class FeedbackCount:
    helpful: int = 0
    not_helpful: int = 0


def _user_turn(data: dict) -> Optional[Turn]:
    text = str(data.get("text") or "").strip()
    if not text or reads_as_intent(text):  # a button payload is the bot's own text
        return None
    parse = data.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name")
    confidence = (parse.get("intent") or {}).get("confidence")
    ranking = [r.get("name") for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    guess = intent if intent != "nlu_fallback" else (ranking[0] if ranking else None)
    return Turn(text, intent, guess, confidence if isinstance(confidence, (int, float)) else None)


def collect(
    db: Path, since: Optional[dt.date] = None, min_confidence: float = MIN_CONFIDENCE
) -> List[Flagged]:
    """The flagged messages of the tracker store `db`, merged when the same text recurs."""
    return _scan(db, since, min_confidence)[0]


def feedback_counts(db: Path, since: Optional[dt.date] = None) -> Dict[str, Dict[str, FeedbackCount]]:
    """Ratings per answer id and language: each rated message counted once, as it stands now."""
    return _scan(db, since, MIN_CONFIDENCE)[1]


def _scan(
    db: Path, since: Optional[dt.date], min_confidence: float
) -> Tuple[List[Flagged], Dict[str, Dict[str, FeedbackCount]]]:
    start = dt.datetime.combine(since, dt.time(), dt.timezone.utc).timestamp() if since else None
    merged: Dict[tuple, Flagged] = {}
    counts: Dict[str, Dict[str, FeedbackCount]] = defaultdict(lambda: defaultdict(FeedbackCount))

    def flush(conversation: str, events: list) -> None:
        result = review_conversation(events, min_confidence)
        for feedback in result.ratings:
            count_rating(counts, feedback)
        for turn in result.flagged():
            detected = written_form(turn.text)
            text = mask_contact_details(turn.text)
            key = (detected, turn.guess or "unknown", normalise_for_matching(text))
            item = merged.get(key)
            if item is None:
                merged[key] = Flagged(
                    text,
                    detected,
                    turn.guess or "unknown",
                    list(turn.reasons),
                    round(turn.confidence, 2) if turn.confidence is not None else None,
                    [pseudonym(conversation)],
                )
            else:
                item.times += 1
                item.reasons += [r for r in turn.reasons if r not in item.reasons]
                if pseudonym(conversation) not in item.conversations:
                    item.conversations.append(pseudonym(conversation))

    conversation, events = None, []
    for event_id, sender, type_name, name, raw in _events(db, start):
        if sender != conversation:
            if conversation is not None:
                flush(conversation, events)
            conversation, events = sender, []
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            continue
        events.append((event_id, type_name, name, data if isinstance(data, dict) else {}))
    if conversation is not None:
        flush(conversation, events)
    flagged = sorted(merged.values(), key=lambda f: (f.language, f.intent, -f.times, f.text))
    return flagged, {answer: dict(by_lang) for answer, by_lang in counts.items()}


def written_form(text: str) -> str:
    """en, ar, ur or roman_ur as the export groups messages ("unknown" when it cannot tell)."""
    return detect_language(text).language or "unknown"


def count_rating(counts: Dict[str, Dict[str, FeedbackCount]], feedback: dict) -> None:
    answer, lang = str(feedback.get("answer_id") or "unknown"), str(feedback.get("lang") or "unknown")
    count = counts[answer][lang]
    if _negative(feedback):
        count.not_helpful += 1
    elif _positive(feedback):
        count.helpful += 1


@dataclass
class ConversationReview:
    """One conversation as `make review` reads it: every typed message, with the reasons it
    is worth a look (none for a message handled well), and its ratings as they stand."""

    turns: List[Turn]
    ratings: List[dict]

    def flagged(self) -> List[Turn]:
        return [turn for turn in self.turns if turn.reasons]


def review_conversation(
    events: Iterable[Tuple[int, str, Optional[str], dict]], min_confidence: float = MIN_CONFIDENCE
) -> ConversationReview:
    """Read one conversation's events, oldest first, each as (event id, type name, action
    name, data as stored). The staff workbench (bot/workbench) reads them the same way."""
    turns: List[Turn] = []
    # The conversation's ratings as they stand: a WhatsApp reaction names its `message`, and
    # a later reaction on that message (or its removal, helpful None) replaces it; widget
    # ratings have no `message` and each one counts.
    ratings: Dict[tuple, dict] = {}
    for event_id, type_name, name, data in events:
        if type_name == "user":
            turn = _user_turn(data)
            if turn is not None:
                turn.event_id, turn.at = event_id, data.get("timestamp")
                turns.append(turn)
                if turn.intent == "nlu_fallback":
                    turn.reasons.append("not understood")
                elif turn.confidence is not None and turn.confidence < min_confidence:
                    turn.reasons.append("low confidence")
            continue
        current = turns[-1] if turns else None
        if type_name == "bot" and current is not None:
            meta = data.get("metadata") or {}
            answer = meta.get("answer_id")
            if answer:
                current.answers.append(answer)
            if answer in NOT_UNDERSTOOD and "not understood" not in current.reasons:
                current.reasons.append("not understood")
            elif answer in OUT_OF_SCOPE:
                current.reasons.append("answered as out of scope")
            elif meta.get("kind") in SAFETY_KINDS:
                current.reasons.append(f"safety layer: {answer}")
            continue
        feedback = _feedback(type_name, name, data)
        if feedback is not None:
            message = feedback.get("message")
            ratings[("message", str(message)) if message else ("event", event_id)] = feedback
    for feedback in ratings.values():
        if _negative(feedback):
            rated = feedback.get("answer_id")
            target = next((t for t in reversed(turns) if not rated or rated in t.answers), None)
            if target is not None and "thumbs-down" not in " ".join(target.reasons):
                target.reasons.append(f"thumbs-down on {rated or 'the answer'}")
    return ConversationReview(turns, list(ratings.values()))


def render(
    items: List[Flagged],
    db: Path,
    since: Optional[dt.date],
    counts: Optional[Dict[str, Dict[str, FeedbackCount]]] = None,
) -> str:
    """The review file: YAML, one line per message, then the ratings per answer."""
    today = dt.date.today().isoformat()
    lines = [
        f"# make review, {today}: messages from {db.name}{f' since {since}' if since else ''} that the bot",
        "# did not understand, understood poorly, sent to the safety layer, or got a thumbs-down for.",
        "# Grouped by language and by the intent the bot guessed.",
        "# To teach the bot: correct `intent` where the guess is wrong, then copy each text you",
        "# keep under that intent in the folder named below (data/nlu/<folder>/...yml),",
        "# then make validate and make retrain. Delete this file afterwards.",
        "# Privacy: conversations are pseudonyms; phone numbers, e-mails and links are masked.",
        "# Remove any name or other personal detail you still see before sharing this file.",
        f"messages: {len(items)}",
        "review:",
    ]
    if not items:
        lines[-1] = "review: {}"
    by_language: Dict[str, Dict[str, List[Flagged]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        by_language[item.language][item.intent].append(item)
    for language in sorted(by_language):
        lines.append(f"  {language}:  # -> {FOLDERS.get(language, 'the folder of its language')}")
        for intent in sorted(by_language[language]):
            lines.append(f"    {intent}:")
            for item in by_language[language][intent]:
                fields = [
                    f"text: {json.dumps(item.text, ensure_ascii=False)}",
                    f"intent: {item.intent}",
                    f"why: {json.dumps(', '.join(item.reasons))}",
                ]
                if item.confidence is not None:
                    fields.append(f"confidence: {item.confidence}")
                if item.times > 1:
                    fields.append(f"times: {item.times}")
                fields.append(f"conversations: [{', '.join(item.conversations[:5])}]")
                lines.append(f"      - {{{', '.join(fields)}}}")
    lines += _render_counts(counts or {})
    return "\n".join(lines) + "\n"


def _render_counts(counts: Dict[str, Dict[str, FeedbackCount]]) -> List[str]:
    shown = {
        answer: {lang: c for lang, c in by_lang.items() if c.helpful or c.not_helpful}
        for answer, by_lang in counts.items()
    }
    shown = {answer: by_lang for answer, by_lang in shown.items() if by_lang}
    lines = [
        '# Ratings per answer and language: the widget\'s "was this helpful?" and WhatsApp reactions',
        "# (👍 ❤️ 🙏 helpful, 👎 😡 not helpful; a reaction changed or removed counts as it is now).",
        "feedback:" if shown else "feedback: {}",
    ]
    # Least helpful first: those are the answers to look at.
    for answer in sorted(shown, key=lambda a: (-sum(c.not_helpful for c in shown[a].values()), a)):
        per_lang = ", ".join(
            f"{lang}: {{helpful: {c.helpful}, not_helpful: {c.not_helpful}}}"
            for lang, c in sorted(shown[answer].items())
        )
        lines.append(f"  {answer}: {{{per_lang}}}")
    return lines


def review(
    db: Path, out: Path, since: Optional[dt.date] = None, min_confidence: float = MIN_CONFIDENCE
) -> int:
    """Write the review file; returns how many messages it holds."""
    if not Path(db).exists():
        raise FileNotFoundError(f"no tracker store at {db}; pass DB=path/to/tracker.db")
    items, counts = _scan(Path(db), since, min_confidence)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(items, Path(db), since, counts), encoding="utf-8")
    return len(items)


# ---- the sign-off list ------------------------------------------------------------------
def _shown(path: Path) -> str:
    from bot import PROJECT_ROOT

    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def sign_off_list(store: AnswerStore) -> List[str]:
    """One line per entry a clinician must still sign: `file:line: id (why): title`."""
    lines = []
    for answer in store.awaiting_sign_off():
        why = "medical" if answer.medical else f"{answer.kind} reply"
        lines.append(
            f"{_shown(answer.path)}:{answer.line}: {answer.id} ({why}, source: {answer.source}, "
            f"status: {answer.review_status}): {answer.title['en']}"
        )
    return lines


def sign_off_sheet(store: AnswerStore) -> str:
    """The texts a clinician signs, in the three languages, with how to record the sign-off."""
    waiting = store.awaiting_sign_off()
    today = dt.date.today().isoformat()
    out = [
        f"# Clinical sign-off, {today}: {len(waiting)} entries",
        "",
        "Each entry below is medical or safety content that no clinician has approved yet. Read the",
        'text in every language you read; the clinician line ("A licensed clinician decides...") is',
        "added after each medical answer. To sign one off, give content staff your name, role and",
        "registration; they run:",
        "",
        '    make sign-off ID=<id> REVIEWER="Dr ..." ROLE="aesthetic physician" REGISTRATION="GMC 1234567"',
        "",
        "A text changed after your sign-off goes back to pending (make sign-off ID=<id> STATUS=pending).",
        "",
    ]
    for answer in waiting:
        out += [
            f"## {answer.id}: {answer.title['en']}",
            "",
            f"`{_shown(answer.path)}:{answer.line}` · status {answer.review_status} · source: {answer.source}"
            f" · revision {answer.version}",
            "",
        ]
        for lang in LANGUAGES:
            out += [f"**{lang}**", "", answer.text[lang], ""]
    return "\n".join(out)


def write_sign_off_sheet(store: AnswerStore, out: Path) -> int:
    """Write the sheet to `out`; returns how many entries wait for a sign-off."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(sign_off_sheet(store), encoding="utf-8")
    return len(store.awaiting_sign_off())
