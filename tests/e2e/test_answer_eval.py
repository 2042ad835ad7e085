"""The CI gate on answers: the independent evaluation sets (data/eval/nlu) through the web channel.

The share of messages answered with the right answer id(s) in the right language, per set and
written form (bot/tools/answer_eval.py, the figures `make answer-eval` prints). Each gate is what the
bot reached when it was set (issue 13, understanding) minus two points, so a change that loses
understanding in one form fails here even when the others improve. Only the figures are shown
on failure: the sets' messages stay out of logs (tests/test_eval_integrity.py).
"""

import pytest

from bot.tools.answer_eval import EVAL_DIR, load_sets, run

pytestmark = pytest.mark.e2e

# Reached 2026-12-05 by the shipped model (DIET 25 epochs; bot/tools/answer_eval.py's figures):
# set_a: en 0.950, ar 0.913, ur 0.906, roman_ur 0.911; set_b: en 0.900, ar 0.903, ur 0.875,
# roman_ur 0.917; multi-turn set_a 0.850 / 1.000, set_b 0.950 / 0.938. A gate is that minus two
# points or two messages, whichever is more (a multi-turn group has 20-48 messages, where one
# message is more than two points and retraining on a new machine moves a message or two).
REACHED = {
    "set_a_en_ur/en": (0.950, 180),
    "set_a_en_ur/ur": (0.906, 160),
    "set_a_en_ur/roman_ur": (0.911, 180),
    "set_a_ar/ar": (0.913, 300),
    "set_b_en_ur/en": (0.900, 180),
    "set_b_en_ur/ur": (0.875, 160),
    "set_b_en_ur/roman_ur": (0.917, 180),
    "set_b_ar/ar": (0.903, 300),
    "set_a_ar/multi-turn": (0.850, 20),
    "set_a_en_ur/multi-turn": (1.000, 48),
    "set_b_ar/multi-turn": (0.950, 20),
    "set_b_en_ur/multi-turn": (0.938, 48),
}
GATES = {group: round(reached - max(0.02, 2 / n), 3) for group, (reached, n) in REACHED.items()}


@pytest.fixture(scope="module")
def report(bot):
    items = load_sets(sorted(EVAL_DIR.glob("*.yml")))
    return run(bot.webhook, items)


def test_every_gated_group_is_evaluated(report):
    assert set(GATES) <= set(report), sorted(set(GATES) - set(report))


@pytest.mark.parametrize("group", sorted(GATES))
def test_right_answer_and_language_per_written_form(report, group):
    got = report[group]["correct"]
    assert got >= GATES[group], f"{group}: {got:.3f} < {GATES[group]:.3f} (n={report[group]['messages']})"
