"""Rate limits of the web channel: per conversation and per client address.

One client must not be able to slow the bot down for everybody else. Every request
to the webhook and the feedback route takes a token from two buckets: its
conversation's and its client address's (a token bucket: `burst` requests at once,
refilled at `per_minute`). When either is empty the request is answered at once with
`429`, a `Retry-After` header and `{"error", "code": "rate_limited"}` in the request's
language, and nothing reaches the dialogue engine: a refused message is not stored.

The buckets live in this process, or in Redis when the Rasa server uses the Redis lock
store (endpoints.production.yml), so the limits hold across replicas behind a load
balancer. A Redis failure falls back to this process's buckets (and is logged) rather
than refusing everyone.

Settings under the channel in credentials.yml (defaults below; docs/webchat-channel.md):

    rate_limits:
      conversation: {burst: 10, per_minute: 60}
      client_address: {burst: 10, per_minute: 180}
      trusted_proxies: 0   # proxies that append the client's address to X-Forwarded-For
      in_flight_per_address: 4   # messages of one address one server works on at once
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

logger = logging.getLogger(__name__)

REDIS_PREFIX = "clinicbot:ratelimit:"
MAX_LOCAL_BUCKETS = 100_000
REDIS_WARNING_INTERVAL = 60.0

# All-or-nothing over several buckets, on Redis's clock so every replica agrees.
# KEYS: the buckets; ARGV: burst and rate (tokens per second) of each, in order.
# Returns the seconds to wait ("0": allowed, one token taken from each bucket).
_TAKE_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local tokens = {}
local wait = 0
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  local saved = redis.call('HMGET', key, 'tokens', 'at')
  local left = tonumber(saved[1])
  local at = tonumber(saved[2])
  if left == nil or at == nil then left = burst; at = now end
  left = math.min(burst, left + math.max(0, now - at) * rate)
  tokens[i] = left
  if left < 1 then wait = math.max(wait, (1 - left) / rate) end
end
for i, key in ipairs(KEYS) do
  local burst = tonumber(ARGV[2 * i - 1])
  local rate = tonumber(ARGV[2 * i])
  if wait == 0 then tokens[i] = tokens[i] - 1 end
  redis.call('HSET', key, 'tokens', tostring(tokens[i]), 'at', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 1)
end
return tostring(wait)
"""


@dataclass(frozen=True)
class Limit:
    """`burst` requests at once, then `per_minute` on average."""

    burst: int
    per_minute: float

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0

    @classmethod
    def parse(cls, raw: Any, default: "Limit", name: str) -> "Limit":
        if raw is None:
            return default
        if not isinstance(raw, dict):
            raise ValueError(f"webchat: rate_limits.{name} must be {{burst: N, per_minute: M}}")
        burst, per_minute = raw.get("burst", default.burst), raw.get("per_minute", default.per_minute)
        whole = isinstance(burst, int) and not isinstance(burst, bool) and burst >= 1
        rate = isinstance(per_minute, (int, float)) and not isinstance(per_minute, bool) and per_minute > 0
        if not (whole and rate):
            raise ValueError(f"webchat: rate_limits.{name} needs a whole burst >= 1 and per_minute > 0")
        return cls(burst, float(per_minute))


DEFAULT_CONVERSATION = Limit(burst=10, per_minute=60)
DEFAULT_CLIENT_ADDRESS = Limit(burst=10, per_minute=180)


DEFAULT_IN_FLIGHT = 4
# `rate_limits` for a bot serving a load generator that plays many people from one address
# (the red team, the benchmark, end-to-end tests): the address's limits are lifted, each
# conversation keeps its own.
ONE_ADDRESS_FOR_MANY = {
    "client_address": {"burst": 1_000_000, "per_minute": 60_000_000},
    "in_flight_per_address": 1_000,
}


