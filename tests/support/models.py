"""Trained models in tests: archives as the registry reads them, messages and components to check."""

import io
import json
import tarfile
from functools import lru_cache
from typing import Tuple

DIET = "rasa.nlu.classifiers.diet_classifier.DIETClassifier"
OURS = "bot.rasa_server.nlu.diet.DIETIntentClassifier"


@lru_cache(maxsize=None)
def model_archive(name: str, uses: Tuple[str, ...] = (DIET, OURS)) -> bytes:
    """A tar.gz with Rasa's metadata.json naming the graph components `uses` (same bytes per call)."""
    metadata = {
        "model_id": name,
        "predict_schema": {"nodes": {f"run_{i}": {"uses": u} for i, u in enumerate(uses)}},
    }
    buffer, raw = io.BytesIO(), json.dumps(metadata).encode()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("metadata.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


# A message in each written form, an urgent report and keyboard noise: what a trained model's
# own components are checked on against Rasa's.
EVERY_FORM = (
    "how many sessions do I need?",
    "my face is swollen and I can't breathe after mesotherapy",
    "کیا میسو تھراپی سے درد ہوتا ہے؟",
    "meso ke baad kitne din aram karna hoga",
    "هل الميزوثيرابي مؤلم؟",
    "qwzx plorb",
)


def loaded_component(agent, cls):
    """The graph component of type `cls` in a loaded agent's prediction graph."""
    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return next(node._component for node in nodes if isinstance(node._component, cls))
