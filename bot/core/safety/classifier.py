"""The trained half of the safety decision: two text classifiers of its own, tuned for recall.

Rules know the words their authors thought of; classifiers trained on thousands of labelled
messages (data/safety/corpus/, the NLU examples of the two safety intents, and every
information example as a negative) also catch the paraphrases in between. Two of them,
because they fail differently:

- `reader`: character 2-5-grams inside word boundaries (spelling variants, clitics and typos
  in all four written forms) plus word 1-2-grams, into a logistic regression with balanced
  classes. It knows nothing of the rules, so it catches what they never listed; it cannot read
  negation, so it escalates only when it is sure.
- `shape`: the same n-grams plus the rules' reading of the message (a report of a treatment,
  a general question, negated signs...; bot/core/safety/guard.py `features`). It tells "no swelling,
  when do results show?" from a report, so its threshold can be low.

The decision escalates when the rules or either model says so (bot/core/safety/decision.py). The
thresholds are in config.yml; `python -m bot.tools.safety_tune` prints what each costs on the
training corpus (cross-validated).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot import PROJECT_ROOT
from bot.core._yaml import read_yaml
from bot.core.normalize import normalise_for_matching
from bot.core.safety.guard import SafetyClass

CORPUS_DIR = PROJECT_ROOT / "data" / "safety" / "corpus"
LABELS = ("none", "personal", "urgent")
# Corpus files say `general` or `neither` for what the classifier calls `none`.
_LABEL_NAMES = {
    "urgent": "urgent",
    "personal": "personal",
    "none": "none",
    "general": "none",
    "neither": "none",
}
DEFAULT_THRESHOLDS = {
    "shape_urgent": 0.30,
    "shape_personal": 0.70,
    "reader_urgent": 0.60,
    "reader_personal": 0.70,
}
MODELS = ("reader", "shape")
# The models' inverse regularisation strength; config.yml may set another (`c`).
DEFAULT_C = 8.0


@dataclass(frozen=True)
class CorpusMessage:
    """One labelled message of data/safety/corpus/."""

    text: str
    label: str  # one of LABELS
    lang: str  # its written form (en, ar, ur, roman_ur, ...), "?" where the file gives none
    concept: str  # the red-flag concept it was written for, "-" where the file gives none


def corpus_messages(paths: Optional[Iterable[Path]] = None) -> List[CorpusMessage]:
    """The messages of the safety corpus files: the one reader of data/safety/corpus/."""
    out = []
    for path in sorted(paths if paths is not None else CORPUS_DIR.glob("*.yml")):
        for m in (read_yaml(path) or {}).get("messages") or []:
            label = _LABEL_NAMES[str(m["label"])]
            out.append(
                CorpusMessage(str(m["text"]), label, str(m.get("lang") or "?"), str(m.get("concept") or "-"))
            )
    return out


def read_corpus(paths: Optional[Iterable[Path]] = None) -> List[Tuple[str, str]]:
    """(text, label) pairs of the safety corpus files."""
    return [(m.text, m.label) for m in corpus_messages(paths)]


# The NLU examples of the two safety intents are urgent and personal; every other intent's are
# negatives.
INTENT_LABELS = {"report_adverse_reaction": "urgent", "personal_medical_question": "personal"}


def training_pairs(
    examples: Iterable[Tuple[Optional[str], Optional[str]]], corpus: Optional[Iterable[Path]] = None
) -> Tuple[List[str], List[str]]:
    """The texts and labels the classifiers learn from: the safety corpus, then the model's NLU
    examples as (text, intent), in their order; examples without text left out."""
    pairs = read_corpus(corpus)
    pairs += [(text, INTENT_LABELS.get(intent or "", "none")) for text, intent in examples if text]
    return [text for text, _ in pairs], [label for _, label in pairs]


def fit_key(texts: Sequence[str], labels: Sequence[str], c: float) -> str:
    """A hash of everything a fit depends on besides the code: the same key, the same models."""
    return hashlib.sha256(json.dumps([float(c), list(texts), list(labels)]).encode()).hexdigest()


def corpus_fingerprint(paths: Optional[Iterable[Path]] = None) -> str:
    """A hash of the corpus files, so Rasa retrains the classifier when they change."""
    digest = hashlib.sha256()
    for path in sorted(paths if paths is not None else CORPUS_DIR.glob("*.yml")):
        digest.update(Path(path).name.encode() + b"\0" + Path(path).read_bytes())
    return digest.hexdigest()


class GuardFeatures:
    """The rules' reading of a message as features (report shape, general-question shape,
    negated signs...): they let the model learn that "no swelling, when do results show?" is
    not a report. Stateless: the guard is the one loaded now, so nothing of it is pickled."""

    def __init__(self, weight: float = 3.0):
        self.weight = weight

    def fit(self, texts, labels=None):
        return self

    def transform(self, texts):
        import numpy as np
        from scipy.sparse import csr_matrix

        from bot.core.safety.guard import default_guard

        guard = default_guard()
        return csr_matrix(np.array([guard.features(t) for t in texts], dtype=float) * self.weight)

    def get_params(self, deep=True):
        return {"weight": self.weight}

    def set_params(self, **params):
        self.weight = params.get("weight", self.weight)
        return self


def _pipeline(c: float = DEFAULT_C, with_rules: bool = True):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            *([("rules", GuardFeatures())] if with_rules else []),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                    preprocessor=normalise_for_matching,
                    max_features=200_000,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    min_df=1,
                    sublinear_tf=True,
                    preprocessor=normalise_for_matching,
                    token_pattern=r"(?u)[\w']+",
                ),
            ),
        ]
    )
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    return Pipeline([("features", features), ("model", model)])


def _fit_pipeline(c: float, with_rules: bool, texts: List[str], labels: List[str]):
    """One model's fit: what each process of `SafetyTextClassifier.fit` runs."""
    return _pipeline(c, with_rules=with_rules).fit(texts, labels)


