"""The staff workbench at scale: a tracker store of 100,000 events, the overview and the inbox timed.

    python -m bench.workbench                  # build var/bench/workbench-tracker.db, time it
    python -m bench.workbench --events 20000 --runs 5

Builds a Rasa SQLite tracker store (Rasa's own SQLTrackerStore creates the table; the events
are Rasa's own Event classes serialised as the bot stores them) with conversations as the bot
has them: a session start, then turns of a user message (English, Arabic, Urdu script, Roman
Urdu; typed and button presses; the NLU pipeline's intent ranking, detected language and
safety verdict), action_answer, the reply with its answer id, kind and language, the
language/region slots; now and then a "was this helpful?" rating or a WhatsApp reaction.
Texts are the project's own training examples and safety-corpus messages (some with a phone
number), over the last 90 days.

Then starts the workbench as `make workbench` does (`python -m bot workbench`, its own
accounts file), signs in, and times, several times each, server side (the `Server-Timing`
the workbench sends) and as the browser waits:

- the first read of the whole store (start-up; in the background, pages answer meanwhile);
- the overview for the default 30 days: charts drawn (a date range not asked before) and
  charts already drawn;
- the inbox: the first time (every conversation read as `make review` reads it) and after.

Prints a table; writes nothing but the store and reports/bench-workbench.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, List, Tuple

from bot import PROJECT_ROOT
from bot.core.safety.classifier import CORPUS_DIR, corpus_messages
from bot.tools.content.files import form_of, read_examples
from bot.tools.servers import free_port

FORMS = {"en": 0.40, "ar": 0.27, "ur": 0.13, "roman_ur": 0.20}
REPLY_LANG = {"en": "en", "ar": "ar", "ur": "ur", "roman_ur": "ur"}
REGIONS = {
    "en": ["GB", "GB", "AE", "unknown"],
    "ar": ["SA", "AE", "KW", "IQ", "IQ-KR"],
    "ur": ["PK", "PK", "GB"],
    "roman_ur": ["PK", "PK", "AE", "GB"],
}
DAYS = 90


def _examples() -> Dict[str, List[Tuple[str, str]]]:
    """(text, intent) per written form, from data/nlu."""
    out: Dict[str, List[Tuple[str, str]]] = {f: [] for f in FORMS}
    for path in sorted((PROJECT_ROOT / "data" / "nlu").rglob("*.yml")):
        out[form_of(path)].extend((e.text, e.intent) for e in read_examples(path, []))
    return out


def _safety() -> Dict[Tuple[str, str], List[str]]:
    out: Dict[Tuple[str, str], List[str]] = {}
    for m in corpus_messages(CORPUS_DIR.glob("written_*.yml")):  # read in name order
        if m.lang in FORMS and m.label in ("urgent", "personal"):
            out.setdefault((m.lang, m.label), []).append(m.text)
    return out


def build(db: Path, events: int = 100_000, seed: int = 20, days: int = DAYS) -> Tuple[int, int]:
    """Write a tracker store of about `events` events; (events, conversations) written."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered

    rng = random.Random(seed)
    examples, safety = _examples(), _safety()
    intents = sorted({i for pairs in examples.values() for _, i in pairs})
    if db.exists():
        db.unlink()
    db.parent.mkdir(parents=True, exist_ok=True)
    SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))  # Rasa creates its table
    now = time.time()
    rows, conversations = [], 0
    while len(rows) < events:
        conversations += 1
        form = rng.choices(list(FORMS), weights=list(FORMS.values()))[0]
        channel = "whatsapp" if rng.random() < (0.55 if form in ("roman_ur", "ar") else 0.3) else "webchat"
        sender = (
            f"wa-{rng.randrange(10**11, 10**12)}"
            if channel == "whatsapp"
            else f"web-{rng.getrandbits(48):012x}"
        )
        region = rng.choice(REGIONS[form])
        at = now - rng.random() * days * 86400
        stream = [
            ActionExecuted("action_session_start", timestamp=at),
            SessionStarted(timestamp=at),
            ActionExecuted("action_listen", timestamp=at),
        ]
        for turn in range(rng.choice((1, 1, 2, 3, 4, 6))):
            at += rng.uniform(5, 90)
            roll = rng.random()
            verdict, answer_kind, button = None, "answer", False
            if roll < 0.04 and safety.get((form, "urgent")):
                text, intent, confidence, verdict = (
                    rng.choice(safety[(form, "urgent")]),
                    "report_adverse_reaction",
                    0.97,
                    "urgent",
                )
            elif roll < 0.09 and safety.get((form, "personal")):
                text, intent, confidence, verdict = (
                    rng.choice(safety[(form, "personal")]),
                    "personal_medical_question",
                    0.93,
                    "personal",
                )
            elif roll < 0.22:
                text, guess = rng.choice(examples[form])
                text = text + rng.choice(
                    ["", " plz", " ??", " call me 0300 1234567", " mail me a.b@example.com"]
                )
                intent, confidence = "nlu_fallback", rng.uniform(0.2, 0.55)
            elif roll < 0.35:
                text, intent, button = '/ask_topic{"topic":"procedure.pain"}', "ask_topic", True
                confidence = 1.0
            else:
                text, intent = rng.choice(examples[form])
                confidence = rng.uniform(0.45, 1.0)
            ranking = [{"name": intent, "confidence": confidence}] + [
                {"name": n, "confidence": round(rng.uniform(0, 1 - confidence), 4)}
                for n in rng.sample(intents, 9)
            ]
            if intent == "nlu_fallback":
                ranking.insert(1, {"name": guess, "confidence": confidence - 0.05})
            parse = {
                "text": text,
                "intent": {"name": intent, "confidence": confidence},
                "entities": [],
                "intent_ranking": ranking,
                "message_id": f"{rng.getrandbits(64):016x}",
                "metadata": {},
                "language": {"code": REPLY_LANG[form] if button else form, "confidence": 0.9},
                "safety": (
                    None
                    if button
                    else {
                        "verdict": verdict,
                        "by": ["rules"] if verdict else [],
                        "matched": [],
                        "concepts": [],
                        "rule": "",
                        "scores": {"urgent": 0.1, "personal": 0.1},
                        "mentions_health": bool(verdict),
                    }
                ),
            }
            answer = {"urgent": "safety.urgent", "personal": "safety.clinician_redirect"}.get(verdict or "")
            if answer:
                answer_kind = "urgent" if verdict == "urgent" else "safety"
            elif intent == "nlu_fallback":
                answer, answer_kind = "fallback.not_understood", "fallback"
            elif button:
                answer = "procedure.pain"
            else:
                answer = rng.choice(
                    [
                        "procedure.pain",
                        "procedure.downtime",
                        "booking.cost",
                        "procedure.sessions",
                        "uses.hair_loss",
                        "about.what_is",
                        "procedure.results",
                    ]
                )
            stream.append(
                UserUttered(
                    text,
                    parse["intent"],
                    [],
                    parse,
                    timestamp=at,
                    input_channel=channel,
                    message_id=parse["message_id"],
                )
            )
            stream.append(
                ActionExecuted("action_answer", policy="RulePolicy", confidence=1.0, timestamp=at + 0.05)
            )
            stream.append(
                BotUttered(
                    "…",
                    {},
                    {
                        "answer_id": answer,
                        "kind": answer_kind,
                        "lang": REPLY_LANG[form],
                        "dir": "rtl" if form in ("ar", "ur") else "ltr",
                        "version": "2026-11-20",
                    },
                    timestamp=at + 0.06,
                )
            )
            stream += [
                SlotSet("language", REPLY_LANG[form], timestamp=at + 0.07),
                SlotSet("region", None if region == "unknown" else region, timestamp=at + 0.07),
                SlotSet("named_region", None, timestamp=at + 0.07),
                ActionExecuted("action_listen", timestamp=at + 0.08),
            ]
            if rng.random() < 0.08:
                rating = {
                    "answer_id": answer,
                    "helpful": rng.random() < 0.6,
                    "version": "2026-11-20",
                    "lang": REPLY_LANG[form],
                    "channel": channel,
                }
                stream.append(SlotSet("feedback", rating, timestamp=at + 20))
        for event in stream:
            data = event.as_dict()
            rows.append(
                (
                    sender,
                    data["event"],
                    (
                        data.get("parse_data", {}).get("intent", {}).get("name")
                        if data["event"] == "user"
                        else None
                    ),
                    data.get("name") if data["event"] == "action" else None,
                    data["timestamp"],
                    json.dumps(data, ensure_ascii=False),
                )
            )
    rows = rows[:events]
    rows.sort(key=lambda r: r[4])  # stored as they happened: conversations interleave
    with sqlite3.connect(str(db)) as connection:
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, intent_name, action_name, timestamp, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
    return len(rows), conversations


