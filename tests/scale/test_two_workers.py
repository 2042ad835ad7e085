"""`make run WORKERS=2`: one Rasa server on both cores, two Sanic workers on one SQLite store.

Each worker keeps recent conversations in memory (bot/rasa_server/tracker_store.py) and must notice
when the other worker has written to a conversation since; the Redis lock store keeps a
conversation's messages in order across the workers. Many conversations at once, so the
kernel spreads each conversation's messages over both workers.
"""

import asyncio
import sqlite3
from typing import Dict, List, Tuple

import aiohttp
import pytest

from tests.scale.test_scale_out import answer_ids, button, plan, post, stored_turns


@pytest.fixture(scope="module")
def two_workers(redis_server, tmp_path_factory):
    from bot.rasa_server.channels._ratelimit import ONE_ADDRESS_FOR_MANY
    from bot.tools.model import train
    from bot.tools.servers import BotServers

    train()
    run_dir = tmp_path_factory.mktemp("two-workers")
    servers = BotServers.in_folder(
        run_dir,
        workers=2,
        redis_lock_port=redis_server.port,
        webchat_settings={"rate_limits": ONE_ADDRESS_FOR_MANY},
    )
    with servers:
        yield servers


def test_two_workers_answer_every_message_once_in_order(two_workers, sender_prefix):
    senders = [f"{sender_prefix}-w{i}" for i in range(12)]
    plans: Dict[str, List[str]] = {s: plan(s, 10, 2) for s in senders}
    replies: Dict[str, List[Tuple[str, int, list]]] = {s: [] for s in senders}

    async def converse(session, sender: str) -> None:
        for topic in plans[sender]:
            status, body = await post(session, two_workers.webhook, sender, topic)
            replies[sender].append((topic, status, answer_ids(body)))

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(converse(session, s) for s in senders))

    asyncio.run(main())
    with sqlite3.connect(two_workers.tracker_db) as db:
        for sender in senders:
            assert [(t, 200, [t]) for t in plans[sender]] == replies[sender], sender
            rows = db.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id", (sender,))
            stored = stored_turns(list(rows))
            assert [text for text, _ in stored] == [button(t) for t in plans[sender]], sender
            assert all(len(ids) == 1 for _, ids in stored), stored
    rasa = two_workers.pid("rasa")
    with open(f"/proc/{rasa}/task/{rasa}/children") as children:
        assert len(children.read().split()) >= 2, "two Sanic worker processes"
