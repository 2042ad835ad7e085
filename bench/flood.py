"""`python -m bench.flood`: one client floods the web channel; how long does a neighbour wait?

Issue 12, finding 6: 200 requests a second for 10 s from one conversation, then from
1,000 conversations on one address, while three neighbours (each its own conversation and
client address) ask a question every second; first the neighbours alone for 10 s, as
the machine's baseline (on a shared machine it moves with everyone else's load).
Printed for each: what the flooder got (200 / 429 / anything else, and whether every
429 had a Retry-After) and the neighbours' latency (median, p95, max) and failures.

By default it starts the bot as `make run` does (committed credentials.yml, so the
committed rate limits) on free ports; `--url http://host:port` floods a running bot.
The neighbours' connections come from 127.0.0.2-4, so on loopback they are different
client addresses (Linux routes all of 127/8 to loopback).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import aiohttp

from bench.load import percentile

NEIGHBOUR_ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")  # three neighbours, each its own address
QUESTIONS = ["how many sessions do I need?", "does it hurt?", "what is mesotherapy?", "how long is recovery?"]


@dataclass
class FloodResult:
    scenario: str
    flood_requests: int
    flood_statuses: Dict[str, int]
    flood_429_with_retry_after: int
    flood_accepted_senders: int
    flood_seconds: float
    neighbour_messages: int
    neighbour_failures: int
    neighbour_median_ms: Optional[float]
    neighbour_p95_ms: Optional[float]
    neighbour_max_ms: Optional[float]
    neighbour_statuses: Dict[str, int] = field(default_factory=dict)
    flooder_replies: List[Tuple[str, int]] = field(default_factory=list, repr=False)

    def line(self) -> str:
        return (
            f"{self.scenario:>12}: flooder {self.flood_requests} requests in {self.flood_seconds} s -> "
            f"{self.flood_statuses} (429 with Retry-After: {self.flood_429_with_retry_after}); "
            f"neighbours {self.neighbour_messages} messages, failures {self.neighbour_failures}, "
            f"median {self.neighbour_median_ms} ms, p95 {self.neighbour_p95_ms} ms, "
            f"max {self.neighbour_max_ms} ms"
        )


async def post(
    session: aiohttp.ClientSession,
    webhook: str,
    sender: str,
    text: str,
    key: Optional[str] = None,
    timeout: float = 60,
) -> Tuple[int, object, Dict[str, str]]:
    body = {"sender": sender, "message": text, "metadata": {"region": "GB"}}
    if key:
        body["conversation_key"] = key
    async with session.post(webhook, json=body, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
        raw = await resp.read()
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            data = None
        return resp.status, data, dict(resp.headers)


def _neighbour(webhook: str, stop, interval: float, address: str) -> List[Tuple[int, float]]:
    """One person on another address, a question every `interval` seconds, until `stop` is set."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(webhook)
    sender, key, results = f"neighbour-{uuid.uuid4().hex[:10]}", None, []
    i = 0
    while not stop.is_set():
        started = time.perf_counter()
        body = {"sender": sender, "message": QUESTIONS[i % len(QUESTIONS)], "metadata": {"region": "GB"}}
        if key:
            body["conversation_key"] = key
        try:
            connection = http.client.HTTPConnection(
                url.hostname, url.port, timeout=60, source_address=(address, 0)
            )
            connection.request("POST", url.path, json.dumps(body), {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            status, key = response.status, response.getheader("X-Conversation-Key") or key
            connection.close()
        except OSError:
            status = 0
        results.append((status, (time.perf_counter() - started) * 1000))
        i += 1
        stop.wait(max(0.0, interval - (time.perf_counter() - started)))
    return results


def _neighbours(webhook: str, stop, interval: float) -> List[Tuple[int, float]]:
    """Every neighbour's (status, milliseconds), each in its own thread until `stop` is set."""
    import threading

    results: List[List[Tuple[int, float]]] = [[] for _ in NEIGHBOUR_ADDRESSES]

    def one(i: int) -> None:
        results[i] = _neighbour(webhook, stop, interval, NEIGHBOUR_ADDRESSES[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(NEIGHBOUR_ADDRESSES))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for result in results for r in result]


def warm_up(webhook: str) -> None:
    """A few answers first: a fresh server's first messages are slow (model graphs, caches)."""
    import threading

    stop = threading.Event()
    timer = threading.Timer(3.0, stop.set)
    timer.start()
    _neighbour(webhook, stop, 0.2, "127.0.0.1")


async def _flood(webhook: str, one_sender: bool, rate: float, seconds: float) -> dict:
    statuses: Counter = Counter()
    retry_after = 0
    replies: List[Tuple[str, int]] = []
    flooder = f"flood-{uuid.uuid4().hex[:10]}"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        key = None
        if one_sender:  # the flooder's own conversation, as the widget would start it
            status, _, headers = await post(session, webhook, flooder, "hello")
            key = headers.get("X-Conversation-Key")
            replies.append((flooder, status))

        async def one(i: int) -> None:
            nonlocal retry_after
            sender = flooder if one_sender else f"{flooder}-{i}"
            try:
                status, data, headers = await post(session, webhook, sender, f"how many sessions {i}?", key)
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                statuses[type(err).__name__] += 1
                return
            statuses[str(status)] += 1
            replies.append((sender, status))
            if (
                status == 429
                and headers.get("Retry-After", "").isdigit()
                and isinstance(data, dict)
                and data.get("code") == "rate_limited"
            ):
                retry_after += 1

        started = time.monotonic()
        tasks = []
        for i in range(int(rate * seconds)):  # paced: request i leaves at i / rate seconds
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        sent_in = time.monotonic() - started
        await asyncio.gather(*tasks)
    return {
        "statuses": dict(sorted(statuses.items())),
        "retry_after": retry_after,
        "replies": replies,
        "requests": int(rate * seconds),
        "sent_in": round(sent_in, 1),
    }


def _flood_process(webhook: str, one_sender: bool, rate: float, seconds: float, out) -> None:
    out.put(asyncio.run(_flood(webhook, one_sender, rate, seconds)))


def run_scenario(
    webhook: str, one_sender: bool, rate: float = 200, seconds: float = 10, interval: float = 1.0
) -> FloodResult:
    """The flood (one conversation, or a new conversation per request) beside one neighbour.

    The flooder runs in its own process, so the neighbour's timings are the server's and
    not those of a client busy sending 200 requests a second.
    """
    import multiprocessing
    import threading

    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    flooder = context.Process(target=_flood_process, args=(webhook, one_sender, rate, seconds, out))
    stop = threading.Event()
    neighbour: Dict[str, List[Tuple[int, float]]] = {}
    thread = threading.Thread(target=lambda: neighbour.update(results=_neighbours(webhook, stop, interval)))
    thread.start()
    flooder.start()
    flood = out.get(timeout=seconds * 20 + 120)
    flooder.join(30)
    time.sleep(interval)  # the neighbour's message after the flood ends counts too
    stop.set()
    thread.join()
    return FloodResult(
        scenario="one sender" if one_sender else "many senders",
        flood_requests=flood["requests"],
        flood_statuses=flood["statuses"],
        flood_429_with_retry_after=flood["retry_after"],
        flood_accepted_senders=len({s for s, status in flood["replies"] if status == 200}),
        flood_seconds=flood["sent_in"],
        flooder_replies=[tuple(r) for r in flood["replies"]],
        **_neighbour_figures(neighbour["results"]),
    )


def baseline(webhook: str, seconds: float = 10, interval: float = 1.0) -> FloodResult:
    """The neighbour alone, for comparison: what the machine gives without a flood."""
    import threading

    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    return FloodResult(
        scenario="no flood",
        flood_requests=0,
        flood_statuses={},
        flood_429_with_retry_after=0,
        flood_accepted_senders=0,
        flood_seconds=0.0,
        **_neighbour_figures(_neighbours(webhook, stop, interval)),
    )


def _neighbour_figures(results: List[Tuple[int, float]]) -> dict:
    latencies = [ms for status, ms in results if status == 200]
    return {
        "neighbour_messages": len(results),
        "neighbour_failures": sum(status != 200 for status, _ in results),
        "neighbour_median_ms": _round(statistics.median(latencies) if latencies else None),
        "neighbour_p95_ms": _round(percentile(latencies, 95)),
        "neighbour_max_ms": _round(max(latencies, default=None)),
        "neighbour_statuses": dict(Counter(str(s) for s, _ in results)),
    }


def _round(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 1)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="", help="a running bot (default: start one on free ports)")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args(argv)

    def both(webhook: str) -> List[FloodResult]:
        warm_up(webhook)
        return [baseline(webhook, args.seconds)] + [
            run_scenario(webhook, one, args.rate, args.seconds) for one in (True, False)
        ]

    if args.url:
        results = both(args.url.rstrip("/") + "/webhooks/webchat/webhook")
    else:
        import tempfile
        from pathlib import Path

        from bot.tools.model import train
        from bot.tools.servers import BotServers

        train()
        run_dir = Path(tempfile.mkdtemp(prefix="bench-flood-"))
        with BotServers.in_folder(run_dir) as servers:
            results = both(servers.webhook)
    for result in results:
        print(result.line())
    figures = [{k: v for k, v in asdict(r).items() if k != "flooder_replies"} for r in results]
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
