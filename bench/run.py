"""`make bench`: Rasa's stock configuration, ours on one core, ours on both cores, in one run.

1. Trains (or reuses, if nothing changed) our model (config.yml) and the stock `rasa init`
   model on the same data and domain, timing each training.
2. Serves each the way `make run` does (action server, Rasa server, SQLite tracker store,
   web channel) and replays bench/conversations.yml at 1, 20 and 100 concurrent
   conversations, measuring latency, throughput and each process's CPU milliseconds per
   message; then sends one conversation of 300 turns (bench/long.py) while py-spy samples
   the Rasa server (reports/profile-<run>.txt and .top.json: the functions holding most time).
   - `stock`: the stock model with Rasa's own SQL tracker store, action-server client and
     action call (the whole domain sent each time). It is served with the same action
     server and web channel: our domain's only action is the custom `action_answer`, so
     without it the stock bot would answer nothing.
   - `ours`: our model and endpoints.yml (bot/rasa_server/tracker_store.py, the selective action call),
     one Sanic worker: `make run`.
   - `ours-both-cores`: the same with two Sanic workers and the Redis lock store they share,
     `make run WORKERS=2` (redis-server installed by `make bench` if missing).
3. BENCH_ABLATIONS=1 adds what one choice buys: ours with Rasa's own action-server client.
4. Writes reports/bench.json and reports/bench-latency.png and prints a summary with the
   targets (issue 17), met or missed.

Environment: BENCH_RETRAIN=1 retrains both models; BENCH_REUSE=1 reuses them even if stale;
BENCH_SCALE=0.5 halves the message counts (a quicker, noisier run).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bench.load import LevelResult, load_conversations, run_level, warm_up
from bench.long import FIRST, LAST, ONE_FAST_CONVERSATION, TURNS, long_conversation
from bench.models import BENCH_DIR, trained
from bench.profile import Profile
from bench.servers import ProcessMemory, cpu_ms_per_message, cpu_now
from bot import PROJECT_ROOT
from bot.tools.servers import BotServers, free_port, runtime_endpoints

REPORTS = PROJECT_ROOT / "reports"
LEVELS = (1, 20, 100)
MESSAGES = {1: 80, 20: 600, 100: 1000}


def _scaled(n: int) -> int:
    return max(20, int(n * float(os.environ.get("BENCH_SCALE") or 1)))


def _credentials(target: Path, reuse_connections: bool) -> Path:
    creds = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    creds.setdefault("bot.rasa_server.channels.webchat.WebchatInput", {})
    # The load generator is one client address sending for 100 people, and the long
    # conversation sends 300 messages as fast as they are answered: both limits are lifted
    # (the limiter still runs, so its cost is measured).
    creds["bot.rasa_server.channels.webchat.WebchatInput"] = {
        **(creds["bot.rasa_server.channels.webchat.WebchatInput"] or {}),
        "reuse_action_connections": reuse_connections,
        "rate_limits": ONE_FAST_CONVERSATION,
    }
    target.write_text(yaml.safe_dump(creds, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def _stock_endpoints(target: Path) -> Path:
    """endpoints.yml as Rasa ships it: its SQL tracker store, the domain sent with every action call."""
    config = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    config["tracker_store"] = {"type": "SQL", "dialect": "sqlite", "db": "var/tracker.db"}
    config["action_endpoint"] = {"url": config["action_endpoint"]["url"]}
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def serve_and_load(
    label: str,
    model: Path,
    run_dir: Path,
    levels=LEVELS,
    reuse_connections: bool = True,
    workers: int = 1,
    redis_port: Optional[int] = None,
    stock: bool = False,
    long_turns: int = TURNS,
) -> dict:
    """Start one bot, replay the conversations at each level, then one long conversation
    (sampled by py-spy into reports/profile-<label>.txt), stop it; the figures."""
    conversations = load_conversations()
    logs = run_dir / label
    logs.mkdir(parents=True, exist_ok=True)
    action_port = free_port()
    servers = BotServers(
        rasa_port=free_port(),
        action_port=action_port,
        tracker_db=logs / "tracker.db",
        logs_dir=logs,
        model=model,
        credentials=_credentials(logs / "credentials.yml", reuse_connections),
        workers=workers,
        redis_lock_port=redis_port,
    )
    if stock:  # Rasa's own tracker store and action call; bot.rasa_server adds only hardening
        servers.endpoints_source = runtime_endpoints(
            action_port,
            logs / "tracker.db",
            logs / "endpoints-stock.yml",
            source=_stock_endpoints(logs / "endpoints-source.yml"),
            action_secret=servers.action_secret,
        )
    print(f"[{label}] starting the action server and the Rasa server...", flush=True)
    results: Dict[int, LevelResult] = {}
    cpu: Dict[int, Dict[str, float]] = {}
    with servers:
        print(f"[{label}] ready in {servers.rasa_ready_seconds:.1f} s; warming up", flush=True)
        asyncio.run(warm_up(servers.webhook, conversations))
        pids = {"rasa": servers.pid("rasa"), "actions": servers.pid("actions")}
        with ProcessMemory(pids) as memory:
            for level in levels:
                before = cpu_now(pids)
                result = asyncio.run(
                    run_level(servers.webhook, level, _scaled(MESSAGES[level]), conversations)
                )
                results[level] = result
                cpu[level] = {
                    k: round(v, 1) for k, v in cpu_ms_per_message(before, pids, result.messages).items()
                }
                print(
                    f"[{label}] {level:>3} at once: {result.messages_per_second:6.1f} msg/s, "
                    f"median {result.median_ms} ms, p95 {result.p95_ms} ms, p99 {result.p99_ms} ms, "
                    f"errors {result.errors}/{result.messages}, CPU ms/message {cpu[level]}",
                    flush=True,
                )
            profile = REPORTS / f"profile-{label}.txt"
            with Profile(pids["rasa"], profile) as sampled:
                long = asyncio.run(long_conversation(servers.webhook, pids, turns=long_turns))
            top = {"problem": sampled.problem} if sampled.problem else sampled.top(25)
            profile.with_suffix(".top.json").write_text(json.dumps(top, indent=1), encoding="utf-8")
            print(f"[{label}] one long conversation: {long.summary()}", flush=True)
    return {
        "label": label,
        "workers": workers,
        "reuse_action_connections": reuse_connections,
        "rasa_ready_seconds": round(servers.rasa_ready_seconds or 0, 1),
        "peak_rss_mib": {k: round(v) for k, v in memory.peak.items()},
        "peak_rss_total_mib": {k: round(v) for k, v in memory.peak_total.items()},
        "levels": {
            str(level): {**r.as_dict(), "cpu_ms_per_message": cpu[level]} for level, r in results.items()
        },
        "long_conversation": long.as_dict(),
        "profile_top": top,
    }


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return round(a / b, 2) if a is not None and b else None


def compare(ours: dict, stock: dict) -> dict:
    out = {}
    for level in ours["levels"]:
        o, s = ours["levels"][level], stock["levels"][level]
        out[level] = {
            "throughput_ratio": _ratio(o["messages_per_second"], s["messages_per_second"]),
            "median_ratio": _ratio(o["median_ms"], s["median_ms"]),
            "p95_ratio": _ratio(o["p95_ms"], s["p95_ms"]),
        }
    return out


def targets(ours: dict, both: Optional[dict], stock: dict) -> List[dict]:
    """Issue 17's targets, on these cores, safety layer included."""
    best = both or ours
    b20, s20 = best["levels"]["20"], stock["levels"]["20"]
    throughput = _ratio(b20["messages_per_second"], s20["messages_per_second"])
    p95 = _ratio(b20["p95_ms"], s20["p95_ms"])
    long = ours["long_conversation"]
    checks = [
        (
            f"throughput at 20 at least 4x stock ({best['label']})",
            throughput,
            ">= 4.0",
            (throughput or 0) >= 4.0,
        ),
        (f"p95 at 20 at most a quarter of stock ({best['label']})", p95, "<= 0.25", (p95 or 9) <= 0.25),
        ("no errors at 20", b20["errors"], "== 0", b20["errors"] == 0),
        (
            "serial median (ms, action server included)",
            ours["levels"]["1"]["median_ms"],
            "<= 15",
            (ours["levels"]["1"]["median_ms"] or 1e9) <= 15,
        ),
        (
            "Rasa CPU per message, fresh conversations (ms)",
            ours["levels"]["1"]["cpu_ms_per_message"]["rasa"],
            "<= 10",
            ours["levels"]["1"]["cpu_ms_per_message"]["rasa"] <= 10,
        ),
        (
            f"median of turns {LAST[0]}-{LAST[1]} over turns {FIRST[0]}-{FIRST[1]} of one conversation",
            long["last_over_first"],
            "<= 1.25",
            (long["last_over_first"] or 9) <= 1.25,
        ),
        (
            "Rasa server peak RSS (MiB)",
            ours["peak_rss_mib"]["rasa"],
            "< 1536",
            ours["peak_rss_mib"]["rasa"] < 1536,
        ),
        (
            "model load: Rasa server ready (s)",
            ours["rasa_ready_seconds"],
            "< 15",
            ours["rasa_ready_seconds"] < 15,
        ),
    ]
    return [{"target": t, "value": v, "limit": lim, "met": bool(ok)} for t, v, lim, ok in checks]


