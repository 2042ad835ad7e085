"""The independent evaluation sets (data/eval/) stay independent.

They were written by helpers who saw only the red-flags concepts and the answer ids. Nothing
the bot learns or matches may be copied from them: no NLU example, no safety-corpus message,
no lexicon entry. A shared run of eight words, or a whole message of seven words
or more, is a copy; a short everyday message ("does it hurt") or phrase ("my lips are
swelling") found in both is just the language.
"""

from pathlib import Path
from typing import Iterable, Iterator, Set, Tuple

import yaml

from bot import PROJECT_ROOT
from bot.core.normalize import normalise_for_matching
from bot.tools.eval_integrity import LEXICON_WORDS, eval_texts, is_copy

EVAL_DIR = PROJECT_ROOT / "data" / "eval"


def _eval_texts() -> Set[str]:
    return eval_texts()


def _nlu_examples() -> Iterator[Tuple[Path, str]]:
    for path in (PROJECT_ROOT / "data" / "nlu").rglob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            for line in str(block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    yield path, normalise_for_matching(line.strip()[2:])


def _corpus_messages() -> Iterator[Tuple[Path, str]]:
    for path in (PROJECT_ROOT / "data" / "safety" / "corpus").glob("*.yml"):
        for m in yaml.safe_load(path.read_text(encoding="utf-8")).get("messages") or []:
            yield path, normalise_for_matching(m["text"])


def _terms(node) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _terms(value)
    elif isinstance(node, list):
        for value in node:
            yield from _terms(value)
    elif isinstance(node, str):
        yield normalise_for_matching(node.rstrip("*"))


def _copies(examples: Iterable[Tuple[Path, str]], _texts=None) -> list:
    return [f"{path.relative_to(PROJECT_ROOT)}: {text[:80]}" for path, text in examples if is_copy(text)]


def test_the_evaluation_sets_exist_and_cover_every_written_form():
    forms = set()
    for path in (EVAL_DIR / "safety").glob("*.yml"):
        forms |= {m["lang"] for m in yaml.safe_load(path.read_text(encoding="utf-8"))["messages"]}
    assert {"en", "ar", "ur", "roman_ur", "es", "pt"} <= forms


def test_no_training_example_is_copied_from_an_evaluation_set():
    copies = _copies(_nlu_examples(), _eval_texts())
    assert not copies, f"{len(copies)} NLU examples copy an evaluation message, e.g. {copies[:5]}"


def test_no_safety_corpus_message_is_copied_from_an_evaluation_set():
    copies = _copies(_corpus_messages(), _eval_texts())
    assert not copies, f"{len(copies)} corpus messages copy an evaluation message, e.g. {copies[:5]}"


def test_no_lexicon_entry_is_copied_from_an_evaluation_set():
    lexicons = [
        PROJECT_ROOT / "data" / "safety" / "triggers.yml",
        *sorted((PROJECT_ROOT / "data" / "safety" / "concepts").glob("*.yml")),
    ]
    long_terms = {
        t
        for path in lexicons
        for t in _terms(yaml.safe_load(path.read_text(encoding="utf-8")))
        if len(t.split()) >= LEXICON_WORDS
    }
    texts = _eval_texts()
    copied = sorted(t for t in long_terms if any(f" {t} " in f" {text} " for text in texts))
    assert not copied, f"lexicon entries found verbatim in evaluation messages: {copied[:10]}"
