"""The load generator: N people talking to the bot at once through the web channel.

Each simulated person takes the next conversation from bench/conversations.yml (under a
new sender id), sends its messages one after another, each as soon as the previous
reply arrived, and starts another conversation when done, until the level's message
budget is spent. Latency is measured per message, end to end (HTTP request to the last
byte of the reply, action server included).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp
import yaml

CONVERSATIONS = Path(__file__).with_name("conversations.yml")


def load_conversations(path: Path = CONVERSATIONS) -> List[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]


def percentile(values: List[float], q: float) -> Optional[float]:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class LevelResult:
    concurrency: int
    messages: int
    errors: int
    seconds: float
    messages_per_second: float
    median_ms: Optional[float]
    p95_ms: Optional[float]
    p99_ms: Optional[float]
    error_samples: List[str] = field(default_factory=list)
    by_language_median_ms: Dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


# The key each conversation was given by its first reply (X-Conversation-Key), sent back
# with its later messages as the widget does.
_keys: Dict[str, str] = {}


async def _send(
    session: aiohttp.ClientSession, webhook: str, sender: str, text: str, metadata: dict, timeout: float
) -> Optional[str]:
    """One message; returns None if it got a reply, else what went wrong."""
    body = {"sender": sender, "message": text, "metadata": metadata}
    if sender in _keys:
        body["conversation_key"] = _keys[sender]
    try:
        async with session.post(webhook, json=body, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.headers.get("X-Conversation-Key"):
                _keys[sender] = resp.headers["X-Conversation-Key"]
            raw = await resp.read()
            if resp.status != 200:
                return f"HTTP {resp.status}: {raw[:120]!r}"
            reply = json.loads(raw)
            if not isinstance(reply, list) or not reply or not reply[0].get("text"):
                return f"no reply: {raw[:120]!r}"
            return None
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
        return f"{type(err).__name__}: {err}"


async def run_level(
    webhook: str,
    concurrency: int,
    total_messages: int,
    conversations: List[dict],
    timeout: float = 30.0,
    max_seconds: float = 120.0,
) -> LevelResult:
    """Replay conversations with `concurrency` people at once until `total_messages` are sent."""
    latencies: List[float] = []
    by_lang: Dict[str, List[float]] = {}
    errors: List[str] = []
    budget = {"left": total_messages}
    source = itertools.cycle(conversations)
    deadline = time.monotonic() + max_seconds
    connector = aiohttp.TCPConnector(limit=concurrency + 10)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def person(index: int) -> None:
            while budget["left"] > 0 and time.monotonic() < deadline:
                conversation = next(source)
                sender = f"bench-{concurrency}-{index}-{uuid.uuid4().hex[:10]}"
                for text in conversation["messages"]:
                    if budget["left"] <= 0 or time.monotonic() >= deadline:
                        return
                    budget["left"] -= 1
                    started = time.perf_counter()
                    problem = await _send(
                        session, webhook, sender, text, conversation.get("metadata") or {}, timeout
                    )
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    if problem:
                        errors.append(problem)
                    else:
                        latencies.append(elapsed_ms)
                        by_lang.setdefault(conversation["lang"], []).append(elapsed_ms)

        started = time.perf_counter()
        await asyncio.gather(*(person(i) for i in range(concurrency)))
        seconds = time.perf_counter() - started

    sent = len(latencies) + len(errors)
    return LevelResult(
        concurrency=concurrency,
        messages=sent,
        errors=len(errors),
        seconds=round(seconds, 2),
        messages_per_second=round(len(latencies) / seconds, 1) if seconds else 0.0,
        median_ms=_round(statistics.median(latencies) if latencies else None),
        p95_ms=_round(percentile(latencies, 95)),
        p99_ms=_round(percentile(latencies, 99)),
        error_samples=sorted(set(errors))[:5],
        by_language_median_ms={lang: _round(statistics.median(v)) for lang, v in sorted(by_lang.items())},
    )


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)


async def warm_up(webhook: str, conversations: List[dict]) -> None:
    """One pass over every conversation, unmeasured: first-call costs (TF graph, caches) out of the way."""
    async with aiohttp.ClientSession() as session:
        for conversation in conversations:
            sender = f"warmup-{uuid.uuid4().hex[:10]}"
            for text in conversation["messages"]:
                await _send(session, webhook, sender, text, conversation.get("metadata") or {}, 60)
