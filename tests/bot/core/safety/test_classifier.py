"""The trained half of the safety decision: two classifiers, thresholds, the corpus."""

import pytest

from bot.core.safety import SafetyClass
from bot.core.safety.classifier import (
    DEFAULT_THRESHOLDS,
    SafetyTextClassifier,
    corpus_fingerprint,
    corpus_messages,
    read_corpus,
)

# Fitting both classifiers on the whole corpus takes about 25 s: `make test-slow`, not test-fast.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained():
    pairs = read_corpus()
    return SafetyTextClassifier().fit([t for t, _ in pairs], [label for _, label in pairs])


def test_the_corpus_has_every_label_in_every_written_form():
    forms = {(m.lang, m.label) for m in corpus_messages()}
    for form in ("en", "ar", "ur", "roman_ur"):
        assert {(form, "urgent"), (form, "personal"), (form, "none")} <= forms


def test_a_changed_corpus_changes_the_fingerprint(tmp_path):
    a = tmp_path / "a.yml"
    a.write_text("messages:\n  - {text: hi, lang: en, label: none}\n", encoding="utf-8")
    before = corpus_fingerprint([a])
    a.write_text("messages:\n  - {text: hi there, lang: en, label: none}\n", encoding="utf-8")
    assert corpus_fingerprint([a]) != before


def test_either_model_over_its_threshold_escalates():
    judge = SafetyTextClassifier(thresholds=DEFAULT_THRESHOLDS)
    assert judge.verdict_of({"reader_urgent": 0.9}) is SafetyClass.URGENT
    assert judge.verdict_of({"shape_urgent": 0.31}) is SafetyClass.URGENT
    assert judge.verdict_of({"reader_urgent": 0.5, "shape_personal": 0.75}) is SafetyClass.PERSONAL
    assert judge.verdict_of({"reader_urgent": 0.5, "reader_personal": 0.5}) is None
    assert judge.verdict_of({}) is None


@pytest.mark.parametrize(
    "text",
    [
        # paraphrases written for this test, with no alarm word of the lexicons
        "since the meso my forehead has a lacy purple pattern and it feels cold like a fridge",
        "mujhe meso ke baad se aankh ke aage dhuan sa lag raha hai",
    ],
)
def test_reports_in_other_words_are_escalated(trained, text):
    assert trained.verdict(text) is SafetyClass.URGENT


@pytest.mark.parametrize(
    "text",
    [
        "how much does a session cost?",
        "kitne sessions lagte hain",
        "ما هي الميزوثيرابي",
        "کیا یہ درد کرتا ہے",
    ],
)
def test_ordinary_questions_are_left_alone(trained, text):
    assert trained.verdict(text) is None


def test_the_models_fitted_in_processes_of_their_own_are_the_ones_fitted_here():
    import numpy as np

    from bot.core.safety.classifier import MODELS, fit_models_here

    pairs = read_corpus()[::4]
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    at_once = SafetyTextClassifier().fit(texts, labels).pipelines
    here = fit_models_here(texts, labels)
    for name in MODELS:
        alone = here[name]
        assert list(at_once[name].classes_) == list(alone.classes_)
        np.testing.assert_array_equal(at_once[name][-1].coef_, alone[-1].coef_)
        np.testing.assert_array_equal(at_once[name][-1].intercept_, alone[-1].intercept_)
