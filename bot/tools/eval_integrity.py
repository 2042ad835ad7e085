"""Keeping the independent evaluation sets (data/eval/) independent of what the bot learns.

The sets were written by helpers who saw only the red-flags concepts and the answer ids.
Training data written later (NLU examples, the safety corpus, lexicons) must not copy them.
A shared run of eight words, or a whole message of seven words or more, counts as a copy; a
short everyday message ("does it hurt") or a phrase ("my lips are swelling") in both is just
the language. Independent writers sometimes converge on the same sentence: such a training
message is dropped (`drop_copies`), never the evaluation message.

    python -m bot.tools.eval_integrity   # drop training messages that copy an evaluation message
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Set, Tuple

import yaml

from bot import PROJECT_ROOT
from bot.core._yaml import read_yaml
from bot.core.normalize import normalise_for_matching

EVAL_DIR = PROJECT_ROOT / "data" / "eval"
RUN = 8  # words in a row that make a copy
WHOLE = 7  # a whole message this long, the same in both, is a copy
LEXICON_WORDS = 6  # a lexicon entry this long found verbatim in an evaluation message is a copy


# The sets written independently of this project (data/eval/README.md). The held-out sets
# (held_out/) and the language-id set are this project's own, checked by their own tests.
INDEPENDENT_SETS = ("nlu", "safety")


def eval_texts(eval_dir: Path = EVAL_DIR) -> Set[str]:
    texts = set()
    for path in (p for name in INDEPENDENT_SETS for p in (eval_dir / name).rglob("*.yml")):
        raw = read_yaml(path) or {}
        for m in raw.get("messages") or []:
            texts.add(normalise_for_matching(m["text"]))
        for c in raw.get("conversations") or []:
            texts |= {normalise_for_matching(t["text"]) for t in c["turns"]}
    return texts


def runs(text: str, n: int = RUN) -> Set[Tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


@lru_cache(maxsize=1)
def _index() -> Tuple[FrozenSet[str], FrozenSet[tuple]]:
    texts = eval_texts()
    return frozenset(texts), frozenset(set().union(*(runs(t) for t in texts)) if texts else set())


def is_copy(text: str) -> bool:
    texts, all_runs = _index()
    norm = normalise_for_matching(text)
    return (norm in texts and len(norm.split()) >= WHOLE) or bool(runs(norm) & all_runs)


def drop_copies(root: Path = PROJECT_ROOT) -> int:
    """Remove the training messages that copy an evaluation message; returns how many."""
    removed = 0
    files = [*(root / "data" / "safety" / "corpus").glob("*.yml"), *(root / "data" / "nlu").rglob("*.yml")]
    for path in files:
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            item = line.strip()
            text = None
            if item.startswith("- {text:"):
                text = str((yaml.safe_load(item[2:]) or {}).get("text") or "")
            elif item.startswith("- ") and path.parts[-3:-1] != ("safety", "corpus") and ":" not in item[:12]:
                text = item[2:]
            if text and is_copy(text):
                removed += 1
                continue
            kept.append(line)
        path.write_text("".join(kept), encoding="utf-8")
    return removed


if __name__ == "__main__":
    print(f"dropped {drop_copies()} training messages that copied an evaluation message")
