"""How well the bot understands each language, on held-out data it never trained on.

- Intent accuracy, macro F1, per-intent recall and the confusions per language, on
  `data/eval/held_out/<lang>.yml` (English, Arabic, Urdu, Roman Urdu).
- Language identification accuracy on `data/eval/language_id.yml` and on the held-out
  sets, and how often a message of three or more words would be answered in the wrong
  language.
- Parse latency (median and 95th percentile).

`make evaluate` writes reports/nlu-<lang>.json and reports/confusion-<lang>.png and
prints one line per language. tests/test_nlu_quality.py uses the same numbers as a gate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot import PROJECT_ROOT
from bot.core._yaml import read_yaml
from bot.core.safety import SAFETY_INTENTS  # noqa: F401 - part of this module's surface (tests, retrain)

HELD_OUT_DIR = PROJECT_ROOT / "data" / "eval" / "held_out"
LANGUAGE_ID_SET = PROJECT_ROOT / "data" / "eval" / "language_id.yml"
REPORTS_DIR = PROJECT_ROOT / "reports"
REPLY_LANGUAGE = {"en": "en", "ar": "ar", "ur": "ur", "roman_ur": "ur"}


def load_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def score(pairs: List[Tuple[str, str]]) -> Dict[str, object]:
    """Accuracy, macro F1, per-intent recall and confusions of (expected, predicted) pairs.

    Macro F1 and recall are over the intents the set expects (scikit-learn's metrics); a
    prediction of some other intent counts against the expected one.
    """
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    if not pairs:
        return {"examples": 0, "accuracy": 0.0, "macro_f1": 0.0, "recall": {}, "confusions": []}
    intents = sorted({e for e, _ in pairs})
    expected = [e for e, _ in pairs]
    predicted = [p or "" for _, p in pairs]
    recalls = recall_score(expected, predicted, labels=intents, average=None, zero_division=0)
    macro_f1 = f1_score(expected, predicted, labels=intents, average="macro", zero_division=0)
    confusions = Counter((e, p) for e, p in pairs if e != p)
    return {
        "examples": len(pairs),
        "accuracy": round(float(accuracy_score(expected, predicted)), 4),
        "macro_f1": round(float(macro_f1), 4),
        "recall": {intent: round(float(r), 4) for intent, r in zip(intents, recalls)},
        "confusions": [{"expected": e, "predicted": p, "count": c} for (e, p), c in confusions.most_common()],
    }


async def _parse_held_out(model: Path) -> Dict[str, dict]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # Rasa's structured log otherwise prints every held-out message at debug level.
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    results = {}
    for path in sorted(HELD_OUT_DIR.glob("*.yml")):
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
        report["pairs"] = pairs
        latencies.sort()
        report["parse_ms"] = {
            "median": round(statistics.median(latencies), 2),
            "p95": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        }
        results[path.stem] = report
    return results


def held_out_reports(model: Optional[Path] = None) -> Dict[str, dict]:
    """Intent reports per held-out language file, from the model (default: the current one)."""
    from bot.tools.model import model_path

    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    return asyncio.run(_parse_held_out(Path(model or model_path())))


def language_id_report() -> Dict[str, object]:
    """Detector accuracy per label on the labelled set and on the held-out NLU sets."""
    from bot.core.language import choose_reply_language, detect_language

    labelled = [(m["text"], m["lang"]) for m in read_yaml(LANGUAGE_ID_SET)["messages"]]
    held_out = [
        (text, path.stem) for path in sorted(HELD_OUT_DIR.glob("*.yml")) for text, _ in load_examples(path)
    ]
    out: Dict[str, object] = {}
    for name, items in (("labelled_set", labelled), ("held_out_sets", held_out)):
        right, total = Counter(), Counter()
        for text, lang in items:
            total[lang] += 1
            right[lang] += (detect_language(text).language or "none") == lang
        out[name] = {
            "accuracy": round(sum(right.values()) / len(items), 4),
            "per_label": {lang: round(right[lang] / n, 4) for lang, n in sorted(total.items())},
            "messages": len(items),
        }
    long_messages = [(t, lang) for t, lang in labelled + held_out if lang != "none" and len(t.split()) >= 3]
    wrong = [t for t, lang in long_messages if choose_reply_language(t, None) != REPLY_LANGUAGE[lang]]
    out["wrong_reply_language_3plus_words"] = {
        "count": len(wrong),
        "of": len(long_messages),
        "messages": wrong,
    }
    return out


def plot_confusion(lang: str, pairs: List[Tuple[str, str]], path: Path) -> None:
    """A confusion-matrix PNG: rows the expected intent, columns the predicted one."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted({e for e, _ in pairs} | {p for _, p in pairs if p})
    matrix = confusion_matrix([e for e, _ in pairs], [p or e for e, p in pairs], labels=labels).tolist()
    fig, ax = plt.subplots(figsize=(11, 10))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(
                    j, i, value, ha="center", va="center", fontsize=6, color="white" if i == j else "darkred"
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    ax.set_title(f"Held-out intents, {lang} ({len(pairs)} messages)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(min_accuracy: float = 0.0, model: Optional[Path] = None) -> int:
    """`make evaluate`: reports, plots and a one-line summary per language."""
    REPORTS_DIR.mkdir(exist_ok=True)
    failed = False
    for lang, report in held_out_reports(model).items():
        plot_confusion(lang, report["pairs"], REPORTS_DIR / f"confusion-{lang}.png")
        report = {k: v for k, v in report.items() if k != "pairs"}
        (REPORTS_DIR / f"nlu-{lang}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        safety = " ".join(f"{i.split('_')[0]} {report['recall'].get(i, 0):.2f}" for i in SAFETY_INTENTS)
        print(
            f"{lang:9s} intent accuracy {report['accuracy']:.3f}  macro F1 {report['macro_f1']:.3f}  "
            f"n={report['examples']}  safety recall: {safety}  "
            f"parse ms median {report['parse_ms']['median']} p95 {report['parse_ms']['p95']}"
        )
        failed |= report["accuracy"] < min_accuracy
    lid = language_id_report()
    (REPORTS_DIR / "language-id.json").write_text(
        json.dumps(lid, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    for name in ("labelled_set", "held_out_sets"):
        part = lid[name]
        print(f"language id on {name} ({part['messages']}): {part['accuracy']:.3f}  {part['per_label']}")
    wrong = lid["wrong_reply_language_3plus_words"]
    print(f"reply in the wrong language, messages of 3+ words: {wrong['count']} of {wrong['of']}")
    return 1 if failed else 0
