"""The conversations in memory, kept up to date from the tracker store, newest events only.

Each event is read once: its JSON is parsed and cut down to what the pages use (the text,
the intent and its confidence, the safety verdict the NLU pipeline published, the written
form it detected, the channel; the answer id, kind and language of each reply; the region
and feedback slots). A page is then computed from memory in milliseconds, however large
the store, and a refresh only reads the events written since the last one.

The inbox uses `make review`'s own reading of a conversation
(`bot.tools.content.review.review_conversation`), so both flag the same messages for the same
reasons, and masks and groups them the same way (`mask_contact_details`, `pseudonym`, `written_form`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from bot.core.normalize import normalise_for_matching
from bot.core.payloads import reads_as_intent
from bot.tools.content.review import (
    NOT_UNDERSTOOD,
    ConversationReview,
    _negative,
    _positive,
    mask_contact_details,
    pseudonym,
    review_conversation,
    written_form,
)
from bot.workbench.store import BATCH, EventSource, StoreUnavailable

logger = logging.getLogger(__name__)
# Ids committed out of order (several Rasa servers on one PostgreSQL sequence) arrive late:
# every refresh reads again this far below the highest id seen.
ID_MARGIN = 2000
URGENT_ANSWERS = {"safety.urgent": "urgent", "safety.clinician_redirect": "personal"}
_KEPT_SLOTS = {"region", "named_region", "language", "feedback"}


@dataclass
class Message:
    """A message the person sent (typed, or a button pressed) and what the bot made of it."""

    event_id: int
    at: float
    text: str
    button: bool
    form: str  # en, ar, ur, roman_ur (detected), or the reply language for a button
    channel: str
    intent: Optional[str]
    confidence: Optional[float]
    verdict: Optional[str]  # urgent | personal | None: the safety layer's decision
    region: Optional[str] = None
    answers: List[Tuple[str, str, str]] = field(default_factory=list)  # (answer id, kind, lang)

    @property
    def not_understood(self) -> bool:
        return self.intent == "nlu_fallback" or any(a in NOT_UNDERSTOOD for a, _, _ in self.answers)

    @property
    def escalation(self) -> Optional[str]:
        if self.verdict in ("urgent", "personal"):
            return self.verdict
        return next((URGENT_ANSWERS[a] for a, _, _ in self.answers if a in URGENT_ANSWERS), None)


@dataclass
class Rating:
    at: float
    answer_id: str
    lang: str
    channel: str
    helpful: Optional[bool]


@dataclass
class Conversation:
    sender: str
    pseudonym: str
    events: List[Tuple[int, str, Optional[str], dict]] = field(default_factory=list)
    messages: List[Message] = field(default_factory=list)
    region: Optional[str] = None
    channel: str = "unknown"
    dirty: bool = True
    _review: Optional[ConversationReview] = None
    _flagged: List["FlaggedTurn"] = field(default_factory=list)
    _ratings: List[Rating] = field(default_factory=list)

    @property
    def last_at(self) -> float:
        return self.messages[-1].at if self.messages else 0.0

    def refresh_review(self) -> None:
        if not self.dirty:
            return
        self.events.sort(key=lambda e: e[0])
        self._review = review_conversation(self.events)
        by_id = {m.event_id: m for m in self.messages}
        self._flagged = []
        for turn in self._review.flagged():
            message = by_id.get(turn.event_id)
            text = mask_contact_details(turn.text)
            form = written_form(turn.text)
            self._flagged.append(
                FlaggedTurn(
                    self,
                    turn.event_id,
                    float(turn.at or (message.at if message else 0)),
                    text,
                    form,
                    turn.guess or "unknown",
                    list(turn.reasons),
                    turn.confidence,
                    message.region if message else self.region,
                )
            )
        self._ratings = [
            Rating(
                float(r.get("_at") or 0),
                str(r.get("answer_id") or "unknown"),
                str(r.get("lang") or "unknown"),
                str(r.get("channel") or self.channel),
                True if _positive(r) else False if _negative(r) else None,
            )
            for r in self._review.ratings
        ]
        self.dirty = False

    @property
    def flagged(self) -> List["FlaggedTurn"]:
        self.refresh_review()
        return self._flagged

    @property
    def ratings(self) -> List[Rating]:
        self.refresh_review()
        return self._ratings


@dataclass
class FlaggedTurn:
    conversation: Conversation
    event_id: int
    at: float
    text: str  # masked
    form: str
    guess: str
    reasons: List[str]
    confidence: Optional[float]
    region: Optional[str]

    @property
    def key(self) -> Tuple[str, str, str]:
        return self.form, self.guess, normalise_for_matching(self.text)


def item_id(key: Tuple[str, str, str]) -> str:
    """A stable id for an inbox item (the same text, form and guessed intent)."""
    return hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:16]


def _trim(type_name: str, name: Optional[str], data: dict) -> Optional[dict]:
    """What the pages need of one event (None: nothing)."""
    if type_name == "user":
        parse = data.get("parse_data") or {}
        safety = parse.get("safety") if isinstance(parse.get("safety"), dict) else {}
        language = parse.get("language") if isinstance(parse.get("language"), dict) else {}
        return {
            "text": data.get("text"),
            "timestamp": data.get("timestamp"),
            "input_channel": data.get("input_channel"),
            "parse_data": {
                "intent": parse.get("intent") or {},
                "intent_ranking": [r for r in (parse.get("intent_ranking") or [])[:3] if isinstance(r, dict)],
                "safety": {"verdict": safety.get("verdict")} if safety else None,
                "language": {"code": language.get("code")} if language else None,
            },
        }
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    at = data.get("timestamp")
    if type_name == "bot":
        return {
            "timestamp": at,
            "metadata": {k: meta.get(k) for k in ("answer_id", "kind", "lang") if k in meta},
        }
    name = data.get("name") or name
    if type_name == "slot" and name in _KEPT_SLOTS:
        value = data.get("value")
        if name == "feedback" and isinstance(value, dict):
            value = {**value, "_at": at}  # when it was given, for the date filter
        return {"name": name, "value": value, "timestamp": at}
    if isinstance(meta.get("feedback"), dict):
        return {
            "name": name,
            "metadata": {**meta, "feedback": {**meta["feedback"], "_at": at}},
            "timestamp": at,
        }
    if type_name == "action" and name == "feedback":
        return {"name": name, "metadata": {**meta, "_at": at}, "timestamp": at}
    return None


class ConversationIndex:
    """Every conversation of one tracker store, in memory. `refresh()` reads what is new."""

    def __init__(self, source: EventSource):
        self.source = source
        self.lock = threading.RLock()
        self.conversations: Dict[str, Conversation] = {}
        self.by_pseudonym: Dict[str, str] = {}
        self.last_id = 0
        self._recent: set = set()  # ids above last_id - ID_MARGIN already read
        self._identity = ""
        self.version = 0  # goes up whenever something new was read
        self.events_read = 0
        self.status = "not read yet"
        self.available = False
        self.refreshed_at: Optional[float] = None
        self._refreshing = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.conversations, self.by_pseudonym = {}, {}
            self.last_id, self._recent, self.events_read = 0, set(), 0
            self.version += 1

    def refresh(self, budget: float = 30.0, wait: bool = False) -> int:
        """Read the events written since the last refresh (for at most about `budget` seconds);
        returns how many. Never raises for a store that is missing, empty or busy. While another
        thread refreshes, returns at once, or with `wait` waits for it and then reads again."""
        if not self._refreshing.acquire(blocking=wait):
            return 0
        try:
            return self._refresh(budget)
        finally:
            self._refreshing.release()

    def _refresh(self, budget: float) -> int:
        started, read = time.monotonic(), 0
        try:
            identity = self.source.identity()
            if identity != self._identity:
                if self.events_read:
                    self.reset()
                self._identity = identity
            top = self.source.max_id()
            if top < self.last_id - ID_MARGIN:  # a new, smaller store in its place
                self.reset()
            after = max(0, self.last_id - ID_MARGIN)
            while True:
                rows = self.source.fetch(after, BATCH)
                fresh = [r for r in rows if r[0] not in self._recent]
                if fresh:
                    self._ingest(fresh)
                    read += len(fresh)
                if len(rows) < BATCH or time.monotonic() - started > budget:
                    break
                after = rows[-1][0]
            self.available = True
            self.status = f"{self.events_read:,} events in {len(self.conversations):,} conversations"
        except StoreUnavailable as err:
            self.available = self.events_read > 0
            self.status = str(err)
        except Exception as err:  # a broken row or a driver error must not stop the workbench
            logger.exception("reading the tracker store failed")
            self.status = f"reading the tracker store failed: {type(err).__name__}: {err}"
        self.refreshed_at = time.time()
        return read

    def _ingest(self, rows) -> None:
        parsed = []
        for event_id, sender, type_name, action_name, timestamp, raw in rows:
            try:
                data = json.loads(raw or "{}")
            except (ValueError, TypeError):
                data = {}
            if not isinstance(data, dict):
                data = {}
            if data.get("timestamp") is None and timestamp is not None:
                data["timestamp"] = timestamp
            parsed.append(
                (int(event_id), str(sender), str(type_name), action_name, _trim(type_name, action_name, data))
            )
        with self.lock:
            for event_id, sender, type_name, action_name, data in parsed:
                self._recent.add(event_id)
                self.last_id = max(self.last_id, event_id)
                self.events_read += 1
                if data is None:
                    continue
                conversation = self.conversations.get(sender)
                if conversation is None:
                    conversation = self.conversations[sender] = Conversation(sender, pseudonym(sender))
                    self.by_pseudonym[conversation.pseudonym] = sender
                self._add(conversation, event_id, type_name, action_name, data)
            floor = self.last_id - ID_MARGIN
            self._recent = {i for i in self._recent if i > floor}
            self.version += 1

    @staticmethod
    def _add(
        conversation: Conversation, event_id: int, type_name: str, name: Optional[str], data: dict
    ) -> None:
        conversation.dirty = True
        at = float(data.get("timestamp") or 0)
        conversation.events.append((event_id, type_name, name, data))
        if type_name == "user":
            parse = data.get("parse_data") or {}
            text = str(data.get("text") or "")
            intent = (parse.get("intent") or {}).get("name")
            confidence = (parse.get("intent") or {}).get("confidence")
            language = (parse.get("language") or {}).get("code")
            channel = str(data.get("input_channel") or conversation.channel or "unknown")
            conversation.channel = channel
            button = reads_as_intent(text)
            conversation.messages.append(
                Message(
                    event_id,
                    at,
                    text,
                    button,
                    language or ("" if button else written_form(text)) or "unknown",
                    channel,
                    intent,
                    confidence if isinstance(confidence, (int, float)) else None,
                    (parse.get("safety") or {}).get("verdict"),
                    conversation.region,
                )
            )
        elif type_name == "bot" and conversation.messages:
            meta = data.get("metadata") or {}
            message = conversation.messages[-1]
            if meta.get("answer_id"):
                message.answers.append(
                    (str(meta["answer_id"]), str(meta.get("kind") or ""), str(meta.get("lang") or ""))
                )
            if message.button and message.form in ("", "unknown") and meta.get("lang"):
                message.form = str(meta["lang"])
        elif type_name == "slot" and data.get("name") == "region":
            conversation.region = str(data["value"]) if data.get("value") else conversation.region
            if conversation.messages and conversation.region:
                conversation.messages[-1].region = conversation.region

    # -- reading ---------------------------------------------------------------------------
    def get(self, pseudonym_: str) -> Optional[Conversation]:
        with self.lock:
            sender = self.by_pseudonym.get(pseudonym_)
            return self.conversations.get(sender) if sender else None

    def snapshot(self) -> List[Conversation]:
        with self.lock:
            return list(self.conversations.values())
