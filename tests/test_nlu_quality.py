"""The CI gate on understanding: held-out accuracy per language and safety recall.

The figures come from bot/tools/evaluate.py, the same code `make evaluate` reports with.
"""

import pytest

from bot.tools.evaluate import SAFETY_INTENTS, held_out_reports, language_id_report
from bot.tools.model import train

pytestmark = pytest.mark.slow
# What the model reached on data/eval/held_out when the gate was last raised (2026-12-05: en 0.944,
# ar 0.958, ur 0.960, roman_ur 0.989), minus two points: a change that loses one language fails.
MIN_ACCURACY = {"en": 0.924, "ar": 0.938, "ur": 0.940, "roman_ur": 0.969}


@pytest.fixture(scope="module")
def reports():
    train()
    return held_out_reports()


def test_every_language_is_held_out(reports):
    assert set(reports) == {"en", "ar", "ur", "roman_ur"}
    for lang, report in reports.items():
        assert report["examples"] >= 150, lang


@pytest.mark.parametrize("lang", ["en", "ar", "ur", "roman_ur"])
def test_held_out_intent_accuracy(reports, lang):
    report = reports[lang]
    assert report["accuracy"] >= MIN_ACCURACY[lang], (report["accuracy"], report["misses"])


@pytest.mark.parametrize("lang", ["en", "ar", "ur", "roman_ur"])
def test_safety_intents_are_never_missed(reports, lang):
    report = reports[lang]
    for intent in SAFETY_INTENTS:
        missed = [m for m in report["misses"] if m["expected"] == intent]
        assert report["recall"][intent] == 1.0, missed


def test_language_identification():
    report = language_id_report()
    assert report["labelled_set"]["accuracy"] >= 0.98, report["labelled_set"]
    assert report["held_out_sets"]["accuracy"] >= 0.98, report["held_out_sets"]
