"""A stand-in for Meta's Graph API on loopback, for the WhatsApp channel's tests.

It accepts `POST /<version>/<phone_number_id>/messages` like the real Cloud API, checks
the access token and the limits WhatsApp enforces (a message over a limit is refused with
a 400, as the real API does, so a test sees the reply go missing), and records every
attempt. Tests can make it answer 500 (or anything) for one recipient.

Read receipts and typing indicators (`{"status": "read", "message_id", "typing_indicator"}`)
are recorded apart, in `acknowledgements`; tests can make them fail or hang.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Deque, Dict, Iterable, List, Optional

# How often serve_forever looks for shutdown(): its default (0.5 s) is added to every stop.
POLL = 0.02


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def problems_in(message: Dict[str, Any]) -> List[str]:
    """What the real Cloud API would refuse in this message object."""
    found = []
    if message.get("messaging_product") != "whatsapp":
        found.append("messaging_product must be whatsapp")
    if not str(message.get("to") or "").isdigit():
        found.append("to must be a phone number")
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body") or ""
        if not body.strip() or _units(body) > 4096:
            found.append(f"text body must be 1-4096 characters, got {_units(body)}")
    elif kind == "interactive":
        interactive = message.get("interactive") or {}
        body = (interactive.get("body") or {}).get("text") or ""
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            buttons = action.get("buttons") or []
            if not body.strip() or _units(body) > 1024:
                found.append(f"button body must be 1-1024 characters, got {_units(body)}")
            if not 1 <= len(buttons) <= 3:
                found.append("1-3 reply buttons")
            titles = [b["reply"]["title"] for b in buttons]
            if len(set(titles)) != len(titles) or any(not t or _units(t) > 20 for t in titles):
                found.append("button titles must be unique and 1-20 characters")
            if any(not b["reply"]["id"] or len(b["reply"]["id"]) > 256 for b in buttons):
                found.append("button ids must be 1-256 characters")
        elif interactive.get("type") == "list":
            if not body.strip() or _units(body) > 4096:
                found.append("list body must be 1-4096 characters")
            if not 1 <= _units(action.get("button") or "") <= 20:
                found.append("list button label must be 1-20 characters")
            rows = [r for s in action.get("sections") or [] for r in s.get("rows") or []]
            if not 1 <= len(rows) <= 10:
                found.append("1-10 list rows")
            for row in rows:
                if not row.get("title") or _units(row["title"]) > 24:
                    found.append(f"row title must be 1-24 characters: {row.get('title')!r}")
                if _units(row.get("description") or "") > 72:
                    found.append("row description must be at most 72 characters")
                if not row.get("id") or len(row["id"]) > 200:
                    found.append("row id must be 1-200 characters")
        else:
            found.append(f"unknown interactive type {interactive.get('type')!r}")
    else:
        found.append(f"unknown message type {kind!r}")
    return found


@dataclass
class Attempt:
    to: str
    message: Dict[str, Any]
    status: int
    at: float
    wamid: str = ""  # the id the fake gave an accepted message (what a reaction names)


@dataclass
class Acknowledgement:
    """A read receipt, with the typing indicator or not."""

    message_id: str
    typing: bool
    status: int
    at: float


def acknowledgement_problems(body: Dict[str, Any]) -> List[str]:
    """What the real Cloud API would refuse in a mark-as-read (and typing) request."""
    found = []
    if body.get("messaging_product") != "whatsapp":
        found.append("messaging_product must be whatsapp")
    if not str(body.get("message_id") or "").startswith("wamid."):
        found.append("message_id must be the wamid of a received message")
    typing = body.get("typing_indicator")
    if typing is not None and typing != {"type": "text"}:
        found.append('typing_indicator must be {"type": "text"}')
    return found


class FakeGraphAPI:
    """Run with `with FakeGraphAPI(token, phone_number_id) as api:`; `api.url` is the base URL."""

    version = "v21.0"

    def __init__(self, access_token: str, phone_number_id: str) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.attempts: List[Attempt] = []
        self._scripts: Dict[str, Deque[int]] = defaultdict(deque)
        self._always: Dict[str, int] = {}
        self.acknowledgements: List[Acknowledgement] = []
        self._acknowledge_with: Optional[int] = None
        self._acknowledge_delay = 0.0
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{self.version}"

    # -- what the tests control -----------------------------------------------------------

    def answer(self, to: str, statuses: Iterable[int]) -> None:
        """The next attempts to `to` get these statuses, then 200 again."""
        with self._lock:
            self._scripts[to].extend(statuses)

    def answer_always(self, to: str, status: Optional[int]) -> None:
        """Every attempt to `to` gets `status` (None: back to normal)."""
        with self._lock:
            if status is None:
                self._always.pop(to, None)
            else:
                self._always[to] = status

    def fail_acknowledgements(self, status: Optional[int] = None, delay: float = 0.0) -> None:
        """Read receipts get `status` (None: 200) after `delay` seconds (a hanging API)."""
        with self._lock:
            self._acknowledge_with, self._acknowledge_delay = status, delay

    def acknowledged(self, message_id: str) -> List[Acknowledgement]:
        with self._lock:
            return [a for a in self.acknowledgements if a.message_id == message_id]

    def attempts_to(self, to: str) -> List[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.to == to]

    def delivered(self, to: str) -> List[Dict[str, Any]]:
        """The message objects the API accepted for `to`, in order."""
        return [a.message for a in self.attempts_to(to) if a.status == 200]

    def wait_for(self, to: str, count: int, timeout: float = 30.0, attempts: bool = False) -> List[Any]:
        """Wait until `count` messages were delivered to `to` (or attempted, with `attempts`)."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.attempts_to(to) if attempts else self.delivered(to)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    # -- the server -------------------------------------------------------------------------

    def _status_for(self, to: str) -> Optional[int]:
        with self._lock:
            if to in self._always:
                return self._always[to]
            if self._scripts[to]:
                return self._scripts[to].popleft()
        return None

    def __enter__(self) -> "FakeGraphAPI":
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet test output
                pass

            def _reply(self, status: int, payload: Dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.path != f"/{api.version}/{api.phone_number_id}/messages":
                    return self._reply(404, {"error": {"message": "Unknown path", "code": 100}})
                if self.headers.get("Authorization") != f"Bearer {api.access_token}":
                    return self._reply(401, {"error": {"message": "Invalid OAuth access token", "code": 190}})
                try:
                    message = json.loads(raw)
                except ValueError:
                    return self._reply(400, {"error": {"message": "Invalid JSON", "code": 100}})
                if isinstance(message, dict) and message.get("status") == "read":
                    return self._acknowledge(message)
                to = str(message.get("to") or "")
                status = api._status_for(to)
                wrong = problems_in(message)
                if status is None:
                    status = 400 if wrong else 200
                wamid = f"wamid.out-{uuid.uuid4().hex}" if status == 200 else ""
                with api._lock:
                    api.attempts.append(Attempt(to, message, status, time.time(), wamid))
                if status == 200:
                    return self._reply(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "contacts": [{"input": to, "wa_id": to}],
                            "messages": [{"id": wamid}],
                        },
                    )
                detail = "; ".join(wrong) or "Service temporarily unavailable"
                return self._reply(status, {"error": {"message": detail, "code": 131009 if wrong else 2}})

            def _acknowledge(self, body: Dict[str, Any]) -> None:
                with api._lock:
                    status, delay = api._acknowledge_with, api._acknowledge_delay
                if delay:
                    time.sleep(delay)
                wrong = acknowledgement_problems(body)
                status = status or (400 if wrong else 200)
                with api._lock:
                    api.acknowledgements.append(
                        Acknowledgement(
                            str(body.get("message_id") or ""), "typing_indicator" in body, status, time.time()
                        )
                    )
                error = {"message": "; ".join(wrong) or "Service unavailable", "code": 100 if wrong else 2}
                answer = {"success": True} if status == 200 else {"error": error}
                try:
                    self._reply(status, answer)
                except OSError:  # the bot stopped waiting (a hanging API): nobody reads the answer
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(POLL,), daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
