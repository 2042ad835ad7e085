"""bot/rasa_server/nlu/diet.py: the trained intent classifier predicts exactly what Rasa's DIET path gives."""

from typing import Any

import numpy as np
import pytest

from tests.support.models import EVERY_FORM, loaded_component


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


@pytest.mark.slow
def test_the_trained_classifier_gives_rasas_numbers_for_every_message():
    from rasa.core.agent import Agent
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    from bot.rasa_server.nlu.diet import DIETIntentClassifier
    from bot.tools.model import model_path, train

    train()
    agent = Agent.load(str(model_path()))
    diet = loaded_component(agent, DIETIntentClassifier)
    messages = [*EVERY_FORM, "does it hurt? and how much does it cost?", "?", "mesotherapy " * 400]
    compared = 0
    for text in messages:
        for message in _featurized(agent, text):
            rasas = DIETClassifier._predict(diet, message)
            ours = diet._predict(message)
            assert _same(ours, rasas), text
            compared += 1
    assert compared >= len(messages)
    assert diet._traced is not None  # the direct call was the one compared after the first


def _user_message(text: str):
    from rasa.core.channels.channel import UserMessage

    return UserMessage(text)


def _featurized(agent, text: str):
    """The pipeline's messages (questions split off included) just before the classifier."""
    from rasa.shared.nlu.training_data.message import Message

    runner = agent.processor.graph_runner
    diet_node = next(name for name in runner._graph_schema.nodes if "DIETIntentClassifier" in name)
    needs = list(runner._graph_schema.nodes[diet_node].needs.values())
    got = runner.run(inputs={"__message__": [_user_message(text)]}, targets=needs)
    messages = next(iter(got.values()))
    assert all(isinstance(m, Message) for m in messages)
    return messages
