"""The scale-out set-up: PostgreSQL, Redis, two Rasa servers and two action servers.

These tests install nothing themselves: `make test-scale` installs Debian's postgresql
and redis-server first and sets SCALE_TESTS=1. Under plain `make test` (no SCALE_TESTS)
they are not collected, so the main suite needs neither database.
"""

import os
import time
import uuid
from pathlib import Path

import pytest

from bot import PROJECT_ROOT

if os.environ.get("SCALE_TESTS") != "1":
    collect_ignore_glob = ["test_*.py"]

# SCALE_ENDPOINTS: another endpoints file, e.g. with Rasa's own `type: redis` lock store to
# see this test fail without bot/rasa_server/lockstore.py (docs/deploy.md, "Why our own lock store").
PRODUCTION_ENDPOINTS = Path(os.environ.get("SCALE_ENDPOINTS") or PROJECT_ROOT / "endpoints.production.yml")
# A crashed server's ticket blocks its conversation until it expires (Rasa: 60 s); see docs/deploy.md.
LOCK_LIFETIME_SECONDS = 15
SHARED_WEBCHAT_SECRET = uuid.uuid4().hex + uuid.uuid4().hex


@pytest.fixture(scope="session")
def redis_server():
    from bot.tools.services import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server():
    from bot.tools.services import PostgresServer

    with PostgresServer() as server:
        yield server


def production_env(postgres_server, redis_server, action_port: int) -> dict:
    """The environment endpoints.production.yml reads, as docs/deploy.md describes it."""
    return {
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(postgres_server.port),
        "DB_NAME": postgres_server.database,
        "DB_USER": postgres_server.user,
        "DB_PASSWORD": "",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": str(redis_server.port),
        "REDIS_DB": "1",
        "REDIS_PASSWORD": "",
        "TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME_SECONDS),
        # shared by every replica, as docs/deploy.md says: a conversation's key works on both
        "WEBCHAT_SECRET": SHARED_WEBCHAT_SECRET,
    }


@pytest.fixture(scope="module")
def cluster(postgres_server, redis_server, tmp_path_factory):
    """Two (Rasa server, action server) pairs sharing PostgreSQL and Redis, started in parallel."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.rasa_server.channels._ratelimit import ONE_ADDRESS_FOR_MANY
    from bot.tools.model import train
    from bot.tools.servers import BotServers, free_port

    train()
    # Logs under var/ (not pytest's rotated temporary directories), to read after a failure.
    tmp_path = PROJECT_ROOT / "var" / "scale" / time.strftime("%Y%m%d-%H%M%S")
    pairs = []
    for name in ("a", "b"):
        action_port = free_port()
        pairs.append(
            BotServers(
                rasa_port=free_port(),
                action_port=action_port,
                tracker_db=tmp_path / "unused.db",
                logs_dir=tmp_path / f"logs-{name}",
                endpoints_source=PRODUCTION_ENDPOINTS,
                extra_env=production_env(postgres_server, redis_server, action_port),
                # the test is one client address playing 20 people at once (the limits: test_ratelimit_redis.py)
                webchat_settings={"rate_limits": ONE_ADDRESS_FOR_MANY},
            )
        )
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda p: p.start(), pairs))
        yield pairs
    finally:
        for pair in pairs:
            pair.stop()


@pytest.fixture
def sender_prefix():
    return f"scale-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def tracker_rows(postgres_server):
    """(type_name, data) of a conversation's events in PostgreSQL, in stored order."""
    import psycopg2

    def read(sender: str):
        with (
            psycopg2.connect(
                host="127.0.0.1",
                port=postgres_server.port,
                user=postgres_server.user,
                dbname=postgres_server.database,
            ) as db,
            db.cursor() as cur,
        ):
            cur.execute("SELECT type_name, data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            return cur.fetchall()

    return read