@dataclass(frozen=True)
class RateLimits:
    conversation: Limit = DEFAULT_CONVERSATION
    client_address: Limit = DEFAULT_CLIENT_ADDRESS
    trusted_proxies: int = 0
    # messages of one client address being answered at once by one server
    in_flight_per_address: int = DEFAULT_IN_FLIGHT
    enabled: bool = True

    @classmethod
    def from_credentials(cls, raw: Any) -> "RateLimits":
        """`rate_limits:` of the channel in credentials.yml; `false` turns them off (tests only)."""
        if raw is None:
            return cls()
        if raw is False:
            return cls(enabled=False)
        if not isinstance(raw, dict):
            raise ValueError("webchat: rate_limits must be a mapping (see docs/webchat-channel.md)")
        proxies = raw.get("trusted_proxies", 0)
        if not isinstance(proxies, int) or isinstance(proxies, bool) or not 0 <= proxies <= 5:
            raise ValueError("webchat: rate_limits.trusted_proxies must be a whole number from 0 to 5")
        in_flight = raw.get("in_flight_per_address", DEFAULT_IN_FLIGHT)
        if not isinstance(in_flight, int) or isinstance(in_flight, bool) or in_flight < 1:
            raise ValueError("webchat: rate_limits.in_flight_per_address must be a whole number >= 1")
        return cls(
            Limit.parse(raw.get("conversation"), DEFAULT_CONVERSATION, "conversation"),
            Limit.parse(raw.get("client_address"), DEFAULT_CLIENT_ADDRESS, "client_address"),
            proxies,
            in_flight,
        )


def client_address(peer: Optional[str], forwarded_for: Optional[str], trusted_proxies: int) -> str:
    """The address a client's bucket is keyed by.

    Behind `trusted_proxies` proxies, each appending the address it received from to
    X-Forwarded-For, the client is the entry that many places from the right (entries
    further left are whatever the client chose to send). An IPv6 client is keyed by its
    /64, which one household or phone usually holds whole.
    """
    address = peer or ""
    if trusted_proxies and forwarded_for:
        entries = [e.strip() for e in forwarded_for.split(",") if e.strip()]
        if len(entries) >= trusted_proxies:
            address = entries[-trusted_proxies]
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return peer or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LocalBuckets:
    """Token buckets in this process (a bounded number; the least recently used go first)."""

    def __init__(self, max_buckets: int = MAX_LOCAL_BUCKETS) -> None:
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()
        self.max_buckets = max_buckets

    def take(self, wanted: Sequence[Tuple[str, Limit]], now: Optional[float] = None) -> float:
        now = time.monotonic() if now is None else now
        levels: List[float] = []
        wait = 0.0
        for key, limit in wanted:
            tokens, at = self._buckets.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + max(0.0, now - at) * limit.per_second)
            levels.append(tokens)
            if tokens < 1:
                wait = max(wait, (1 - tokens) / limit.per_second)
        for (key, _), tokens in zip(wanted, levels):
            self._buckets[key] = (tokens - 1 if wait == 0 else tokens, now)
            self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        return wait


class RedisBuckets:
    """The same buckets in Redis, shared by every replica (one script call per request)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._script = client.register_script(_TAKE_SCRIPT)

    async def take(self, wanted: Sequence[Tuple[str, Limit]]) -> float:
        keys = [REDIS_PREFIX + key for key, _ in wanted]
        args: List[Any] = []
        for _, limit in wanted:
            args += [limit.burst, repr(limit.per_second)]
        return float(await self._script(keys=keys, args=args))


def redis_client_like(lock_store: Any) -> Optional[Any]:
    """An asyncio Redis client to the lock store's Redis, if the lock store is Redis."""
    sync_client = getattr(lock_store, "red", None)
    pool = getattr(sync_client, "connection_pool", None)
    if pool is None:
        return None
    import redis
    import redis.asyncio

    options = {
        k: v
        for k, v in pool.connection_kwargs.items()
        if k in ("host", "port", "db", "username", "password", "socket_timeout")
    }
    options.setdefault("socket_timeout", 1.0)
    if issubclass(pool.connection_class, redis.SSLConnection):
        options["ssl"] = True
    return redis.asyncio.Redis(**options)


