"""bot/core/safety/_fast_scoring.py gives exactly the probabilities of sklearn's own pipelines."""

import numpy as np
import pytest

from bot.core.safety.classifier import MODELS, SafetyTextClassifier, read_corpus

# Trains the classifiers on a third of the corpus (about half a minute): `make test-slow`.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus():
    pairs = read_corpus()
    # Every third message trains (both labels of every kind are spread through the files);
    # all of them are scored, seen or not.
    return [t for t, _ in pairs[::3]], [label for _, label in pairs[::3]], [t for t, _ in pairs]


def test_the_same_probabilities_as_predict_proba_one_message_at_a_time_and_in_batches(corpus):
    texts, labels, everything = corpus
    classifier = SafetyTextClassifier().fit(texts, labels)
    for name in MODELS:
        expected = classifier.pipelines[name].predict_proba(everything)
        classes = list(classifier.pipelines[name].classes_)
        batch = classifier.scores_many(everything)
        for label in ("urgent", "personal"):
            got = np.array([scores[f"{name}_{label}"] for scores in batch])
            np.testing.assert_allclose(got, expected[:, classes.index(label)], rtol=0, atol=1e-12)
    for text in everything[:: max(1, len(everything) // 150)]:  # the bot scores one message at a time
        single = classifier.scores(text)
        for name in MODELS:
            row = classifier.pipelines[name].predict_proba([text])[0]
            classes = list(classifier.pipelines[name].classes_)
            assert single[f"{name}_urgent"] == pytest.approx(row[classes.index("urgent")], abs=1e-12)
            assert single[f"{name}_personal"] == pytest.approx(row[classes.index("personal")], abs=1e-12)


def test_a_verdict_is_unchanged_by_the_kept_readings_of_the_rules(corpus):
    from bot.core.safety.guard import default_guard

    guard = default_guard()
    text = "my lips are swelling after the injections"
    first = guard.read(text)
    assert guard.read(text) is first  # the second read (the classifier's features) is free
    assert guard.decide(guard.read(text)) == guard.decide(guard._read(text))