# ---- timing a real workbench ------------------------------------------------------------------
class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def request(self, path: str, data: dict = None, timeout: float = 120) -> Tuple[int, str, dict, float]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        started = time.perf_counter()
        try:
            with self.opener.open(
                urllib.request.Request(self.base + path, data=body), timeout=timeout
            ) as response:
                text = response.read().decode("utf-8")
                return response.status, text, dict(response.headers), time.perf_counter() - started
        except urllib.error.HTTPError as err:
            return (
                err.code,
                err.read().decode("utf-8", "replace"),
                dict(err.headers),
                time.perf_counter() - started,
            )


def _server_ms(headers: dict) -> float:
    match = re.search(r"dur=([\d.]+)", headers.get("Server-Timing", ""))
    return float(match.group(1)) if match else float("nan")


def start_workbench(db: Path, var: Path, port: int, name: str = "bench", password: str = "bench-password-1"):
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "WORKBENCH_VAR": str(var),
        "WORKBENCH_PORT": str(port),
        "DB": str(db),
    }
    subprocess.run(
        [sys.executable, "-m", "bot", "staff-user", "--name", name, "--role", "editor"],
        input=password + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "workbench"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = Client(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if client.request("/login", timeout=2)[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(
            "the workbench did not start: " + proc.stdout.read().decode(errors="replace")[-2000:]
        )
    status, _, _, _ = client.request("/login", {"name": name, "password": password})
    assert status == 200, status
    return proc, client


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default=str(PROJECT_ROOT / "var" / "bench" / "workbench-tracker.db"))
    args = parser.parse_args(argv)
    db = Path(args.db)
    started = time.perf_counter()
    written, conversations = build(db, args.events)
    print(
        f"built {db}: {written:,} events, {conversations:,} conversations "
        f"in {time.perf_counter() - started:.1f} s"
    )
    with sqlite3.connect(str(db)) as connection:
        users = connection.execute("SELECT COUNT(*) FROM events WHERE type_name = 'user'").fetchone()[0]
    print(f"  {users:,} patient messages")

    # The first read of the whole store, in this process, as the workbench does it.
    from bot.workbench.conversations import ConversationIndex
    from bot.workbench.store import SQLiteEvents

    index = ConversationIndex(SQLiteEvents(db))
    started = time.perf_counter()
    index.refresh(budget=600)
    ingest = time.perf_counter() - started
    started = time.perf_counter()
    flagged = sum(len(c.flagged) for c in index.snapshot())
    reviewed = time.perf_counter() - started
    print(
        f"  first read: {ingest:.2f} s ({index.status}); every conversation read as make review does: "
        f"{reviewed:.2f} s ({flagged:,} flagged messages)"
    )

    results: Dict[str, List[Tuple[float, float]]] = {
        k: []
        for k in (
            "overview, charts drawn",
            "overview, charts cached",
            "inbox, first",
            "inbox, again",
            "inbox, English tab",
        )
    }
    with tempfile.TemporaryDirectory(prefix="bench-workbench-") as var:
        proc, client = start_workbench(db, Path(var), free_port())
        try:
            while True:  # the start-up read runs in the background; wait until it is through
                status, page, _, _ = client.request("/inbox")
                if f"{written:,} events" in page:
                    break
                time.sleep(0.5)
            today = dt.datetime.now(dt.timezone.utc).date()
            for run in range(args.runs):
                end = today - dt.timedelta(days=run)  # a range not drawn before: the charts are drawn
                query = f"/?from={end - dt.timedelta(days=29)}&to={end}"
                for name, path in (("overview, charts drawn", query), ("overview, charts cached", query)):
                    status, page, headers, wall = client.request(path)
                    assert status == 200 and page.count("<svg") >= 7, (status, page[:300])
                    results[name].append((_server_ms(headers), wall * 1000))
                status, page, headers, wall = client.request(
                    f"/inbox?from={end - dt.timedelta(days=59)}&to={end}"
                )
                assert status == 200 and 'class="item"' in page
                results["inbox, first"].append((_server_ms(headers), wall * 1000))
                status, page, headers, wall = client.request(
                    f"/inbox?from={end - dt.timedelta(days=59)}&to={end}"
                )
                results["inbox, again"].append((_server_ms(headers), wall * 1000))
                status, page, headers, wall = client.request("/inbox?lang=en&page=2")
                results["inbox, English tab"].append((_server_ms(headers), wall * 1000))
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    print(
        f"\n{'request':28} {'server median':>14} {'server max':>11} "
        f"{'browser median':>15} {'browser max':>12}"
        f"   ({args.runs} runs, {written:,} events)"
    )
    report = {
        "events": written,
        "conversations": conversations,
        "patient_messages": users,
        "first_read_s": round(ingest, 2),
        "review_all_s": round(reviewed, 2),
        "requests_ms": {},
    }
    for name, values in results.items():
        server = [s for s, _ in values]
        wall = [w for _, w in values]
        print(
            f"{name:28} {statistics.median(server):11.0f} ms {max(server):8.0f} ms "
            f"{statistics.median(wall):12.0f} ms {max(wall):9.0f} ms"
        )
        report["requests_ms"][name] = {
            "server_median": round(statistics.median(server), 1),
            "server_max": round(max(server), 1),
            "wall_median": round(statistics.median(wall), 1),
            "wall_max": round(max(wall), 1),
        }
    out = PROJECT_ROOT / "reports" / "bench-workbench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
