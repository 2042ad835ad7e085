"""The staff workbench on the scale-out setup's tracker store: PostgreSQL, read only.

Rasa's own SQLTrackerStore writes conversations to a real PostgreSQL (endpoints.production.yml's
settings from the environment, as docs/deploy.md gives them); the workbench reads them through
`WORKBENCH_ENDPOINTS`-style settings, in read-only transactions, while more are written.
"""

import asyncio

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT
from bot.workbench.conversations import ConversationIndex
from bot.workbench.store import from_endpoints
from tests.bot.workbench.conftest import bot, user

# A database of its own: the scale-out tests write their conversations to the cluster's default one.
DATABASE = "workbench_read_test"


def _env(postgres_server):
    return {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(postgres_server.port),
        "DB_NAME": DATABASE,
        "DB_USER": postgres_server.user,
        "DB_PASSWORD": "",
    }


def test_the_workbench_reads_the_postgresql_tracker_store_read_only(postgres_server):
    postgres_server.create_database(DATABASE)
    settings = from_endpoints(PROJECT_ROOT / "endpoints.production.yml", _env(postgres_server))
    index = ConversationIndex(settings.open())
    index.refresh()  # before Rasa has created its table: empty, not an error
    assert index.available and index.events_read == 0
    store = SQLTrackerStore(
        Domain.empty(),
        dialect="postgresql",
        host="127.0.0.1",
        port=postgres_server.port,
        db=DATABASE,
        username=postgres_server.user,
        password="",
    )

    async def write(sender, text):
        tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
        tracker.update(user(text, "nlu_fallback", 0.3, ranking=[("ask_cost", 0.3)]))
        tracker.update(bot("fallback.not_understood", "fallback"))
        await store.save(tracker)

    for n in range(30):
        asyncio.run(write(f"web-{n % 7}", f"how much for meso number {n}"))
    index.refresh()
    assert {t.text for c in index.snapshot() for t in c.flagged} == {
        f"how much for meso number {n}" for n in range(30)
    }
    asyncio.run(write("web-late", "one more question about the price"))
    index.refresh()
    assert "one more question about the price" in {t.text for c in index.snapshot() for t in c.flagged}
    # its connections cannot write
    with pytest.raises(sa.exc.DBAPIError, match="read-only"):
        with index.source.engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM events"))
