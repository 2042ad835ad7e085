"""Intent accuracy per language on the held-out sets in tests/nlu/ (never trained on).

`make evaluate` prints one line per language and writes reports/nlu-<lang>.json with
accuracy, macro F1, per-intent recall and the confusions.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

from bot import PROJECT_ROOT

HELD_OUT_DIR = PROJECT_ROOT / "tests" / "nlu"
REPORTS_DIR = PROJECT_ROOT / "reports"
SAFETY_INTENTS = ("personal_medical_question", "report_adverse_reaction")


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def score(pairs: List[Tuple[str, str]]) -> Dict[str, object]:
    """Accuracy, macro F1, per-intent recall and confusions of (expected, predicted) pairs."""
    intents = sorted({e for e, _ in pairs})
    tp, fp, fn = Counter(), Counter(), Counter()
    confusions = Counter()
    for expected, predicted in pairs:
        if expected == predicted:
            tp[expected] += 1
        else:
            fn[expected] += 1
            fp[predicted] += 1
            confusions[(expected, predicted)] += 1
    f1s, recall = [], {}
    for intent in intents:
        p = tp[intent] / (tp[intent] + fp[intent]) if tp[intent] + fp[intent] else 0.0
        r = tp[intent] / (tp[intent] + fn[intent]) if tp[intent] + fn[intent] else 0.0
        recall[intent] = round(r, 4)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return {
        "examples": len(pairs),
        "accuracy": round(sum(tp.values()) / len(pairs), 4) if pairs else 0.0,
        "macro_f1": round(statistics.mean(f1s), 4) if f1s else 0.0,
        "recall": recall,
        "confusions": [{"expected": e, "predicted": p, "count": c} for (e, p), c in confusions.most_common()],
    }


async def _parse_all(files: Dict[str, Path], model: Path) -> Dict[str, dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results = {}
    for lang, path in files.items():
        pairs, latencies, misses = [], [], []
        for text, expected in load_examples(path):
            started = time.perf_counter()
            parsed = await agent.parse_message(text)
            latencies.append((time.perf_counter() - started) * 1000)
            predicted = (parsed.get("intent") or {}).get("name")
            pairs.append((expected, predicted))
            if predicted != expected:
                misses.append({"text": text, "expected": expected, "predicted": predicted})
        report = score(pairs)
        report["misses"] = misses
        latencies.sort()
        report["parse_ms"] = {"median": round(statistics.median(latencies), 2),
                              "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2)}
        results[lang] = report
    return results


def evaluate(min_accuracy: float = 0.0, model: Path = None) -> int:
    from bot.model import model_path

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    files = {p.stem: p for p in sorted(HELD_OUT_DIR.glob("*.yml"))}
    results = asyncio.run(_parse_all(files, Path(model or model_path())))
    REPORTS_DIR.mkdir(exist_ok=True)
    failed = False
    for lang, report in results.items():
        (REPORTS_DIR / f"nlu-{lang}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                                      encoding="utf-8")
        safety = {i: report["recall"].get(i) for i in SAFETY_INTENTS}
        print(f"{lang:9s} accuracy {report['accuracy']:.3f}  macro F1 {report['macro_f1']:.3f}  "
              f"n={report['examples']}  safety recall {safety}  "
              f"parse median {report['parse_ms']['median']} ms p95 {report['parse_ms']['p95']} ms")
        failed |= report["accuracy"] < min_accuracy
    return 1 if failed else 0