class RateLimiter:
    """Decides whether a request may go on; `await check(...)` returns 0 or the seconds to wait."""

    def __init__(self, limits: RateLimits = RateLimits()) -> None:
        self.limits = limits
        self.local = LocalBuckets()
        self._redis: Dict[int, Optional[RedisBuckets]] = {}
        self._redis_warned = 0.0
        self._in_flight: Dict[str, int] = {}

    @contextmanager
    def in_flight(self, address: str) -> Iterator[bool]:
        """Whether `address` may have one more message answered by this server now.

        The token buckets bound how many messages a client sends; this bounds how many of
        them this server works on at once, so a client's burst cannot fill the event loop
        ahead of everyone else (per server: it protects that server's own time).
        """
        if not self.limits.enabled:
            yield True
            return
        if self._in_flight.get(address, 0) >= self.limits.in_flight_per_address:
            yield False
            return
        self._in_flight[address] = self._in_flight.get(address, 0) + 1
        try:
            yield True
        finally:
            left = self._in_flight[address] - 1
            if left:
                self._in_flight[address] = left
            else:
                del self._in_flight[address]

    def address_of(self, request: Any) -> str:
        return client_address(
            getattr(request, "ip", None), request.headers.get("x-forwarded-for"), self.limits.trusted_proxies
        )

    def _wanted(self, address: str, conversation: Optional[str]) -> List[Tuple[str, Limit]]:
        wanted = [(f"addr:{address}", self.limits.client_address)]
        if conversation:
            wanted.append((f"conv:{conversation}", self.limits.conversation))
        return wanted

    def _redis_buckets(self, agent: Any) -> Optional[RedisBuckets]:
        loop = id(asyncio.get_running_loop())
        if loop not in self._redis:
            client = redis_client_like(getattr(agent, "lock_store", None)) if agent is not None else None
            self._redis[loop] = RedisBuckets(client) if client is not None else None
            if client is not None:
                logger.info("webchat: rate limits are kept in the lock store's Redis (shared by replicas)")
        return self._redis[loop]

    async def check(self, agent: Any, address: str, conversation: Optional[str] = None) -> float:
        if not self.limits.enabled:
            return 0.0
        wanted = self._wanted(address, conversation)
        shared = self._redis_buckets(agent)
        if shared is not None:
            try:
                return await shared.take(wanted)
            except Exception as err:  # noqa: BLE001 - Redis down: limit per process rather than not at all
                if time.monotonic() - self._redis_warned > REDIS_WARNING_INTERVAL:
                    self._redis_warned = time.monotonic()
                    logger.warning(
                        "webchat: Redis is unreachable for the rate limits (%s); limiting in "
                        "this process until it is back",
                        type(err).__name__,
                    )
        return self.local.take(wanted)


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))


def request_language(locale: Optional[str], accept_language: Optional[str]) -> str:
    """en, ar or ur for an error text: the widget's locale first, then the browser's languages."""
    from bot import LANGUAGES

    candidates: List[Tuple[float, int, str]] = []
    if locale:
        candidates.append((2.0, 0, locale))
    for position, part in enumerate((accept_language or "").split(",")[:20], start=1):
        tag, *params = [p.strip() for p in part.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            candidates.append((quality, position, tag))
    for _, _, tag in sorted(candidates, key=lambda c: (-c[0], c[1])):
        code = tag.lower().replace("_", "-").split("-")[0]
        if code in LANGUAGES:
            return code
    return "en"


def too_many_requests(wait: float, lang: str) -> Any:
    """The 429 answer: Retry-After, and the widget's own "slow down" text in `lang`."""
    from sanic import response

    from bot.core.i18n import SLOW_DOWN, interface_text

    return response.json(
        {
            "error": interface_text(lang, SLOW_DOWN),
            "code": "rate_limited",
            "lang": lang,
            "retry_after": max(1, math.ceil(wait)),
        },
        status=429,
        headers={"Retry-After": retry_after_header(wait)},
        ensure_ascii=False,
    )
