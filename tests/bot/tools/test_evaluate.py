"""The held-out report's figures, worked out by hand on a small set."""

from bot.tools.evaluate import score


def test_accuracy_macro_f1_recall_and_confusions():
    report = score(
        [("ask_pain", "ask_pain"), ("ask_pain", "ask_cost"), ("ask_cost", "ask_cost"), ("greet", "greet")]
    )
    assert report["accuracy"] == 0.75
    # ask_pain: precision 1, recall 1/2; ask_cost: precision 1/2, recall 1; greet: 1 and 1
    assert report["macro_f1"] == round((2 / 3 + 2 / 3 + 1) / 3, 4)
    assert report["recall"] == {"ask_cost": 1.0, "ask_pain": 0.5, "greet": 1.0}
    assert report["confusions"] == [{"expected": "ask_pain", "predicted": "ask_cost", "count": 1}]


def test_an_unparsed_message_counts_as_a_miss_and_an_empty_set_scores_zero():
    report = score(
        [("report_adverse_reaction", None), ("report_adverse_reaction", "report_adverse_reaction")]
    )
    assert report["accuracy"] == 0.5 and report["recall"] == {"report_adverse_reaction": 0.5}
    assert score([])["accuracy"] == 0.0
