"""Requests to be contacted by the clinic's staff: kept privately, delivered to a staff webhook.

Under the handoff answer (which gives the clinic's phone, WhatsApp, e-mail and booking
page), the widget may offer a small form: a name, and a phone number or an e-mail address,
with the person's explicit consent. It sends `POST /webhooks/webchat/handoff`. The form is
offered only when the bot can deliver what it collects, that is when `HANDOFF_WEBHOOK_URL`
and `HANDOFF_WEBHOOK_SECRET` are set; otherwise nothing is promised beyond the clinic's
own contact details (the channel marks handoff replies `contact_form: true` only then).

- **Checked like the rest of the channel**: origin, rate limits and the conversation's
  key first (nothing is read before); then the conversation must have been shown the
  handoff answer, and it may leave at most `MAX_PER_CONVERSATION` requests.
- **Kept privately**: SQLite at `HANDOFF_DB` (default `var/handoff.db`), created 0600 in the
  private state directory. No log line holds a name, number or address: a request is
  logged by its id. A request's details are deleted `keep_days` after it was delivered
  or given up on.
- **Delivered in the background**: a JSON POST to `HANDOFF_WEBHOOK_URL` with the shared
  secret in the `X-Handoff-Secret` header (`https://` only, except to this machine), tried
  at once and then again after each of `retry_seconds` (credentials.yml) until the
  receiver answers 2xx: the request is then `delivered`; after the last retry, `failed`
  (logged as an error). Retries survive a restart (they are in the database), and
  several server processes sharing the file never deliver one request twice at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import LANGUAGES, PROJECT_ROOT
from bot.rasa_server.channels._sanitize import SENDER_ID, clean_user_text
from bot.rasa_server.channels._widget_routes import Admission, Refused

logger = logging.getLogger(__name__)

URL_VARIABLE = "HANDOFF_WEBHOOK_URL"
SECRET_VARIABLE = "HANDOFF_WEBHOOK_SECRET"
DB_VARIABLE = "HANDOFF_DB"
SECRET_HEADER = "X-Handoff-Secret"
MIN_SECRET_LENGTH = 16
DEFAULT_DB = PROJECT_ROOT / "var" / "handoff.db"
# Seconds before each new attempt after a failed one: about 10.5 hours in all, then `failed`.
DEFAULT_RETRY_SECONDS = (10, 60, 300, 900, 3600, 3 * 3600, 6 * 3600)
DEFAULT_KEEP_DAYS = 30
DEFAULT_TIMEOUT = 10.0
MAX_PER_CONVERSATION = 3
MAX_BODY_BYTES = 4096
HANDOFF_ANSWER = "handoff.human"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")
_PHONE_CHARS = re.compile(r"[+0-9 ().-]{6,32}")
_EMAIL = re.compile(r"[^@\s<>\"',;]{1,64}@[^@\s<>\"',;]{1,190}\.[^@\s<>\"',;.]{2,63}")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


class HandoffConfigError(ValueError):
    """The staff webhook is half configured or unsafe: the server must not start like this."""


@dataclass(frozen=True)
class HandoffSettings:
    url: str
    secret: str
    db: Path = DEFAULT_DB
    retry_seconds: Tuple[float, ...] = DEFAULT_RETRY_SECONDS
    keep_days: float = DEFAULT_KEEP_DAYS
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_environment(
        cls, env: Mapping[str, str] = os.environ, options: Any = None
    ) -> Optional["HandoffSettings"]:
        """The settings, or None when no staff webhook is configured (the form is then not offered).

        `options`: the channel's `handoff:` block in credentials.yml (retry_seconds, keep_days,
        timeout). Raises `HandoffConfigError` when only one of the two variables is set, the
        secret is short, or the address would send personal details unencrypted.
        """
        url, secret = (env.get(URL_VARIABLE) or "").strip(), (env.get(SECRET_VARIABLE) or "").strip()
        if not url and not secret:
            return None
        if not url or not secret:
            missing = URL_VARIABLE if not url else SECRET_VARIABLE
            raise HandoffConfigError(
                f"{missing} is not set: set both {URL_VARIABLE} and {SECRET_VARIABLE} "
                "for handoff requests, or neither (README, 'Website widget')"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise HandoffConfigError(
                f"{SECRET_VARIABLE} must be at least {MIN_SECRET_LENGTH} characters "
                "(e.g. `openssl rand -hex 32`)"
            )
        parts = urlsplit(url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise HandoffConfigError(
                f"{URL_VARIABLE} must start with https:// (people's phone numbers "
                "travel in it); plain http:// is allowed to this machine only"
            )
        options = options if isinstance(options, dict) else {}
        retries = options.get("retry_seconds", DEFAULT_RETRY_SECONDS)
        if not isinstance(retries, (list, tuple)) or not all(
            isinstance(s, (int, float)) and s > 0 for s in retries
        ):
            raise HandoffConfigError("webchat: handoff.retry_seconds must be a list of positive seconds")
        db = Path(env.get(DB_VARIABLE) or DEFAULT_DB)
        return cls(
            url=url,
            secret=secret,
            db=db,
            retry_seconds=tuple(float(s) for s in retries),
            keep_days=float(options.get("keep_days", DEFAULT_KEEP_DAYS)),
            timeout=float(options.get("timeout", DEFAULT_TIMEOUT)),
        )


# ---- what a person sends ------------------------------------------------------------------


def _phone(raw: Any) -> str:
    if raw is None or raw == "":
        return ""
    text = str(raw).translate(_DIGITS).strip() if isinstance(raw, str) else ""
    digits = re.sub(r"\D", "", text)
    if not _PHONE_CHARS.fullmatch(text) or not 6 <= len(digits) <= 15 or "+" in text[1:]:
        raise Refused(400, "invalid_phone", "'phone' is not a phone number")
    return " ".join(text.split())


def _email(raw: Any) -> str:
    if raw is None or raw == "":
        return ""
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        raise Refused(400, "invalid_email", "'email' is not an e-mail address")
    return text


def parse_handoff(body: bytes) -> Dict[str, Any]:
    """`{"sender", "conversation_key", "name", "phone"?, "email"?, "consent": true, "lang"?}`, checked."""
    if len(body) > MAX_BODY_BYTES:
        raise Refused(400, "body_too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Refused(400, "invalid_json", 'the body is not JSON; send {"sender", "name", "phone", ...}')
    if not isinstance(payload, dict):
        raise Refused(400, "invalid_json", "the body must be a JSON object")
    sender, key = payload.get("sender"), payload.get("conversation_key")
    if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
        raise Refused(400, "invalid_sender", "'sender' is missing or invalid: 1-128 letters, digits or _.:@-")
    if key is not None and (not isinstance(key, str) or not _KEY.fullmatch(key)):
        raise Refused(400, "invalid_conversation_key", "'conversation_key' is not a conversation key")
    name = clean_user_text(payload["name"]) if isinstance(payload.get("name"), str) else ""
    if not name or len(name) > 100:
        raise Refused(400, "invalid_name", "'name' is missing or longer than 100 characters")
    phone, email = _phone(payload.get("phone")), _email(payload.get("email"))
    if not phone and not email:
        raise Refused(400, "contact_needed", "give a 'phone' or an 'email' (or both)")
    if payload.get("consent") is not True:
        raise Refused(400, "consent_needed", "'consent' must be true: the person agreed to be contacted")
    lang = payload.get("lang") if payload.get("lang") in LANGUAGES else None
    return {
        "sender": sender,
        "conversation_key": key,
        "name": name,
        "phone": phone,
        "email": email,
        "lang": lang,
    }


# ---- where requests are kept --------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    sender TEXT NOT NULL,
    created_at REAL NOT NULL,
    payload TEXT NOT NULL,          -- what the staff webhook receives (the person's details)
    status TEXT NOT NULL,           -- pending | delivered | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_until REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS requests_due ON requests (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS requests_sender ON requests (sender);
"""


