"""bot/rasa_server/nlu/safety_early_fit.py: the safety classifiers fitted while Rasa starts, used
only when they were fitted on exactly the pairs the training graph gives the safety layer."""

import numpy as np
import pytest

from bot.core.safety.classifier import MODELS, fit_models_here, training_pairs
from bot.rasa_server.nlu import safety_early_fit

CONFIG = """\
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: bot.rasa_server.nlu.safety_layer.SafetyLayer
    c: 2.0
"""
DOMAIN = "version: '3.1'\nintents: [ask_pain, report_adverse_reaction]\n"
# The NLU examples as the file lists them, in its order: what the training graph gives.
EXAMPLES = [
    ("does mesotherapy hurt", "ask_pain"),
    ("is it painful", "ask_pain"),
    ("how much pain is there", "ask_pain"),
    ("my face is swollen after the injections", "report_adverse_reaction"),
    ("i have a rash and fever since my session", "report_adverse_reaction"),
    ("my lips are swelling and i cannot breathe well", "report_adverse_reaction"),
]
CORPUS = """\
messages:
  - {text: "my eyes are swollen since the treatment", lang: en, label: urgent}
  - {text: "the injection area is hot and full of pus", lang: en, label: urgent}
  - {text: "can i have it while pregnant", lang: en, label: personal}
  - {text: "should i stop my blood thinners first", lang: en, label: personal}
  - {text: "what is mesotherapy", lang: en, label: general}
  - {text: "how many sessions do i need", lang: en, label: general}
"""


def _nlu(examples) -> str:
    by_intent = {}
    for text, intent in examples:
        by_intent.setdefault(intent, []).append(text)
    blocks = [
        f"  - intent: {intent}\n    examples: |\n" + "".join(f"      - {t}\n" for t in texts)
        for intent, texts in by_intent.items()
    ]
    return "version: '3.1'\nnlu:\n" + "".join(blocks)


@pytest.fixture()
def project(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "config.yml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    (tmp_path / "data" / "nlu.yml").write_text(_nlu(EXAMPLES), encoding="utf-8")
    (tmp_path / "corpus.yml").write_text(CORPUS, encoding="utf-8")
    return tmp_path


def _start(project, config="config.yml") -> bool:
    return safety_early_fit.start(
        project / config, project / "domain.yml", [project / "data"], corpus=[project / "corpus.yml"]
    )


def test_the_models_fitted_early_are_the_ones_the_training_would_fit(project):
    assert _start(project)
    texts, labels = training_pairs(EXAMPLES, corpus=[project / "corpus.yml"])
    early = safety_early_fit.take(texts, labels, 2.0)
    assert early is not None, "the early fit read the same pairs"
    here = fit_models_here(texts, labels, 2.0)
    for name in MODELS:
        assert list(early[name].classes_) == list(here[name].classes_)
        np.testing.assert_array_equal(early[name][-1].coef_, here[name][-1].coef_)
    assert safety_early_fit.take(texts, labels, 2.0) is None, "taken once"


@pytest.mark.parametrize("change", ["a text", "a label", "C"])
def test_models_fitted_on_other_pairs_are_not_used(project, change):
    assert _start(project)
    texts, labels = training_pairs(EXAMPLES, corpus=[project / "corpus.yml"])
    c = 2.0
    if change == "a text":
        texts[-1] += "!"
    elif change == "a label":
        labels[-1] = "none"
    else:
        c = 8.0
    assert safety_early_fit.take(texts, labels, c) is None


def test_a_failed_early_fit_leaves_the_fit_to_the_training(project):
    (project / "data" / "nlu.yml").write_text("nlu: [unclosed", encoding="utf-8")
    assert _start(project)
    texts, labels = training_pairs(EXAMPLES, corpus=[project / "corpus.yml"])
    assert safety_early_fit.take(texts, labels, 2.0) is None  # an answer, not a wait


def test_a_config_without_the_safety_layer_starts_nothing(project):
    (project / "other.yml").write_text("language: en\npipeline:\n  - name: WhitespaceTokenizer\n")
    assert not _start(project, "other.yml")
    assert safety_early_fit.take(["x"], ["none"], 8.0) is None


def test_the_projects_config_starts_the_early_fit_with_the_layers_settings():
    from bot import PROJECT_ROOT
    from bot.rasa_server.nlu.safety_layer import SafetyLayer

    assert safety_early_fit.COMPONENT == f"{SafetyLayer.__module__}.{SafetyLayer.__name__}"
    assert safety_early_fit.safety_settings(PROJECT_ROOT / "config.yml") == (
        SafetyLayer.get_default_config()["c"],
        "en",
    )