def plot(runs: List[dict], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for index, run in enumerate(runs):
        color = f"C{index}"
        turns = run.get("long_conversation", {}).get("latency_ms") or []
        if turns:  # a running median over 10 turns, so one slow turn does not hide the trend
            window = [statistics.median(turns[max(0, i - 9) : i + 1]) for i in range(len(turns))]
            axes[2].plot(range(1, len(turns) + 1), window, color=color, label=run["label"])
        levels = sorted(int(k) for k in run["levels"])
        get = lambda key: [run["levels"][str(n)][key] for n in levels]  # noqa: E731
        axes[0].plot(levels, get("median_ms"), marker="o", color=color, label=f"{run['label']} median")
        axes[0].plot(
            levels, get("p95_ms"), marker="x", linestyle="--", color=color, label=f"{run['label']} p95"
        )
        axes[1].plot(levels, get("messages_per_second"), marker="o", color=color, label=run["label"])
    axes[0].set(
        xlabel="concurrent conversations",
        ylabel="latency (ms)",
        title="Latency vs concurrency",
        xscale="log",
        yscale="log",
    )
    axes[1].set(
        xlabel="concurrent conversations",
        ylabel="messages / s",
        title="Throughput vs concurrency",
        xscale="log",
    )
    axes[2].set(
        xlabel="turn of one conversation",
        ylabel="latency (ms, median of 10 turns)",
        title="One long conversation",
        yscale="log",
    )
    axes[2].grid(True, which="both", alpha=0.3)
    axes[2].legend(fontsize=7)
    for ax in axes[:2]:
        ax.set_xticks(list(LEVELS))
        ax.set_xticklabels([str(n) for n in LEVELS])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)