class HandoffStore:
    """The requests, in one SQLite file that only the bot's user can read."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        with self._db() as db:
            db.executescript(_SCHEMA)

    def _db(self) -> "_Closing":
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        db.row_factory = sqlite3.Row
        return _Closing(db)

    def add(self, request_id: str, sender: str, payload: Dict[str, Any], now: float) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO requests (id, sender, created_at, payload, status, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (request_id, sender, now, json.dumps(payload, ensure_ascii=False), PENDING, now),
            )

    def count(self, sender: str) -> int:
        with self._db() as db:
            return db.execute("SELECT COUNT(*) FROM requests WHERE sender = ?", (sender,)).fetchone()[0]

    def claim(
        self, now: float, lease: float, request_id: Optional[str] = None, limit: int = 20
    ) -> List[dict]:
        """Pending requests that are due (or the one asked for), leased to this process for `lease` s."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                where = "status = ? AND claimed_until <= ?"
                args: List[Any] = [PENDING, now]
                if request_id is None:
                    where += " AND next_attempt_at <= ?"
                    args.append(now)
                else:
                    where += " AND id = ?"
                    args.append(request_id)
                rows = [
                    dict(r)
                    for r in db.execute(
                        f"SELECT id, payload, attempts FROM requests WHERE {where} ORDER BY next_attempt_at LIMIT ?",
                        (*args, limit),
                    )
                ]
                for row in rows:
                    db.execute("UPDATE requests SET claimed_until = ? WHERE id = ?", (now + lease, row["id"]))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return rows

    def finish(
        self, request_id: str, status: str, attempts: int, now: float, error: Optional[str] = None
    ) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE requests SET status = ?, attempts = ?, last_error = ?, finished_at = ?, "
                "claimed_until = 0 WHERE id = ?",
                (status, attempts, error, now, request_id),
            )

    def retry_later(self, request_id: str, attempts: int, at: float, error: str) -> None:
        with self._db() as db:
            db.execute(
                "UPDATE requests SET attempts = ?, next_attempt_at = ?, last_error = ?, claimed_until = 0 "
                "WHERE id = ?",
                (attempts, at, error, request_id),
            )

    def status(self, request_id: str) -> Optional[dict]:
        with self._db() as db:
            row = db.execute(
                "SELECT status, attempts, last_error FROM requests WHERE id = ?", (request_id,)
            ).fetchone()
        return dict(row) if row else None

    def next_due(self) -> Optional[float]:
        with self._db() as db:
            row = db.execute(
                "SELECT MIN(MAX(next_attempt_at, claimed_until)) FROM requests WHERE status = ?", (PENDING,)
            ).fetchone()
        return row[0] if row else None

    def purge(self, before: float) -> int:
        """Delete finished requests (and so the details they hold) finished before `before`."""
        with self._db() as db:
            return db.execute(
                "DELETE FROM requests WHERE status != ? AND finished_at < ?", (PENDING, before)
            ).rowcount


