"""A clinic's staff webhook on loopback: what a help desk or CRM behind HANDOFF_WEBHOOK_URL receives.

Records every POST (headers and JSON body). `fail_next(n, status)` makes the next `n`
deliveries fail with `status`, to see the bot retry.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import List, Optional

# How often serve_forever looks for shutdown(): its default (0.5 s) is added to every stop.
POLL = 0.02


class FakeStaffWebhook:
    def __init__(self, secret: str):
        self.secret = secret
        self.received: List[dict] = []  # accepted deliveries: {"headers", "body", "at"}
        self.refused: List[dict] = []  # deliveries answered with an error
        self._failures: List[int] = []
        self._lock = threading.Lock()
        webhook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                record = {
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": json.loads(body or b"null"),
                    "at": time.monotonic(),
                }
                with webhook._lock:
                    status = webhook._failures.pop(0) if webhook._failures else None
                    if status is None and record["headers"].get("x-handoff-secret") != webhook.secret:
                        status = 401
                    (webhook.refused if status else webhook.received).append(record)
                self.send_response(status or 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/handoff"
        threading.Thread(target=self.server.serve_forever, args=(POLL,), daemon=True).start()

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures = [status] * count

    def wait_for(self, predicate, timeout: float = 30) -> Optional[dict]:
        """The first accepted delivery whose body satisfies `predicate`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = next((r for r in self.received if predicate(r["body"])), None)
            if found:
                return found
            time.sleep(0.05)
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
