"""A Redis lock store whose ticket operations are atomic, for several Rasa servers.

Rasa serialises the messages of one conversation with a ticket lock kept in the lock
store: each message takes the next ticket, waits until its ticket is served, and on
finishing removes its ticket (deleting the lock when nobody else waits). Rasa 3.6's
`RedisLockStore` does each of these as separate GET and SET calls. With two servers
sharing one Redis, two messages of one conversation arriving together can both read
the same lock and both write "their" next ticket: they get the same number, both are
"served" at once, run the conversation concurrently, and the tracker store ends with
the replies interleaved or an event lost. Likewise a server finishing its ticket can
DEL a lock another server has just added a ticket to, and that message then fails
with "Could not acquire lock". tests/scale/test_lockstore.py shows both on a real Redis.

`AtomicRedisLockStore` keeps Rasa's lock format and algorithm (`TicketLock`), but does
every read-modify-write inside a Redis optimistic transaction (WATCH the lock key,
read, MULTI/SET or DEL/EXEC; retried if another server changed the key in between), so
each ticket number is issued exactly once and a lock is deleted only if it is still
empty. It also keeps a waiting message's ticket alive while it waits (see
`_wait_for_turn`), which a server killed mid-message otherwise turns into a lost
message. Configured in endpoints.production.yml:

    lock_store:
      type: bot.rasa_server.lockstore.AtomicRedisLockStore
      url: ${REDIS_HOST}
      port: ${REDIS_PORT}
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

# How often a waiting message looks whether its turn has come. Rasa's default is 1 s,
# which adds up to a second to the second of two quick messages; a poll is one small
# Redis transaction.
WAIT_SECONDS = 0.05

# Keyword arguments of RedisLockStore that may come from endpoints.yml.
_REDIS_OPTIONS = (
    "port",
    "db",
    "username",
    "password",
    "use_ssl",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_ca_certs",
    "key_prefix",
    "socket_timeout",
)


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis ticket lock, with each ticket change done atomically."""

    def __init__(
        self, endpoint_config: Optional[EndpointConfig] = None, host: Text = "localhost", **kwargs: Any
    ) -> None:
        # Rasa builds a custom lock store as `cls(endpoint_config=...)`; tests pass keywords.
        if endpoint_config is not None:
            host = endpoint_config.url or host
            kwargs = {**{k: v for k, v in endpoint_config.kwargs.items() if k in _REDIS_OPTIONS}, **kwargs}
        kwargs = {k: v for k, v in kwargs.items() if v not in (None, "")}
        super().__init__(host=host, **kwargs)

    def _key(self, conversation_id: Text) -> Text:
        return self.key_prefix + conversation_id

    def _change(self, conversation_id: Text, change: Callable[[TicketLock], Any]) -> Any:
        """Apply `change` to the stored lock atomically; returns what `change` returns.

        The lock is created if missing and deleted if `change` leaves it without tickets.
        """
        key = self._key(conversation_id)
        result: dict = {}

        def transaction(pipe) -> None:  # re-run by redis-py if `key` changed after WATCH
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else self.create_lock(conversation_id)
            lock.conversation_id = conversation_id
            result["value"] = change(lock)
            pipe.multi()
            if lock.is_someone_waiting():
                pipe.set(key, lock.dumps())
            else:
                pipe.delete(key)

        self.red.transaction(transaction, key)
        return result.get("value")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except Exception as e:  # noqa: BLE001 - Rasa's contract: a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{e}")

    def update_lock(self, conversation_id: Text) -> None:
        # Drops expired tickets; a lock left empty is deleted (waiters then stop, as in Rasa).
        self._change(conversation_id, lambda lock: lock.remove_expired_tickets())

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = WAIT_SECONDS,
    ) -> AsyncGenerator[TicketLock, None]:
        ticket = self.issue_ticket(conversation_id, lock_lifetime)
        try:
            yield await self._wait_for_turn(conversation_id, ticket, lock_lifetime, wait_time_in_seconds)
        finally:
            self.cleanup(conversation_id, ticket)

    async def _wait_for_turn(
        self, conversation_id: Text, ticket: int, lifetime: float, wait_time_in_seconds: float
    ) -> TicketLock:
        """Wait until `ticket` is served, keeping it alive meanwhile.

        Rasa counts a ticket's lifetime from when it was issued, waiting included: a
        message waiting behind a crashed server's ticket (held until it expires) can see
        its own ticket expire in the same poll, and then fails with "Could not acquire
        lock" (or, with Rasa's store, waits forever behind an empty lock). Here a waiting
        ticket is renewed at every poll, so only the tickets of dead servers expire, and
        a served ticket has its whole lifetime for the processing.
        """

        def renew(lock: TicketLock):
            lock.remove_expired_tickets()
            mine = lock._ticket_for_ticket_number(ticket)
            if mine is not None:
                mine.expires = time.time() + lifetime
            return mine is not None, lock.now_serving

        while True:
            present, now_serving = self._change(conversation_id, renew)
            if not present:
                raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
            if now_serving == ticket:
                return self.get_lock(conversation_id) or self.create_lock(conversation_id)
            await asyncio.sleep(wait_time_in_seconds)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        # One transaction: remove our ticket and delete the lock only if it is then empty,
        # so a ticket another server issued meanwhile is never deleted with it.
        self.finish_serving(conversation_id, ticket_number)
