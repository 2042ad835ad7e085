"""Answer-level evaluation through the web channel: the right answer, in the right language.

The sets under `data/eval/nlu/` were written by helpers who never saw the training data
(see data/eval/README.md). Each message is sent to a running bot as its own conversation
(each multi-turn conversation as one), and the replies' `answer_id` and `lang` are checked:

- one expected id: it must be among the replies;
- two expected ids (two questions in one message): both must be answered, or, when one
  of them is a safety answer, that one must come first;
- every reply must be in the expected language.

Reported per written form (en, ar, ur, roman_ur), per Arabic dialect and for multi-turn
conversations, with the misses, so an error analysis can group them.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from bot import PROJECT_ROOT
from bot.core._yaml import read_yaml
from bot.tools._web_channel_run import save_report, through_web_channel
from bot.tools.servers import say

EVAL_DIR = PROJECT_ROOT / "data" / "eval" / "nlu"
SAFETY_IDS = ("safety.urgent", "safety.clinician_redirect")
FORMS = ("en", "ar", "ur", "roman_ur")


def load_sets(paths: Iterable[Path]) -> List[dict]:
    """Every item of the given sets: single messages and multi-turn conversations."""
    items = []
    for path in paths:
        raw = read_yaml(path) or {}
        name = Path(path).stem
        for m in raw.get("messages") or []:
            items.append(
                {
                    "set": name,
                    "form": m["form"],
                    "dialect": m.get("dialect"),
                    "turns": [m],
                    "multi_turn": False,
                }
            )
        for c in raw.get("conversations") or []:
            items.append(
                {
                    "set": name,
                    "form": c["form"],
                    "dialect": c.get("dialect"),
                    "turns": c["turns"],
                    "multi_turn": True,
                }
            )
    return items


def judge(expect: List[str], reply_lang: str, replies: List[dict]) -> Optional[str]:
    """None when the replies are right, else what was wrong."""
    ids = [r.get("answer_id") for r in replies]
    if not ids:
        return "no reply"
    safety = [e for e in expect if e in SAFETY_IDS]
    if safety and ids[0] == safety[0]:
        pass  # a safety answer first is always right
    elif not set(expect) <= set(ids):
        return f"answered {ids}"
    wrong_lang = [r.get("lang") for r in replies if r.get("lang") != reply_lang]
    if wrong_lang:
        return f"language {wrong_lang[0]} instead of {reply_lang}"
    return None


def _run_item(webhook: str, item: dict) -> List[dict]:
    sender = f"eval-{uuid.uuid4().hex[:12]}"
    results = []
    for turn in item["turns"]:
        status, body = say(webhook, sender, turn["text"])
        for _ in range(20):  # a running bot's rate limit (--url): wait as told, then send it again
            if status != 429:
                break
            time.sleep(float(body.get("retry_after") or 1) if isinstance(body, dict) else 1)
            status, body = say(webhook, sender, turn["text"])
        replies = body if status == 200 and isinstance(body, list) else []
        problem = (
            judge(list(turn["expect"]), turn["reply_lang"], replies) if status == 200 else f"HTTP {status}"
        )
        results.append(
            {
                "text": turn["text"],
                "expect": turn["expect"],
                "problem": problem,
                "got": [r.get("answer_id") for r in replies],
            }
        )
    return results


def run(webhook: str, items: List[dict], workers: int = 4) -> Dict[str, dict]:
    """Send every item; return accuracy per set and group, with the misses."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda item: _run_item(webhook, item), items))
    groups: Dict[str, List[dict]] = defaultdict(list)
    for item, turns in zip(items, outcomes):
        keys = [f"{item['set']}/{item['form']}"]
        if item["dialect"]:
            keys.append(f"{item['set']}/{item['form']}:{item['dialect']}")
        if item["multi_turn"]:
            keys = [f"{item['set']}/multi-turn", f"{item['set']}/multi-turn:{item['form']}"]
        for key in keys:
            groups[key] += turns
    report = {}
    for key, turns in sorted(groups.items()):
        misses = [t for t in turns if t["problem"]]
        report[key] = {
            "messages": len(turns),
            "correct": round(1 - len(misses) / len(turns), 4),
            "misses": misses,
        }
    return report


def print_report(report: Dict[str, dict]) -> None:
    for key, r in report.items():
        print(f"{key:40s} n={r['messages']:4d}  correct answer and language {r['correct']:.3f}")


def main(
    url: str = "", sets: Optional[List[str]] = None, out: Path = PROJECT_ROOT / "reports" / "answer-eval.json"
) -> int:
    paths = [EVAL_DIR / f"{s}.yml" for s in sets] if sets else sorted(EVAL_DIR.glob("*.yml"))
    items = load_sets(paths)
    tracker_db = PROJECT_ROOT / "var" / "answer-eval-tracker.db"
    report = through_web_channel(lambda webhook: run(webhook, items), url, tracker_db)
    return save_report(report, out, print_report)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="", help="a running bot (default: start one)")
    parser.add_argument("--set", action="append", dest="sets", help="set name under data/eval/nlu")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "reports" / "answer-eval.json")
    args = parser.parse_args()
    raise SystemExit(main(args.url, args.sets, args.out))