def summary(report: dict) -> str:
    lines = [
        f"{'run':<24}{'conc':>5}{'msg/s':>8}{'median':>9}{'p95':>9}{'p99':>9}{'errors':>10}{'CPU ms/msg rasa+actions':>26}"
    ]
    for run in report["runs"]:
        for level, r in sorted(run["levels"].items(), key=lambda kv: int(kv[0])):
            cpu = r.get("cpu_ms_per_message") or {}
            lines.append(
                f"{run['label']:<24}{level:>5}{r['messages_per_second']:>8.1f}{r['median_ms']!s:>9}"
                f"{r['p95_ms']!s:>9}{r['p99_ms']!s:>9}{r['errors']:>6}/{r['messages']:<4}"
                f"{cpu.get('rasa')!s:>15} + {cpu.get('actions')!s}"
            )
    lines.append("")
    first, last = f"median_turns_{FIRST[0]}_{FIRST[1]}_ms", f"median_turns_{LAST[0]}_{LAST[1]}_ms"
    lines.append(
        f"{'one conversation':<24}{'turns 1-20':>12}{'281-300':>10}{'ratio':>8}{'rasa CPU ms/msg':>17}"
    )
    for run in report["runs"]:
        long = run.get("long_conversation") or {}
        lines.append(
            f"{run['label']:<24}{long.get(first)!s:>12}{long.get(last)!s:>10}{long.get('last_over_first')!s:>8}"
            f"{long.get('rasa_cpu_ms_per_message')!s:>17}"
        )
    lines.append("")
    lines.append(
        f"{'run':<24}{'rasa RSS':>10}{'(all wkrs)':>11}{'actions RSS':>13}{'ready s':>9}{'train s':>9}"
    )
    for run in report["runs"]:
        lines.append(
            f"{run['label']:<24}{run['peak_rss_mib']['rasa']:>7} MiB{run['peak_rss_total_mib']['rasa']:>7} MiB"
            f"{run['peak_rss_mib']['actions']:>9} MiB{run['rasa_ready_seconds']:>9}"
            f"{run.get('training_seconds', '')!s:>9}"
        )
    lines.append("")
    for name, comparison in report["versus_stock"].items():
        lines.append(
            f"{name} / stock:  "
            + "   ".join(
                f"{lvl} at once: throughput x{c['throughput_ratio']}, median x{c['median_ratio']}, p95 x{c['p95_ratio']}"
                for lvl, c in comparison.items()
            )
        )
    lines.append("")
    for t in report["targets"]:
        lines.append(
            f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['value']} (target {t['limit']})"
        )
    return "\n".join(lines)


