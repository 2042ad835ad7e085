"""`make bench`: our bot against Rasa's stock configuration, under load, in one run.

1. Trains (or reuses, if nothing changed) our model (config.yml) and the stock `rasa init`
   model on the same data and domain, timing each training.
2. For each, starts the servers the way `make run` does (action server, Rasa server,
   SQLite tracker store, web channel) and replays bench/conversations.yml at 1, 20 and
   100 concurrent conversations. The stock model is served with the same action server:
   our domain's only action is the custom `action_answer`, so without it the stock bot
   would answer nothing; both sides therefore pay the same action-server cost. The stock
   side keeps Rasa's own action-server client (`reuse_action_connections: false`).
3. Measures what our choices buy: our bot with Rasa's own action-server client (a new
   connection and a schema re-check per call; bot/channels/_action_client.py off), and (when redis-server is installed) with two Sanic workers and the
   Redis lock store they need.
4. Writes reports/bench.json and reports/bench-latency.png and prints a summary.

Environment: BENCH_RETRAIN=1 retrains both models; BENCH_REUSE=1 reuses them even if stale; BENCH_SCALE=0.5 halves the message
counts (a quicker, noisier run); BENCH_ABLATIONS=0 skips step 3.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bench.load import LevelResult, load_conversations, run_level, warm_up
from bench.models import BENCH_DIR, trained
from bench.servers import ConfiguredBotServers, ProcessMemory
from bot import PROJECT_ROOT
from bot.channels._ratelimit import ONE_ADDRESS_FOR_MANY
from bot.servers import free_port, runtime_endpoints

REPORTS = PROJECT_ROOT / "reports"
LEVELS = (1, 20, 100)
MESSAGES = {1: 80, 20: 600, 100: 1000}


def _scaled(n: int) -> int:
    return max(20, int(n * float(os.environ.get("BENCH_SCALE") or 1)))


def _credentials(target: Path, reuse_connections: bool) -> Path:
    creds = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    creds.setdefault("bot.channels.webchat.WebchatInput", {})
    # The load generator is one client address sending for 100 people: its address limit is
    # lifted (the limiter still runs, so its cost is measured); conversations keep theirs.
    creds["bot.channels.webchat.WebchatInput"] = {
        **(creds["bot.channels.webchat.WebchatInput"] or {}),
        "reuse_action_connections": reuse_connections,
        "rate_limits": ONE_ADDRESS_FOR_MANY,
    }
    target.write_text(yaml.safe_dump(creds, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


def _workers_endpoints(target: Path, redis_port: int) -> Path:
    config = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    config["lock_store"] = {
        "type": "bot.lockstore.AtomicRedisLockStore",
        "url": "127.0.0.1",
        "port": redis_port,
        "db": 1,
    }
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
) -> dict:
    """Start one bot, replay the conversations at each level, stop it; the figures."""
    conversations = load_conversations()
    logs = run_dir / label
    logs.mkdir(parents=True, exist_ok=True)
    extra_env = {"SANIC_WORKERS": str(workers)} if workers > 1 else {}
    action_port = free_port()
    servers = ConfiguredBotServers(
        rasa_port=free_port(),
        action_port=action_port,
        tracker_db=logs / "tracker.db",
        logs_dir=logs,
        model=model,
        extra_env=extra_env,
        credentials=_credentials(logs / "credentials.yml", reuse_connections),
    )
    if workers > 1:  # `rasa run` starts several Sanic workers only with a lock store they can share
        servers.endpoints_source = runtime_endpoints(
            action_port,
            logs / "tracker.db",
            logs / "endpoints-workers.yml",
            source=_workers_endpoints(logs / "endpoints-source.yml", redis_port),
            action_secret=servers.action_secret,
        )
    print(f"[{label}] starting the action server and the Rasa server...", flush=True)
    results: Dict[int, LevelResult] = {}
    with servers:
        print(f"[{label}] ready in {servers.rasa_ready_seconds:.1f} s; warming up", flush=True)
        asyncio.run(warm_up(servers.webhook, conversations))
        pids = {"rasa": servers.pid("rasa"), "actions": servers.pid("actions")}
        with ProcessMemory(pids) as memory:
            for level in levels:
                result = asyncio.run(
                    run_level(servers.webhook, level, _scaled(MESSAGES[level]), conversations)
                )
                results[level] = result
                print(
                    f"[{label}] {level:>3} at once: {result.messages_per_second:6.1f} msg/s, "
                    f"median {result.median_ms} ms, p95 {result.p95_ms} ms, p99 {result.p99_ms} ms, "
                    f"errors {result.errors}/{result.messages}",
                    flush=True,
                )
    return {
        "label": label,
        "workers": workers,
        "reuse_action_connections": reuse_connections,
        "rasa_ready_seconds": round(servers.rasa_ready_seconds or 0, 1),
        "peak_rss_mib": {k: round(v) for k, v in memory.peak.items()},
        "peak_rss_total_mib": {k: round(v) for k, v in memory.peak_total.items()},
        "levels": {str(level): r.as_dict() for level, r in results.items()},
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


def targets(ours: dict, stock: dict) -> List[dict]:
    o20, s20 = ours["levels"]["20"], stock["levels"]["20"]
    checks = [
        (
            "throughput at 20 at least 2x stock",
            _ratio(o20["messages_per_second"], s20["messages_per_second"]),
            ">= 2.0",
            (_ratio(o20["messages_per_second"], s20["messages_per_second"]) or 0) >= 2.0,
        ),
        ("no errors at 20", o20["errors"], "== 0", o20["errors"] == 0),
        (
            "p95 at 20 at most half of stock",
            _ratio(o20["p95_ms"], s20["p95_ms"]),
            "<= 0.5",
            (_ratio(o20["p95_ms"], s20["p95_ms"]) or 9) <= 0.5,
        ),
        (
            "median at 1 (ms, action server included)",
            ours["levels"]["1"]["median_ms"],
            "<= 25",
            (ours["levels"]["1"]["median_ms"] or 1e9) <= 25,
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

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for index, run in enumerate(runs):
        color = f"C{index}"
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
    for ax in axes:
        ax.set_xticks(list(LEVELS))
        ax.set_xticklabels([str(n) for n in LEVELS])
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)


def summary(report: dict) -> str:
    lines = [f"{'run':<22}{'conc':>5}{'msg/s':>8}{'median':>9}{'p95':>9}{'p99':>9}{'errors':>8}"]
    for run in report["runs"]:
        for level, r in sorted(run["levels"].items(), key=lambda kv: int(kv[0])):
            lines.append(
                f"{run['label']:<22}{level:>5}{r['messages_per_second']:>8.1f}{r['median_ms']!s:>9}"
                f"{r['p95_ms']!s:>9}{r['p99_ms']!s:>9}{r['errors']:>5}/{r['messages']}"
            )
    lines.append("")
    lines.append(
        f"{'run':<22}{'rasa RSS':>10}{'(all wkrs)':>11}{'actions RSS':>13}{'ready s':>9}{'train s':>9}"
    )
    for run in report["runs"]:
        lines.append(
            f"{run['label']:<22}{run['peak_rss_mib']['rasa']:>7} MiB{run['peak_rss_total_mib']['rasa']:>7} MiB"
            f"{run['peak_rss_mib']['actions']:>9} MiB{run['rasa_ready_seconds']:>9}"
            f"{run.get('training_seconds', '')!s:>9}"
        )
    lines.append("")
    lines.append(
        "ours / stock:  "
        + "   ".join(
            f"{lvl} at once: throughput x{c['throughput_ratio']}, median x{c['median_ratio']}, p95 x{c['p95_ratio']}"
            for lvl, c in report["ours_vs_stock"].items()
        )
    )
    lines.append("")
    for t in report["targets"]:
        lines.append(
            f"  [{'met' if t['met'] else 'MISSED'}] {t['target']}: {t['value']} (target {t['limit']})"
        )
    return "\n".join(lines)


def main() -> int:
    from bench.services import RedisServer, redis_server_binary

    started = dt.datetime.now(dt.timezone.utc)
    print("training (or reusing) our model and the stock `rasa init` model...", flush=True)
    ours_model, stock_model = trained("ours"), trained("stock")
    for m in (ours_model, stock_model):
        print(
            f"  {m.name}: {'trained' if m.trained_now else 'reused; trained'} in {m.training_seconds} s"
            f"{' (STALE: its data changed since; BENCH_REUSE=1)' if m.stale else ''}",
            flush=True,
        )
    runs = []
    run_dir = BENCH_DIR / "last-run"  # servers' logs, kept until the next run
    shutil.rmtree(run_dir, ignore_errors=True)
    ours = serve_and_load("ours", ours_model.path, run_dir)
    ours["training_seconds"] = ours_model.training_seconds
    ours["model_stale"] = ours_model.stale
    # Stock Rasa's own action-server client (bot/channels/_action_client.py off).
    stock = serve_and_load("stock", stock_model.path, run_dir, reuse_connections=False)
    stock["training_seconds"] = stock_model.training_seconds
    stock["model_stale"] = stock_model.stale
    runs += [ours, stock]
    if os.environ.get("BENCH_ABLATIONS", "1") != "0":
        # What our choices buy, measured; a failure here is reported, not fatal.
        try:
            runs.append(
                serve_and_load(
                    "ours-rasa-action-client",
                    ours_model.path,
                    run_dir,
                    levels=(1, 20),
                    reuse_connections=False,
                )
            )
        except Exception as err:  # noqa: BLE001
            print(f"the run with Rasa's own action-server client failed: {err}", flush=True)
        if redis_server_binary():
            try:
                with RedisServer() as redis:
                    runs.append(
                        serve_and_load(
                            "ours-2-workers",
                            ours_model.path,
                            run_dir,
                            levels=(1, 20, 100),
                            workers=2,
                            redis_port=redis.port,
                        )
                    )
            except Exception as err:  # noqa: BLE001
                print(f"the two-worker run failed: {err}", flush=True)
        else:
            print("redis-server not installed: skipping the two-worker run", flush=True)
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
            "the stock model is served with the same action server, SQLite tracker store and web channel "
            "as ours, with Rasa's own action-server client; servers' logs in var/bench/last-run/"
        ),
        "runs": runs,
        "ours_vs_stock": compare(ours, stock),
        "targets": targets(ours, stock),
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "bench.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    plot(runs, REPORTS / "bench-latency.png")
    print()
    print(summary(report))
    print(f"\nwrote {REPORTS / 'bench.json'} and {REPORTS / 'bench-latency.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
