"""bot/tools/rasa_train.py: the training graph's independent components at the same time,
with exactly what Rasa's own runner gives, in an archive compressed quickly."""

import filecmp
import subprocess
import threading
import time
from typing import Any, Dict

import pytest
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from bot import PROJECT_ROOT
from bot.tools.model import rasa_env, rasa_train_command
from bot.tools.rasa_train import ConcurrentGraphRunner

RUNNING: Dict[str, int] = {"now": 0, "most": 0}
_lock = threading.Lock()


class Slow(GraphComponent):
    """Waits `wait` seconds (as a training would), counting how many run at once, then adds `n`."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self.n, self.wait, self.fail = config["n"], config["wait"], config.get("fail", False)

    @classmethod
    def create(cls, config, model_storage, resource, execution_context) -> "Slow":
        return cls(config)

    def run(self, **given: int) -> int:
        with _lock:
            RUNNING["now"] += 1
            RUNNING["most"] = max(RUNNING["most"], RUNNING["now"])
        time.sleep(self.wait)
        with _lock:
            RUNNING["now"] -= 1
        if self.fail:
            raise RuntimeError("this component cannot train")
        return self.n + sum(given.values())


def _node(
    n: int, needs: Dict[str, str], wait: float = 0.0, target: bool = False, fail: bool = False
) -> SchemaNode:
    return SchemaNode(
        needs=needs, uses=Slow, constructor_name="create", fn="run",
        config={"n": n, "wait": wait, "fail": fail}, is_target=target,
    )  # fmt: skip


def _schema(fail: bool = False) -> GraphSchema:
    # `data` feeds two slow components that need nothing of each other (DIET and the safety
    # classifiers), and `model` needs both.
    return GraphSchema(
        {
            "data": _node(1, {}),
            "diet": _node(10, {"x": "data"}, wait=0.6),
            "safety": _node(100, {"x": "data"}, wait=0.6, fail=fail),
            "model": _node(1000, {"a": "diet", "b": "safety"}, target=True),
        }
    )


def _run(cls, schema, tmp_path):
    RUNNING.update(now=0, most=0)
    runner = cls(schema, LocalModelStorage(tmp_path), ExecutionContext(schema, model_id="test"))
    started = time.monotonic()
    result = runner.run()
    return result, time.monotonic() - started


def test_independent_components_train_at_the_same_time_with_rasas_results(tmp_path):
    expected, serial_seconds = _run(DaskGraphRunner, _schema(), tmp_path / "rasa")
    assert RUNNING["most"] == 1
    got, seconds = _run(ConcurrentGraphRunner, _schema(), tmp_path / "ours")
    assert got == expected == {"model": 1000 + (10 + 1) + (100 + 1)}
    assert RUNNING["most"] == 2
    assert seconds < serial_seconds - 0.3


def test_a_component_that_fails_stops_the_training_as_with_rasa(tmp_path):
    with pytest.raises(Exception) as rasas:
        _run(DaskGraphRunner, _schema(fail=True), tmp_path / "rasa")
    with pytest.raises(Exception) as ours:
        _run(ConcurrentGraphRunner, _schema(fail=True), tmp_path / "ours")
    assert type(ours.value) is type(rasas.value)
    assert "this component cannot train" in str(ours.value.__cause__ or ours.value)


SMALL_CONFIG = """\
recipe: default.v1
language: en
assistant_id: runner-test
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 2
    max_ngram: 4
  - name: DIETClassifier
    epochs: 3
    number_of_transformer_layers: 1
    transformer_size: 32
    entity_recognition: false
    random_seed: 42
  - name: bot.rasa_server.nlu.unknown_words.UnknownWordsFallback
policies:
  - name: RulePolicy
"""


@pytest.mark.slow
def test_a_trained_model_is_the_same_as_rasas_own_training(tmp_path):
    """Our `rasa train` and Rasa's on a small project: every component file the same; ours
    compressed at gzip's fastest level, Rasa's at its best."""
    config = tmp_path / "config.yml"
    config.write_text(SMALL_CONFIG, encoding="utf-8")
    extracted = {}
    for name, runner in (("ours", None), ("rasa", "rasa")):
        cmd = rasa_train_command(PROJECT_ROOT, tmp_path / name, model_name=name, config=config)
        if runner == "rasa":  # Rasa's own command, the same arguments
            cmd[1:3] = ["-m", "rasa"]
        env = {**rasa_env(), "RASA_CACHE_DIRECTORY": str(tmp_path / f"cache-{name}")}
        subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, timeout=900)
        extracted[name] = tmp_path / f"{name}-files"
        subprocess.run(
            ["tar", "xzf", str(tmp_path / name / f"{name}.tar.gz"), "-C", str(tmp_path)], check=True
        )
        (tmp_path / "components").rename(extracted[name])
    ours, rasa = extracted["ours"], extracted["rasa"]
    # A gzip header's ninth byte: 2 for the best compression (level 9), 4 for the fastest (level 1).
    assert (tmp_path / "rasa" / "rasa.tar.gz").read_bytes()[8] == 2
    assert (tmp_path / "ours" / "ours.tar.gz").read_bytes()[8] == 4
    files = sorted(p.relative_to(rasa) for p in rasa.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(ours) for p in ours.rglob("*") if p.is_file())
    weights = [f for f in files if "DIETClassifier" in str(f) and "tf_model.data" in f.name]
    assert weights, "DIET's weights are in the model"
    # A rule policy keeps some lists in set order, which changes from process to process.
    differ = [
        f for f in files if "RulePolicy" not in str(f) and not filecmp.cmp(rasa / f, ours / f, shallow=False)
    ]
    assert differ == []
