"""bot/rasa_server/nlu/diet.py: the trained intent classifier predicts exactly what Rasa's DIET path gives;
it trains as Rasa's DIET does (the same Adam, as one fused kernel, and without tf.data's autotuning) and
saves what prediction needs."""

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


def _component(cls, name: str, storage, load: bool = False, **config):
    """A graph component as Rasa makes it, with `config` over its defaults: created to train,
    or (`load`) loaded from what one of that name saved."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.resource import Resource

    context = ExecutionContext(GraphSchema({}), "test")
    make = cls.load if load else cls.create
    return make({**cls.get_default_config(), **config}, storage, Resource(name), context)


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


_SETTINGS = dict(
    epochs=3, number_of_transformer_layers=1, transformer_size=16, entity_recognition=False,
    constrain_similarities=True, random_seed=7,
)  # fmt: skip


def test_the_fused_adam_makes_kerass_adam_updates():
    """Rasa compiles DIET with Keras' Adam; ours takes the same steps with TensorFlow's fused kernel
    (the same formula; only the float rounding of its constants differs)."""
    import tensorflow as tf

    from bot.rasa_server.nlu.diet import _fused

    rng = np.random.default_rng(3)
    start = rng.normal(size=(300, 8)).astype(np.float32)
    grads = [rng.normal(size=start.shape).astype(np.float32) * scale for scale in (1.0, 0.01, 5.0, 0.2)]
    fused = _fused(tf.keras.optimizers.Adam(0.002))
    assert "legacy" in type(fused).__module__ and fused.get_config()["learning_rate"] == pytest.approx(0.002)
    sgd = tf.keras.optimizers.SGD(0.1)
    assert _fused(sgd) is sgd  # only Adam has a fused twin here
    weights = {}
    for name, optimizer in (("keras", tf.keras.optimizers.Adam(0.002)), ("fused", fused)):
        variable = tf.Variable(start)
        for grad in grads:
            optimizer.apply_gradients([(tf.constant(grad), variable)])
        weights[name] = variable.numpy()
    moved = np.abs(weights["keras"] - start)
    assert np.median(moved) > 1e-3  # four steps of about the learning rate each
    np.testing.assert_allclose(weights["fused"], weights["keras"], rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_training_reads_batches_without_autotuning_and_follows_rasas_training(tmp_path, monkeypatch):
    """The minute-long wait after the last epoch came from tf.data's autotuning thread; without it,
    and with the fused Adam, the classifier trains to Rasa's DIETClassifier's weights (to float
    rounding) and predicts what it predicts."""
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
    ours = _component(diet_module.DIETIntentClassifier, "ours", storage, **_SETTINGS)
    ours.train(data)
    rasas = _component(DIETClassifier, "rasas", storage, **_SETTINGS)
    rasas.train(data)

    assert autotuned and not any(autotuned)  # every dataset Keras read while ours trained
    assert data_adapter.KerasSequenceAdapter in data_adapter.ALL_ADAPTER_CLS  # Keras' own again after
    assert diet_module._SequenceAdapterWithoutAutotuning not in data_adapter.ALL_ADAPTER_CLS
    assert "legacy" in type(ours.model.optimizer).__module__  # the fused kernel trained it
    ours_weights, rasas_weights = ours.model.get_weights(), rasas.model.get_weights()
    assert len(ours_weights) == len(rasas_weights) > 0
    for a, b in zip(ours_weights, rasas_weights):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    for message in data.intent_examples:
        assert _ranking(ours, message) == _ranking(rasas, message)


def _ranking(component, message):
    out = component._predict(message)
    return [int(i) for i in np.argsort(-out["i_scores"][0])]


@pytest.mark.slow
def test_the_saved_classifier_predicts_the_same_without_the_optimizers_state(tmp_path):
    """Adam keeps two numbers per weight for training; the saved model is the weights alone, a
    third of the size, and the loaded classifier predicts what the trained one did."""
    import tensorflow as tf
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    from bot.rasa_server.nlu.diet import DIETIntentClassifier

    storage = LocalModelStorage(tmp_path)
    data = _featurized_examples(storage)
    trained = _component(DIETIntentClassifier, "ours", storage, **_SETTINGS)
    trained.train(data)

    checkpoint = next((tmp_path / "ours").glob("*.tf_model.index")).with_suffix("")
    saved = [name for name, _ in tf.train.list_variables(str(checkpoint))]
    assert any("sparse_to_dense/kernel" in name for name in saved)
    assert not any("optimizer" in name.lower() for name in saved)

    loaded = _component(DIETIntentClassifier, "ours", storage, load=True, **_SETTINGS)
    for message in data.intent_examples:
        want, got = trained._predict(message), loaded._predict(message)
        np.testing.assert_allclose(got["i_scores"], want["i_scores"], rtol=1e-5)
