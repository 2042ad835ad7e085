"""Rasa's Redis lock store against ours, on a real Redis, with several servers' worth of clients.

Each thread stands for one Rasa server: its own lock-store instance and connection,
taking tickets for the same conversation at the same time, as two servers do when a
person's messages arrive at both.
"""

import threading
from collections import Counter

from rasa.core.lock_store import RedisLockStore

from bot.rasa_server.lockstore import AtomicRedisLockStore

SERVERS = 6
TICKETS_EACH = 40


def _take_tickets(store_class, redis_server, conversation: str) -> Counter:
    stores = [store_class(host="127.0.0.1", port=redis_server.port, db=2) for _ in range(SERVERS)]
    start = threading.Barrier(SERVERS)
    issued: list = []

    def server(store) -> None:
        start.wait()
        for _ in range(TICKETS_EACH):
            issued.append(store.issue_ticket(conversation, lock_lifetime=60))

    threads = [threading.Thread(target=server, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Counter(issued)


def test_rasa_redis_lock_store_hands_out_one_ticket_twice(redis_server):
    # The problem this module exists for: GET then SET lets two servers take the same
    # ticket, so both process the same conversation at once.
    tickets = _take_tickets(RedisLockStore, redis_server, "stock-race")
    assert any(n > 1 for n in tickets.values()), "no duplicate ticket: the race did not show this time"


def test_atomic_lock_store_hands_out_every_ticket_once(redis_server):
    tickets = _take_tickets(AtomicRedisLockStore, redis_server, "atomic-race")
    assert sorted(tickets) == list(range(SERVERS * TICKETS_EACH))
    assert set(tickets.values()) == {1}


def test_finishing_a_ticket_never_deletes_a_ticket_issued_meanwhile(redis_server):
    store = AtomicRedisLockStore(host="127.0.0.1", port=redis_server.port, db=2)
    other = AtomicRedisLockStore(host="127.0.0.1", port=redis_server.port, db=2)
    first = store.issue_ticket("handover")
    second = other.issue_ticket("handover")
    store.cleanup("handover", first)  # the lock still holds `second`: not deleted
    lock = other.get_lock("handover")
    assert lock is not None and not lock.is_locked(second)
    other.cleanup("handover", second)
    assert other.get_lock("handover") is None


def test_messages_of_one_conversation_are_served_in_ticket_order(redis_server):
    import asyncio

    servers = [AtomicRedisLockStore(host="127.0.0.1", port=redis_server.port, db=2) for _ in range(2)]
    served: list = []

    async def message(n: int) -> None:
        await asyncio.sleep(n * 0.01)  # arrival order 0, 1, 2, ... alternating between the servers
        async with servers[n % 2].lock("ordered", wait_time_in_seconds=0.01):
            await asyncio.sleep(0.02)  # processing
            served.append(n)

    async def main() -> None:
        await asyncio.gather(*(message(n) for n in range(10)))

    asyncio.run(main())
    assert served == list(range(10))


def test_built_from_the_production_endpoint_config(redis_server):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(
        url="127.0.0.1",
        type="bot.rasa_server.lockstore.AtomicRedisLockStore",
        port=str(redis_server.port),
        db="3",
        password="",
    )
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.issue_ticket("from-config") == 0


def test_a_message_waiting_behind_a_crashed_servers_ticket_gets_its_turn(redis_server):
    # Server "a" took a ticket and died; its ticket lives until it expires. The message
    # waiting on server "b" (its ticket issued just after) must then be served, not fail
    # because its own ticket expired while it waited.
    import asyncio

    lifetime = 0.6
    crashed = AtomicRedisLockStore(host="127.0.0.1", port=redis_server.port, db=2)
    crashed.issue_ticket("crash", lock_lifetime=lifetime)  # never finished
    survivor = AtomicRedisLockStore(host="127.0.0.1", port=redis_server.port, db=2)

    async def handle() -> float:
        started = asyncio.get_running_loop().time()
        async with survivor.lock("crash", lock_lifetime=lifetime, wait_time_in_seconds=0.25):
            return asyncio.get_running_loop().time() - started

    waited = asyncio.run(asyncio.wait_for(handle(), timeout=10))
    assert lifetime * 0.8 <= waited < lifetime + 1.0
    assert survivor.get_lock("crash") is None