class _Closing:
    """`with store._db() as db`: the connection is closed afterwards (sqlite3's own context
    manager only commits)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc) -> None:
        self.db.close()


# ---- delivering them ------------------------------------------------------------------------

# send(payload) -> None when the staff webhook accepted it, else a short reason (no content)
Sender = Callable[[Dict[str, Any]], Awaitable[Optional[str]]]


def webhook_sender(settings: HandoffSettings) -> Sender:
    """POST the request as JSON to the staff webhook with the shared secret."""
    import aiohttp

    async def send(payload: Dict[str, Any]) -> Optional[str]:
        headers = {
            SECRET_HEADER: settings.secret,
            "X-Handoff-Id": payload["id"],
            "User-Agent": "clinic-bot-handoff/1",
        }
        try:
            async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=settings.timeout)
            ) as session:
                async with session.post(
                    settings.url, json=payload, headers=headers, allow_redirects=False
                ) as resp:
                    return None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
        except asyncio.TimeoutError:
            return "timeout"
        except aiohttp.ClientError as err:
            return type(err).__name__

    return send


class HandoffDesk:
    """Takes requests, keeps them, and hands them to the staff webhook until it has them."""

    def __init__(
        self, settings: HandoffSettings, send: Optional[Sender] = None, clock: Callable[[], float] = time.time
    ):
        self.settings = settings
        self.store = HandoffStore(settings.db)
        self.send = send or webhook_sender(settings)
        self.clock = clock
        self._wake: Optional[asyncio.Event] = None

    def _lease(self) -> float:
        return self.settings.timeout + 5

    async def submit(self, sender: str, payload: Dict[str, Any]) -> Tuple[str, str]:
        """Keep the request, try to deliver it at once; (request id, "delivered" | "queued")."""
        request_id = uuid.uuid4().hex
        now = self.clock()
        payload = {
            **payload,
            "id": request_id,
            "created_at": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
        }
        await asyncio.to_thread(self.store.add, request_id, sender, payload, now)
        logger.info("handoff: request %s kept; delivering it to the staff webhook", request_id)
        rows = await asyncio.to_thread(self.store.claim, now, self._lease(), request_id)
        for row in rows:
            await self._attempt(row)
        status = await asyncio.to_thread(self.store.status, request_id)
        if self._wake is not None:
            self._wake.set()
        return request_id, DELIVERED if status and status["status"] == DELIVERED else "queued"

    async def _attempt(self, row: dict) -> None:
        attempts = int(row["attempts"]) + 1
        payload = {**json.loads(row["payload"]), "attempt": attempts}
        try:
            error = await self.send(payload)
        except Exception as err:  # noqa: BLE001 - a broken transport must not stop the loop
            error = type(err).__name__
        now = self.clock()
        if error is None:
            await asyncio.to_thread(self.store.finish, row["id"], DELIVERED, attempts, now)
            logger.info(
                "handoff: request %s delivered to the staff webhook (attempt %d)", row["id"], attempts
            )
        elif attempts > len(self.settings.retry_seconds):
            await asyncio.to_thread(self.store.finish, row["id"], FAILED, attempts, now, error)
            logger.error(
                "handoff: request %s could not be delivered after %d attempts (%s); it is kept "
                "in %s with status 'failed'",
                row["id"],
                attempts,
                error,
                self.settings.db,
            )
        else:
            delay = self.settings.retry_seconds[attempts - 1]
            await asyncio.to_thread(self.store.retry_later, row["id"], attempts, now + delay, error)
            logger.warning(
                "handoff: request %s not delivered (%s); next attempt in %.0f s", row["id"], error, delay
            )

    async def deliver_due(self) -> int:
        """Attempt every request whose time has come; the number attempted."""
        rows = await asyncio.to_thread(self.store.claim, self.clock(), self._lease())
        for row in rows:
            await self._attempt(row)
        return len(rows)

    async def run(self, poll: float = 30.0) -> None:
        """The background loop (one per server process): due requests, then a wait."""
        self._wake = asyncio.Event()
        purged_at = 0.0
        while True:
            try:
                if self.clock() - purged_at > 3600:
                    purged_at = self.clock()
                    gone = await asyncio.to_thread(
                        self.store.purge, purged_at - self.settings.keep_days * 86400
                    )
                    if gone:
                        logger.info(
                            "handoff: deleted %d finished request(s) older than %g days",
                            gone,
                            self.settings.keep_days,
                        )
                while await self.deliver_due():
                    pass
                due = await asyncio.to_thread(self.store.next_due)
                wait = poll if due is None else min(poll, max(0.05, due - self.clock()))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - e.g. the disk is full: try again later
                logger.exception("handoff: the delivery loop failed; trying again in %.0f s", poll)
                wait = poll
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass


# ---- the route ------------------------------------------------------------------------------


async def request_for_staff(
    agent: Any, parsed: Dict[str, Any], now: Optional[datetime] = None
) -> Dict[str, Any]:
    """What the staff webhook receives about this request; refused (404) if the conversation was
    never offered a member of staff. The branch is the one the conversation's region goes to."""
    from rasa.shared.core.events import BotUttered

    from bot.core.clinic_contact import clinics
    from bot.core.i18n import WIDGET_STRINGS, interface_text

    if agent is None or getattr(agent, "tracker_store", None) is None:
        raise Refused(503, "unavailable", "the assistant is not ready; please try again")
    history = await agent.tracker_store.retrieve_full_tracker(parsed["sender"])
    offered = [
        e
        for e in (history.events if history else [])
        if isinstance(e, BotUttered) and (e.metadata or {}).get("answer_id") == HANDOFF_ANSWER
    ]
    if not offered:
        raise Refused(404, "no_handoff_answer", "this conversation was not offered a member of staff")
    lang = parsed["lang"] or (offered[-1].metadata or {}).get("lang") or "en"
    region = history.get_slot("region") if "region" in history.slots else None
    clinic = clinics().for_region(region)
    now = now or datetime.now(timezone.utc)
    consent = WIDGET_STRINGS["handoff_consent"]
    return {
        "type": "handoff_request",
        "clinic": {"id": clinic.id, "name": clinic.name.get("en", "")},
        "region": region,
        "language": lang,
        "name": parsed["name"],
        "phone": parsed["phone"],
        "email": parsed["email"],
        "consent": {"given": True, "text": interface_text(lang, consent), "text_en": consent},
        "staff_there_now": clinic.is_open(now),
        "conversation_id": parsed["sender"],
    }


