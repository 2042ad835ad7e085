"""Rate limits kept in Redis hold across replicas (issue 12, finding 6), on a real redis-server.

Two `RateLimiter`s stand for two Rasa servers behind a balancer: with the Redis lock
store configured they share every bucket, so a client spreading its requests over both
gets what one server would give it, not twice as much. The end-to-end version, with two
real Rasa servers, is in test_scale_out.py.
"""

import asyncio
import logging
import time

from bot.rasa_server.channels._ratelimit import Limit, RateLimiter, RateLimits
from bot.rasa_server.lockstore import AtomicRedisLockStore
from bot.tools.servers import free_port

LIMITS = RateLimits(conversation=Limit(burst=5, per_minute=60), client_address=Limit(burst=8, per_minute=60))


class _Agent:
    def __init__(self, lock_store):
        self.lock_store = lock_store


def test_two_replicas_share_one_bucket(redis_server):
    agent = _Agent(AtomicRedisLockStore(host="127.0.0.1", port=redis_server.port, db=2))
    conversation = f"shared-{time.time_ns()}"

    async def run():
        replicas = [RateLimiter(LIMITS), RateLimiter(LIMITS)]
        waits = [
            await replicas[i % 2].check(agent, f"198.51.100.{time.time_ns() % 200}", conversation)
            for i in range(12)
        ]
        return waits

    waits = asyncio.run(run())
    allowed = sum(1 for w in waits if w == 0)
    assert allowed == 5, f"the conversation's burst is 5 across both replicas, got {allowed}"
    assert all(0 < w <= 1.0 for w in waits[allowed:]), "the wait is until the next token"


def test_the_address_bucket_is_shared_too_and_both_must_allow(redis_server):
    agent = _Agent(AtomicRedisLockStore(host="127.0.0.1", port=redis_server.port, db=2))
    address = f"203.0.113.{time.time_ns() % 250}"

    async def run():
        replicas = [RateLimiter(LIMITS), RateLimiter(LIMITS)]
        return [await replicas[i % 2].check(agent, address, f"c-{time.time_ns()}-{i}") for i in range(12)]

    waits = asyncio.run(run())
    assert sum(1 for w in waits if w == 0) == 8, "eight new conversations from one address, then 429"


def test_without_redis_each_server_limits_by_itself(caplog):
    agent = _Agent(AtomicRedisLockStore(host="127.0.0.1", port=free_port(), db=2, socket_timeout=0.5))
    limiter = RateLimiter(LIMITS)

    async def run():
        return [await limiter.check(agent, "192.0.2.1", "c") for _ in range(7)]

    with caplog.at_level(logging.WARNING):
        waits = asyncio.run(run())
    assert sum(1 for w in waits if w == 0) == 5, "still limited, in this process"
    assert "Redis is unreachable for the rate limits" in caplog.text
