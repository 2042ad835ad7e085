"""The trained half of the safety decision: a text classifier of its own, tuned for recall.

Rules know the words their authors thought of; a classifier trained on thousands of
labelled messages (data/safety/corpus/, the NLU examples of the two safety intents, and
every information example as a negative) also catches the paraphrases in between. It is
deliberately simple and fast (well under a millisecond a message): character 2-5-grams
inside word boundaries, which absorb spelling variants, clitics and typos in all four
written forms, plus word 1-2-grams, into one logistic regression with balanced classes.

Its thresholds are set low so that it errs towards escalation: the decision escalates when
either the rules or this model says so (bot/safety/decision.py). They are chosen with
`python -m bot.safety.tune`, which prints cross-validated recall and false escalations on
the training corpus, and set in config.yml.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import yaml

from bot import PROJECT_ROOT
from bot.normalize import normalise_for_matching
from bot.safety.guard import SafetyClass

CORPUS_DIR = PROJECT_ROOT / "data" / "safety" / "corpus"
LABELS = ("none", "personal", "urgent")
# Corpus files say `general` or `neither` for what the classifier calls `none`.
_LABEL_NAMES = {"urgent": "urgent", "personal": "personal", "none": "none", "general": "none", "neither": "none"}
DEFAULT_THRESHOLDS = {"urgent": 0.30, "personal": 0.40}


def read_corpus(paths: Optional[Iterable[Path]] = None) -> List[Tuple[str, str]]:
    """(text, label) pairs of the safety corpus files."""
    pairs = []
    for path in sorted(paths if paths is not None else CORPUS_DIR.glob("*.yml")):
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for m in raw.get("messages") or []:
            pairs.append((str(m["text"]), _LABEL_NAMES[str(m["label"])]))
    return pairs


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

        from bot.safety.guard import default_guard

        guard = default_guard()
        return csr_matrix(np.array([guard.features(t) for t in texts], dtype=float) * self.weight)

    def get_params(self, deep=True):
        return {"weight": self.weight}

    def set_params(self, **params):
        self.weight = params.get("weight", self.weight)
        return self


def _pipeline(c: float = 8.0):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion([
        ("rules", GuardFeatures()),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                  preprocessor=normalise_for_matching,
                                  max_features=200_000)),
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                  preprocessor=normalise_for_matching,
                                  token_pattern=r"(?u)[\w']+")),
    ])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    return Pipeline([("features", features), ("model", model)])


class SafetyTextClassifier:
    """Probabilities of urgent / personal / none for a message, and a verdict from thresholds."""

    def __init__(self, pipeline=None, thresholds: Optional[Dict[str, float]] = None):
        self.pipeline = pipeline
        self.thresholds = {**DEFAULT_THRESHOLDS, **(thresholds or {})}

    @staticmethod
    def prepare(texts: Iterable[str]) -> List[str]:
        # The rule features read the original text (clause boundaries matter to them); the
        # n-gram vectorisers normalise it themselves through `preprocessor` below.
        return list(texts)

    def fit(self, texts: Sequence[str], labels: Sequence[str], c: float = 8.0) -> "SafetyTextClassifier":
        self.pipeline = _pipeline(c).fit(self.prepare(texts), list(labels))
        return self

    def scores_many(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        if self.pipeline is None or not texts:
            return [{label: 0.0 for label in LABELS} for _ in texts]
        classes = list(self.pipeline.classes_)
        probabilities = self.pipeline.predict_proba(self.prepare(texts))
        return [{label: float(row[classes.index(label)]) if label in classes else 0.0 for label in LABELS}
                for row in probabilities]

    def scores(self, text: str) -> Dict[str, float]:
        return self.scores_many([text])[0]

    def verdict_of(self, scores: Dict[str, float]) -> Optional[SafetyClass]:
        if scores.get("urgent", 0.0) >= self.thresholds["urgent"]:
            return SafetyClass.URGENT
        if scores.get("personal", 0.0) >= self.thresholds["personal"]:
            return SafetyClass.PERSONAL
        return None

    def verdict(self, text: str) -> Optional[SafetyClass]:
        return self.verdict_of(self.scores(text))