def register_handoff_route(
    blueprint: Blueprint, desk: Optional[HandoffDesk], admit: Optional[Admission] = None
) -> None:
    """`POST /handoff` on the channel's blueprint, and the delivery loop once the server runs."""

    @blueprint.route("/handoff", methods=["POST"])
    async def handoff(request: Request) -> HTTPResponse:
        if desk is None:
            return Refused(
                404,
                "handoff_off",
                "this bot takes no contact requests (no staff webhook is "
                "configured); use the clinic's contact details",
            ).as_response()
        try:
            parsed = parse_handoff(request.body or b"")
            # the conversation's key before anything is read, as for feedback
            refusal = await admit(request, parsed["sender"], parsed["conversation_key"]) if admit else None
            if refusal is not None:
                return refusal
            payload = await request_for_staff(getattr(request.app.ctx, "agent", None), parsed)
            if await asyncio.to_thread(desk.store.count, parsed["sender"]) >= MAX_PER_CONVERSATION:
                raise Refused(
                    429,
                    "too_many_handoff_requests",
                    "this conversation has already left "
                    f"{MAX_PER_CONVERSATION} requests; please contact the clinic directly",
                )
            request_id, status = await desk.submit(parsed["sender"], payload)
        except Refused as refused:
            return refused.as_response()
        except Exception:  # noqa: BLE001 - never a 500; the person is told to try again or call
            logger.exception("webchat: a handoff request could not be kept")
            return Refused(
                503,
                "unavailable",
                "the request could not be kept; please try again, " "or contact the clinic directly",
            ).as_response()
        return response.json({"status": status, "id": request_id}, status=200 if status == DELIVERED else 202)

    @blueprint.listener("after_server_start")
    async def start_delivering(app: Any, _loop: Any) -> None:
        if desk is not None:
            app.add_task(desk.run())