def main() -> int:
    from bot.tools.services import RedisServer, redis_server_binary

    started = dt.datetime.now(dt.timezone.utc)
    print("training (or reusing) our model and the stock `rasa init` model...", flush=True)
    ours_model, stock_model = trained("ours"), trained("stock")
    for m in (ours_model, stock_model):
        print(
            f"  {m.name}: {'trained' if m.trained_now else 'reused; trained'} in {m.training_seconds} s"
            f"{' (STALE: its data changed since; BENCH_REUSE=1)' if m.stale else ''}",
            flush=True,
        )
    run_dir = BENCH_DIR / "last-run"  # servers' logs, kept until the next run
    shutil.rmtree(run_dir, ignore_errors=True)
    REPORTS.mkdir(exist_ok=True)
    stock = serve_and_load("stock", stock_model.path, run_dir, reuse_connections=False, stock=True)
    ours = serve_and_load("ours", ours_model.path, run_dir)
    for run, model in ((stock, stock_model), (ours, ours_model)):
        run["training_seconds"], run["model_stale"] = model.training_seconds, model.stale
    runs = [stock, ours]
    both = None
    if redis_server_binary():
        with RedisServer() as redis:
            both = serve_and_load(
                "ours-both-cores",
                ours_model.path,
                run_dir,
                workers=os.cpu_count() or 2,
                redis_port=redis.port,
            )
        runs.append(both)
    else:
        print("redis-server is not installed (make bench installs it): no run on both cores", flush=True)
    if os.environ.get("BENCH_ABLATIONS") == "1":  # what one choice buys
        runs.append(
            serve_and_load(
                "ours-rasa-action-client", ours_model.path, run_dir, levels=(1, 20), reuse_connections=False
            )
        )
    report = {
        "started": started.isoformat(timespec="seconds"),
        "command": "make bench",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_end": os.getloadavg(),
        },
        "note": (
            "stock: Rasa's default pipeline and policies, its SQL tracker store and action-server client, "
            "served with the same action server and web channel as ours; servers' logs in var/bench/last-run/; "
            "py-spy profiles of each Rasa server during the long conversation in reports/profile-*.txt"
        ),
        "runs": runs,
        "versus_stock": {run["label"]: compare(run, stock) for run in runs if run is not stock},
        "targets": targets(ours, both, stock),
    }
    (REPORTS / "bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    plot(runs, REPORTS / "bench-latency.png")
    print()
    print(summary(report))
    print(
        f"\nwrote {REPORTS / 'bench.json'}, {REPORTS / 'bench-latency.png'} and {REPORTS}/profile-*.top.json"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
