"""One long conversation: does a message cost the same at turn 300 as at turn 1?

WhatsApp conversations live for months, so a person (or a flood) can reach hundreds of
turns in one conversation. `long_conversation` sends `turns` messages under one sender,
each after the previous reply, cycling through bench/conversations.yml's texts, and keeps
each turn's end-to-end latency and the CPU time the Rasa server and the action server
spent on it. `python -m bench.long` measures the trained model on its own servers (about
a minute); `make bench` runs it for every configuration it compares.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional

import aiohttp

from bench.load import _send, load_conversations
from bench.profile import Profile
from bench.servers import cpu_ms_per_message, cpu_now
from bot.rasa_server.channels._ratelimit import ONE_ADDRESS_FOR_MANY
from bot.tools.servers import BotServers, free_port

TURNS = 300
# The windows the target compares: the first 20 turns and the last 20 of 300.
FIRST = (1, 20)
LAST = (281, 300)
# One person may send a message a second for minutes on end here (the channel's own
# per-conversation limit would otherwise answer most of them with "too many messages").
ONE_FAST_CONVERSATION = {**ONE_ADDRESS_FOR_MANY, "conversation": {"burst": 100_000, "per_minute": 6_000_000}}


@dataclass
class LongConversation:
    turns: int
    errors: int
    latency_ms: List[float]  # per turn, in order (None-free: a failed turn is not kept)
    rasa_cpu_ms: float  # per message, over the whole conversation
    actions_cpu_ms: float

    def median(self, first: int, last: int) -> Optional[float]:
        window = self.latency_ms[first - 1 : last]
        return round(statistics.median(window), 1) if window else None

    def summary(self) -> Dict[str, Optional[float]]:
        first, last = self.median(*FIRST), self.median(*LAST)
        return {
            "turns": self.turns,
            "errors": self.errors,
            f"median_turns_{FIRST[0]}_{FIRST[1]}_ms": first,
            f"median_turns_{LAST[0]}_{LAST[1]}_ms": last,
            "last_over_first": round(last / first, 2) if first and last else None,
            "rasa_cpu_ms_per_message": round(self.rasa_cpu_ms, 1),
            "actions_cpu_ms_per_message": round(self.actions_cpu_ms, 1),
        }

    def as_dict(self) -> dict:
        return {**self.summary(), "latency_ms": [round(v, 1) for v in self.latency_ms]}


async def long_conversation(
    webhook: str,
    pids: Dict[str, Optional[int]],
    turns: int = TURNS,
    conversations: Optional[List[dict]] = None,
) -> LongConversation:
    texts = [
        (m, c.get("metadata") or {}) for c in conversations or load_conversations() for m in c["messages"]
    ]
    sender = f"long-{uuid.uuid4().hex[:10]}"
    latencies: List[float] = []
    errors = 0
    cpu_before = cpu_now(pids)
    async with aiohttp.ClientSession() as session:
        for turn in range(turns):
            text, metadata = texts[turn % len(texts)]
            started = time.perf_counter()
            problem = await _send(session, webhook, sender, text, metadata, 60)
            if problem:
                errors += 1
            else:
                latencies.append((time.perf_counter() - started) * 1000)
    cpu = cpu_ms_per_message(cpu_before, pids, turns)
    return LongConversation(turns, errors, latencies, cpu.get("rasa", 0.0), cpu.get("actions", 0.0))


def measure(
    model: Optional[Path] = None,
    turns: int = TURNS,
    extra_env: Optional[dict] = None,
    profile: Optional[Path] = None,
) -> LongConversation:
    """Start the bot (trained model unless `model`), warm it up, run one long conversation.

    With `profile`, the Rasa server is sampled by py-spy meanwhile: collapsed stacks to
    that file, the top functions to the same name with .top.json."""
    with tempfile.TemporaryDirectory(prefix="bench-long-") as tmp:
        logs = Path(tmp)
        options = {"model": model} if model else {}
        servers = BotServers(
            rasa_port=free_port(),
            action_port=free_port(),
            tracker_db=logs / "tracker.db",
            logs_dir=logs,
            webchat_settings={"rate_limits": ONE_FAST_CONVERSATION},
            extra_env=extra_env or {},
            **options,
        )
        with servers:
            pids = {"rasa": servers.pid("rasa"), "actions": servers.pid("actions")}
            asyncio.run(long_conversation(servers.webhook, pids, turns=10))  # first-call costs out of the way
            if not profile:
                return asyncio.run(long_conversation(servers.webhook, pids, turns=turns))
            with Profile(pids["rasa"], profile) as sampled:
                result = asyncio.run(long_conversation(servers.webhook, pids, turns=turns))
            top = {"problem": sampled.problem} if sampled.problem else sampled.top(20)
            profile.with_suffix(".top.json").write_text(json.dumps(top, indent=1), encoding="utf-8")
            return result


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long", description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=TURNS)
    parser.add_argument("--model", type=Path, default=None, help="default: models/current.tar.gz")
    parser.add_argument("--json", type=Path, default=None, help="also write the per-turn figures here")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy's stacks of the Rasa server here")
    args = parser.parse_args(argv)
    result = measure(args.model, args.turns, profile=args.profile)
    print(json.dumps(result.summary(), indent=2))
    if args.json:
        args.json.write_text(json.dumps(asdict(result) | result.summary(), indent=1), encoding="utf-8")
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
