"""Choose the safety classifier's thresholds: cross-validated recall and false escalations.

    python -m bot.tools.safety_tune [--folds 5]

Trains the two classifiers on 4/5 of the training corpus (data/safety/corpus/ plus the
NLU examples) and scores the held-out fifth, five times, then prints, for a few threshold
settings, the out-of-fold urgent and personal recall of the classifiers alone and of the
whole decision (rules or classifiers), and the share of `none` messages escalated, per
written form. (The rules were written with the whole corpus in view, so the decision's
figures here are optimistic; data/eval/ gives the honest ones.) Only training data is used: the independent evaluation sets under data/eval/
never are.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Tuple

from bot import PROJECT_ROOT
from bot.core.safety.classifier import INTENT_LABELS, SafetyTextClassifier, corpus_messages
from bot.core.safety.guard import SafetyClass, default_guard
from bot.tools.content.files import form_of, read_examples

NLU_DIR = PROJECT_ROOT / "data" / "nlu"


def nlu_examples(nlu_dir: Path = NLU_DIR) -> List[Tuple[str, str, str]]:
    """(text, label, form) of every NLU example."""
    return [
        (example.text, INTENT_LABELS.get(example.intent, "none"), form_of(path))
        for path in sorted(nlu_dir.rglob("*.yml"))
        for example in read_examples(path, [])
    ]


def corpus_examples(with_concept: bool = False) -> list:
    return [
        (m.text, m.label, m.lang, m.concept) if with_concept else (m.text, m.label, m.lang)
        for m in corpus_messages()
    ]


def cross_validate(examples, folds: int, seed: int = 7) -> List[Dict[str, float]]:
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    scores: List[Dict[str, float]] = [{}] * len(examples)
    for k in range(folds):
        test = set(order[k::folds])
        train = [examples[i] for i in order if i not in test]
        model = SafetyTextClassifier().fit([t for t, _, _ in train], [lab for _, lab, _ in train])
        test_idx = sorted(test)
        for i, s in zip(test_idx, model.scores_many([examples[i][0] for i in test_idx])):
            scores[i] = s
        print(f"  fold {k + 1}/{folds} done")
    return scores


def report(examples, scores, rules, grid) -> None:
    for thresholds in grid:
        judge = SafetyTextClassifier(thresholds=thresholds)
        table = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for (text, label, form), s, rule in zip(examples, scores, rules):
            verdict = judge.verdict_of(s)
            learned = {SafetyClass.URGENT: "urgent", SafetyClass.PERSONAL: "personal"}.get(verdict, "none")
            combined = max(learned, rule, key=lambda v: ("none", "personal", "urgent").index(v))
            for name, got in (("classifiers", learned), ("decision", combined)):
                cell = table[form][f"{name}:{label}"]
                cell[1] += 1
                if label == "none":
                    cell[0] += got != "none"
                elif label == "urgent":
                    cell[0] += got == "urgent"
                else:
                    cell[0] += got in ("personal", "urgent")
        print(f"\nthresholds {thresholds} (recall for urgent/personal, escalated share for none)")
        for form, cells in sorted(table.items()):
            parts = [f"{k} {v[0]}/{v[1]}" for k, v in sorted(cells.items())]
            print(f"  {form:9s} " + "  ".join(parts))


def rules_only(examples, form: str, show: int) -> None:
    """The rules alone on the training messages of one written form: recall per concept and
    the `none` messages they escalate, with examples of each miss (for lexicon work)."""
    guard = default_guard()
    table = defaultdict(lambda: [0, 0])
    misses = defaultdict(list)
    for text, label, ex_form, concept in examples:
        if form and ex_form != form:
            continue
        got = {SafetyClass.URGENT: "urgent", SafetyClass.PERSONAL: "personal"}.get(
            guard.check(text).safety_class, "none"
        )
        key = f"{label}:{concept}"
        table[key][1] += 1
        ok = got == label or (label == "personal" and got == "urgent")
        table[key][0] += ok if label != "none" else got == "none"
        if not ok:
            misses[key].append(f"{text}  -> {got}")
    for key, (hit, total) in sorted(table.items()):
        print(f"{key:40s} {hit}/{total} {'right' if key.startswith('none') else 'caught'}")
    for key, texts in sorted(misses.items()):
        print(f"\n== {key}: {len(texts)} wrong")
        for t in texts[:show]:
            print("   ", t)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rules-only", action="store_true", help="the rules alone, per concept, with misses")
    parser.add_argument("--form", default="", help="en, ar, ur, roman_ur, es or pt (with --rules-only)")
    parser.add_argument("--show", type=int, default=15, help="misses to print per concept")
    args = parser.parse_args(argv)
    if args.rules_only:
        with_concepts = corpus_examples(with_concept=True) + [
            (t, lab, f, "nlu") for t, lab, f in nlu_examples()
        ]
        rules_only(with_concepts, args.form, args.show)
        return 0
    examples = corpus_examples() + nlu_examples()
    print(f"{len(examples)} training messages; {args.folds}-fold cross-validation")
    guard = default_guard()
    rules = []
    for text, _, _ in examples:
        verdict = guard.check(text).safety_class
        rules.append({SafetyClass.URGENT: "urgent", SafetyClass.PERSONAL: "personal"}.get(verdict, "none"))
    scores = cross_validate(examples, args.folds)
    from bot.core.safety.classifier import DEFAULT_THRESHOLDS

    report(
        examples,
        scores,
        rules,
        [
            DEFAULT_THRESHOLDS,
            {**DEFAULT_THRESHOLDS, "reader_urgent": 0.5, "reader_personal": 0.8},
            {**DEFAULT_THRESHOLDS, "reader_urgent": 0.8, "shape_urgent": 0.4},
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
