"""bot/rasa_train.py: independent training nodes at once, each still after what it needs."""

import threading
from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from bot.rasa_train import ThreadedGraphRunner

RAN: List[str] = []
MEETING: Dict[str, threading.Barrier] = {}


class Step(GraphComponent):
    """Adds `n` to what it is given; `meet`: waits (up to 5 s) until the other meeting node runs too."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "Step":
        return cls(config)

    def run(self, **given: int) -> int:
        if self.config.get("meet"):
            MEETING["barrier"].wait(timeout=5)
        RAN.append(self.config["name"])
        return self.config["n"] + sum(given.values())


def _node(name: str, n: int, needs: Dict[str, str], meet: bool = False, target: bool = False) -> SchemaNode:
    config = {"name": name, "n": n, "meet": meet}
    return SchemaNode(
        needs=needs, uses=Step, constructor_name="create", fn="run", config=config, is_target=target
    )


def _schema(meet: bool) -> GraphSchema:
    # featurise -> (diet, safety) -> package, as in our training graph
    return GraphSchema(
        {
            "package": _node("package", 1000, {"a": "diet", "b": "safety"}, target=True),
            "diet": _node("diet", 100, {"x": "featurise"}, meet=meet),
            "safety": _node("safety", 10, {"x": "featurise"}, meet=meet),
            "featurise": _node("featurise", 1, {"x": "__data__"}),
        }
    )


def _run(cls, schema: GraphSchema, tmp_path) -> Dict[str, Any]:
    runner = cls(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, model_id="t"))
    return runner.run({"__data__": 5}, ["package"])


@pytest.fixture(autouse=True)
def _fresh():
    RAN.clear()
    MEETING["barrier"] = threading.Barrier(2)


def test_independent_nodes_train_at_the_same_time(tmp_path):
    # Each of the two waits for the other: only a runner that runs them at once finishes.
    assert _run(ThreadedGraphRunner, _schema(meet=True), tmp_path) == {"package": 1000 + 106 + 16}
    assert RAN[0] == "featurise" and RAN[-1] == "package" and sorted(RAN[1:3]) == ["diet", "safety"]
    MEETING["barrier"] = threading.Barrier(2)
    with pytest.raises(Exception):  # Rasa's own runner: one after the other, so the first waits alone
        _run(DaskGraphRunner, _schema(meet=True), tmp_path)


def test_the_same_results_as_rasas_runner(tmp_path):
    expected = _run(DaskGraphRunner, _schema(meet=False), tmp_path)
    assert _run(ThreadedGraphRunner, _schema(meet=False), tmp_path) == expected
    assert sorted(RAN) == sorted(["featurise", "diet", "safety", "package"] * 2)  # each once per run


@pytest.mark.slow
def test_the_safety_classifiers_trained_in_their_own_process_are_the_same():
    import numpy as np

    from bot.safety.classifier import SafetyTextClassifier, read_corpus

    pairs = read_corpus()[::6]
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    here = SafetyTextClassifier().fit(texts, labels)
    apart = SafetyTextClassifier().fit(texts, labels, own_process=True)
    for name in here.pipelines:
        np.testing.assert_array_equal(
            here.pipelines[name].predict_proba(texts), apart.pipelines[name].predict_proba(texts)
        )
