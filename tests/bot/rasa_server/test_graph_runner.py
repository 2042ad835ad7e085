"""bot/rasa_server/graph_runner.py runs Rasa's graph in order, with exactly the results of Rasa's dask runner."""

from typing import Any, Dict, List

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from bot.rasa_server.graph_runner import InOrderGraphRunner
from tests.support.models import EVERY_FORM

CALLS: List[str] = []


class Sum(GraphComponent):
    """Adds its `n` to everything it is given, and notes that it ran."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self.name, self.n = config["name"], config["n"]

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "Sum":
        return cls(config)

    def run(self, **given: int) -> int:
        CALLS.append(self.name)
        return self.n + sum(given.values())


def _node(name: str, n: int, needs: Dict[str, str], target: bool = False) -> SchemaNode:
    return SchemaNode(
        needs=needs, uses=Sum, constructor_name="create", fn="run", config={"name": name, "n": n},
        is_target=target,
    )  # fmt: skip


# Listed out of order on purpose: d needs b and c, both need a, which needs the input;
# `lonely` is needed by nothing asked for.
SCHEMA = GraphSchema(
    {
        "d": _node("d", 1000, {"left": "b", "right": "c"}, target=True),
        "c": _node("c", 100, {"x": "a"}),
        "lonely": _node("lonely", 7, {"x": "__message__"}),
        "b": _node("b", 10, {"x": "a"}),
        "a": _node("a", 1, {"x": "__message__"}),
    }
)


def _runner(cls, tmp_path):
    storage = LocalModelStorage(tmp_path)
    return cls(SCHEMA, storage, ExecutionContext(SCHEMA, model_id="test"))


@pytest.fixture(autouse=True)
def _clear_calls():
    CALLS.clear()


def test_the_same_results_as_rasas_dask_runner(tmp_path):
    for targets in (["d"], ["b"], ["b", "c"], None):
        expected = _runner(DaskGraphRunner, tmp_path).run({"__message__": 5}, targets)
        got = _runner(InOrderGraphRunner, tmp_path).run({"__message__": 5}, targets)
        assert got == expected
    assert _runner(InOrderGraphRunner, tmp_path).run({"__message__": 5}, ["d"]) == {
        "d": 1000 + (10 + 6) + (100 + 6)
    }


def test_each_node_runs_once_after_what_it_needs_and_nothing_else_runs(tmp_path):
    runner = _runner(InOrderGraphRunner, tmp_path)
    for _ in range(3):  # the order is worked out once and reused
        CALLS.clear()
        runner.run({"__message__": 1}, ["d"])
        assert sorted(CALLS) == ["a", "b", "c", "d"]
        assert CALLS[0] == "a" and CALLS[-1] == "d"
    assert list(runner._orders) == [("d",)]


def test_an_input_named_like_a_node_is_refused(tmp_path):
    with pytest.raises(GraphRunError):
        _runner(InOrderGraphRunner, tmp_path).run({"a": 1, "__message__": 1}, ["d"])


@pytest.mark.slow
def test_the_trained_model_parses_and_predicts_exactly_as_with_dask(monkeypatch):
    """Our whole pipeline and policies, both runners, messages in every written form."""
    import asyncio

    import rasa.core.processor
    from rasa.core.agent import Agent
    from rasa.shared.core.events import UserUttered

    from bot.tools.model import model_path, train

    train()
    messages = list(EVERY_FORM)

    async def read(agent: Agent) -> List[Any]:
        out = []
        for i, text in enumerate(messages):
            parsed = await agent.parse_message(text)
            tracker = await agent.processor.fetch_tracker_with_initial_session(f"runner-{i}")
            tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parse_data=parsed))
            prediction = agent.processor._predict_next_with_tracker(tracker)
            action = agent.domain.action_names_or_texts[prediction.max_confidence_index]
            out.append((parsed, action, prediction.probabilities, prediction.policy_name))
        return out

    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", DaskGraphRunner)
    expected = asyncio.run(read(Agent.load(str(model_path()))))
    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", InOrderGraphRunner)
    agent = Agent.load(str(model_path()))
    assert isinstance(agent.processor.graph_runner, InOrderGraphRunner)
    got = asyncio.run(read(agent))
    assert got == expected
    assert {action for _, action, _, _ in got} == {"action_answer"}  # every message is answered
    assert got[1][0]["safety"]["verdict"] == "urgent"