def fit_models_here(texts: List[str], labels: List[str], c: float = DEFAULT_C) -> Dict[str, object]:
    """Both models in this process, one after the other (`SafetyTextClassifier.fit` fits the
    same two at once, each in a process of its own)."""
    return {name: _fit_pipeline(c, name == "shape", texts, labels) for name in MODELS}


class SafetyTextClassifier:
    """Probabilities of urgent / personal / none from both models, and a verdict from thresholds."""

    def __init__(
        self, pipelines: Optional[Dict[str, object]] = None, thresholds: Optional[Dict[str, float]] = None
    ):
        self.pipelines = dict(pipelines or {})
        self.thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
        self._scorer = None  # made on first use, again when `pipelines` is replaced

    def fit(
        self, texts: Sequence[str], labels: Sequence[str], c: float = DEFAULT_C
    ) -> "SafetyTextClassifier":
        """Both models at once, each in a process of its own.

        Each process fits exactly what `_pipeline(...).fit` fits in this one (the same
        coefficients: tests/bot/core/safety/test_classifier.py). Processes, not threads, because
        `make train` fits them while DIET trains in this process (bot/tools/rasa_train.py), and
        much of a fit is Python holding the global lock (the rules' reading of 12,500 messages,
        the vectorisers' tokenising, the solver's loop): in threads, DIET's own Python queued
        behind them (the figures: bot/tools/rasa_train.py). `spawn`: a fresh interpreter that
        imports this module and scikit-learn, never a copy of a process running TensorFlow's
        threads."""
        texts, labels = list(texts), list(labels)
        with ProcessPoolExecutor(
            max_workers=len(MODELS), mp_context=multiprocessing.get_context("spawn")
        ) as pool:
            fits = {name: pool.submit(_fit_pipeline, c, name == "shape", texts, labels) for name in MODELS}
            self.pipelines = {name: fit.result() for name, fit in fits.items()}
        return self

    def scores_many(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        """Per message: `reader_urgent`, `reader_personal`, `shape_urgent`, `shape_personal`.

        The same probabilities as each pipeline's `predict_proba`, computed the way it
        computes them minus what it repeats for every message (bot/core/safety/_fast_scoring.py)."""
        out: List[Dict[str, float]] = [{} for _ in texts]
        if not texts:
            return out
        if self._scorer is None or self._scorer.pipelines is not self.pipelines:
            from bot.core.safety._fast_scoring import FastScorer

            self._scorer = FastScorer(self.pipelines)
        names = [name for name in MODELS if name in self.pipelines]
        for name, probabilities in self._scorer.predict_proba_many(names, list(texts)).items():
            classes = list(self.pipelines[name].classes_)
            for row, scores in zip(probabilities, out):
                for label in ("urgent", "personal"):
                    scores[f"{name}_{label}"] = float(row[classes.index(label)]) if label in classes else 0.0
        return out

    def scores(self, text: str) -> Dict[str, float]:
        return self.scores_many([text])[0]

    def verdict_of(self, scores: Dict[str, float]) -> Optional[SafetyClass]:
        over = lambda key: scores.get(key, 0.0) >= self.thresholds[key]  # noqa: E731
        if over("shape_urgent") or over("reader_urgent"):
            return SafetyClass.URGENT
        if over("shape_personal") or over("reader_personal"):
            return SafetyClass.PERSONAL
        return None

    def verdict(self, text: str) -> Optional[SafetyClass]:
        return self.verdict_of(self.scores(text))
