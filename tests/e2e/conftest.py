"""The real bot: the trained model, the action server and the Rasa server, on free ports."""

import sqlite3
import uuid
from pathlib import Path

import pytest

from bot.channels._ratelimit import ONE_ADDRESS_FOR_MANY
from bot.model import train
from bot.servers import BotServers, free_port, say


class Conversation:
    """One web-widget conversation: says things, returns the bot's messages."""

    def __init__(self, servers: BotServers, metadata=None):
        self.servers = servers
        self.sender = f"test-{uuid.uuid4().hex[:12]}"
        self.metadata = metadata or {}

    def say(self, message: str, **metadata):
        status, body = say(self.servers.webhook, self.sender, message, {**self.metadata, **metadata})
        assert status == 200, body
        assert isinstance(body, list) and body, f"no reply to {message!r}"
        return body


@pytest.fixture(scope="session")
def bot(tmp_path_factory) -> BotServers:
    train()  # once per run: a no-op when `make test` has just trained
    run_dir: Path = tmp_path_factory.mktemp("bot")
    # Every end-to-end test talks from one client address (the red team alone sends 1,100
    # messages): its address limits are lifted; conversations keep theirs. The committed
    # limits are tested on a bot of their own (test_rate_limits.py).
    servers = BotServers(rasa_port=free_port(), action_port=free_port(), tracker_db=run_dir / "tracker.db",
                         logs_dir=run_dir / "logs", webchat_settings={"rate_limits": ONE_ADDRESS_FOR_MANY})
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
