"""The real bot: the trained model, the action server and the Rasa server, on free ports."""

import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from bot.rasa_server.channels._ratelimit import ONE_ADDRESS_FOR_MANY
from bot.tools.model import train
from bot.tools.servers import BotServers, say
from tests.support.fake_staff_webhook import FakeStaffWebhook

# The clinic's staff webhook for handoff requests (issue 14): a fake receiver on loopback.
STAFF_WEBHOOK_SECRET = "e2e-staff-webhook-secret-0123456789"
# Retries a few tenths of a second apart, so a test sees a request delivered after failures.
HANDOFF_RETRY_SECONDS = [0.5, 1, 2]


class Conversation:
    """One web-widget conversation: says things, returns the bot's messages."""

    def __init__(self, servers: BotServers, metadata=None):
        self.servers = servers
        self.sender = f"test-{uuid.uuid4().hex[:12]}"
        self.metadata = metadata or {}

    def say(self, message: str, **metadata):
        # A person typing a test's questions one after another would be told to slow down
        # (the conversation's own rate limit, tested in test_rate_limits.py); like the widget,
        # wait as long as the bot asks, then send again.
        for _ in range(5):
            status, body = say(self.servers.webhook, self.sender, message, {**self.metadata, **metadata})
            if status != 429:
                break
            time.sleep(float(body.get("retry_after", 1)) if isinstance(body, dict) else 1.0)
        assert status == 200, body
        assert isinstance(body, list) and body, f"no reply to {message!r}"
        return body


@pytest.fixture(scope="session")
def staff_webhook() -> FakeStaffWebhook:
    hook = FakeStaffWebhook(STAFF_WEBHOOK_SECRET)
    yield hook
    hook.close()


@pytest.fixture(scope="session")
def bot(tmp_path_factory, staff_webhook) -> BotServers:
    train()  # once per run: a no-op when `make test` has just trained
    run_dir: Path = tmp_path_factory.mktemp("bot")
    # Every end-to-end test talks from one client address (the red team alone sends 1,100
    # messages): its address limits are lifted; conversations keep theirs. The committed
    # limits are tested on a bot of their own (test_rate_limits.py). Handoff requests go to
    # the fake staff webhook.
    servers = BotServers.in_folder(
        run_dir,
        extra_env={"HANDOFF_WEBHOOK_URL": staff_webhook.url, "HANDOFF_WEBHOOK_SECRET": STAFF_WEBHOOK_SECRET},
        webchat_settings={
            "rate_limits": ONE_ADDRESS_FOR_MANY,
            "handoff": {"retry_seconds": HANDOFF_RETRY_SECONDS},
        },
    )
    with servers:
        yield servers


@pytest.fixture
def conversation(bot):
    return lambda **metadata: Conversation(bot, metadata)


@pytest.fixture
def tracker_events(bot):
    def read(sender: str):
        with sqlite3.connect(bot.tracker_db) as db:
            rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,))
            return list(rows)

    return read
