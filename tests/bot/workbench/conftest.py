"""A real workbench on a free port (in a thread), on a copy of the project and a tracker store
written with Rasa's own SQLTrackerStore, and a client that keeps its cookies like a browser."""

from __future__ import annotations

import asyncio
import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tools.servers import free_port
from bot.workbench.accounts import Accounts
from bot.workbench.app import Workbench, make_app
from bot.workbench.settings import Settings
from bot.workbench.store import StoreSettings
from tests.bot.tools.content.conftest import copy_project

PASSWORD = "correct horse battery"


def user(text, intent, confidence=0.95, verdict=None, lang=None, ranking=(), at=None, channel="webchat"):
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "intent_ranking": [{"name": intent, "confidence": confidence}]
        + [{"name": n, "confidence": c} for n, c in ranking],
    }
    if verdict is not False:
        parse["safety"] = {"verdict": verdict, "by": ["rules"] if verdict else []}
    if lang:
        parse["language"] = {"code": lang, "confidence": 0.9}
    return UserUttered(
        text, intent=parse["intent"], parse_data=parse, input_channel=channel, timestamp=at or time.time()
    )


def bot(answer_id, kind="answer", lang="en", at=None):
    return BotUttered(
        "…", metadata={"answer_id": answer_id, "kind": kind, "lang": lang}, timestamp=at or time.time()
    )


def region(code, at=None):
    return SlotSet("region", code, timestamp=at or time.time())


def save(db: Path, sender: str, events) -> None:
    """Store a conversation the way the bot does (Rasa's SQLTrackerStore)."""
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), *events])
    asyncio.run(store.save(tracker))


class Browser:
    """urllib with a cookie jar: what a browser sends (form posts, cookies), nothing more."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def request(
        self, path: str, data: Optional[dict] = None, headers: Optional[dict] = None, timeout: float = 120
    ) -> Tuple[int, str, Dict[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Accept": "text/html", **(headers or {})}
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode("utf-8"), dict(response.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace"), dict(err.headers)

    def get(self, path: str, **kw):
        return self.request(path, **kw)

    def post(self, path: str, data: dict, **kw):
        return self.request(path, data, **kw)

    def sign_in(self, name: str, password: str = PASSWORD) -> int:
        return self.post("/login", {"name": name, "password": password})[0]

    def csrf(self, path: str = "/inbox") -> str:
        status, page, _ = self.get(path)
        assert status == 200, page[:300]
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 303 is returned as it is, Location and all
        return None


class RunningWorkbench:
    def __init__(self, settings: Settings, accounts: Accounts):
        self.settings, self.accounts = settings, accounts
        self.port = settings.port
        self.url = f"http://127.0.0.1:{self.port}"
        self.workbench: Optional[Workbench] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from aiohttp import web

        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.workbench = Workbench(self.settings, self.accounts)
        runner = web.AppRunner(make_app(self.settings, self.workbench))
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._runner = runner
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def start(self) -> "RunningWorkbench":
        self._thread.start()
        assert self._ready.wait(60), "the workbench did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def browser(self) -> Browser:
        return Browser(self.url)

    def refresh(self) -> None:
        """Read what the bot wrote since (the page does it every refresh_seconds too)."""
        self.workbench.index.refresh(wait=True)

    def add_staff(self, name: str, role: str, registration: str = "") -> None:
        self.accounts.set_staff(name, role, PASSWORD, registration)


@pytest.fixture
def project(tmp_path):
    return copy_project(tmp_path / "project")


@pytest.fixture
def tracker_db(tmp_path) -> Path:
    return tmp_path / "tracker.db"


@pytest.fixture
def start_workbench(tmp_path, project, tracker_db) -> Callable[..., RunningWorkbench]:
    started: List[RunningWorkbench] = []

    def start(clock=time.time, **overrides) -> RunningWorkbench:
        settings = Settings(
            content=project,
            store=StoreSettings(sqlite=tracker_db),
            var_dir=tmp_path / "var",
            models_dir=tmp_path / "models",
            port=free_port(),
            refresh_seconds=0.2,
            validate_with_rasa=False,
            **overrides,
        )
        accounts = Accounts(settings.accounts_db, clock=clock)
        running = RunningWorkbench(settings, accounts).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
