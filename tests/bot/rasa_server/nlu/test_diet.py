"""bot/rasa_server/nlu/diet.py: the trained intent classifier predicts exactly what Rasa's DIET path gives,
and trains to exactly Rasa's weights without tf.data's autotuning."""

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


def _component(cls, name: str, storage, **config):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.resource import Resource

    context = ExecutionContext(GraphSchema({}), "test")
    return cls.create({**cls.get_default_config(), **config}, storage, Resource(name), context)


def _featurized_examples(storage):
    """A few examples of two intents, featurized as Rasa's pipeline hands them to DIET."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    examples = {
        "ask_pain": ["does it hurt", "is it painful", "how much pain", "will it hurt a lot"],
        "ask_downtime": ["how long to recover", "any downtime", "back to work when", "recovery time"],
    }
    messages = [Message(data={"text": t, "intent": intent}) for intent, ts in examples.items() for t in ts]
    data = TrainingData(messages)
    _component(WhitespaceTokenizer, "tokenizer", storage).process_training_data(data)
    featurizer = _component(CountVectorsFeaturizer, "chars", storage, analyzer="char_wb", max_ngram=3)
    featurizer.train(data)
    featurizer.process_training_data(data)
    return data


@pytest.mark.slow
def test_training_reads_batches_without_autotuning_and_gives_rasas_weights(tmp_path, monkeypatch):
    """The minute-long wait after the last epoch came from tf.data's autotuning thread; without
    it the classifier trains to exactly the weights Rasa's DIETClassifier gets."""
    from keras.engine import data_adapter
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    from bot.rasa_server.nlu import diet as diet_module

    storage = LocalModelStorage(tmp_path)
    data = _featurized_examples(storage)
    autotuned = []
    get_dataset = diet_module._SequenceAdapterWithoutAutotuning.get_dataset

    def spy(self):
        dataset = get_dataset(self)
        autotuned.append(dataset.options().autotune.enabled)
        return dataset

    monkeypatch.setattr(diet_module._SequenceAdapterWithoutAutotuning, "get_dataset", spy)
    settings = dict(
        epochs=3, number_of_transformer_layers=1, transformer_size=16, entity_recognition=False,
        constrain_similarities=True, random_seed=7,
    )  # fmt: skip
    ours = _component(diet_module.DIETIntentClassifier, "ours", storage, **settings)
    ours.train(data)
    rasas = _component(DIETClassifier, "rasas", storage, **settings)
    rasas.train(data)

    assert autotuned and not any(autotuned)  # every dataset Keras read while ours trained
    assert data_adapter.KerasSequenceAdapter in data_adapter.ALL_ADAPTER_CLS  # Keras' own again after
    assert diet_module._SequenceAdapterWithoutAutotuning not in data_adapter.ALL_ADAPTER_CLS
    ours_weights, rasas_weights = ours.model.get_weights(), rasas.model.get_weights()
    assert len(ours_weights) == len(rasas_weights) > 0
    assert all(np.array_equal(a, b) for a, b in zip(ours_weights, rasas_weights))
