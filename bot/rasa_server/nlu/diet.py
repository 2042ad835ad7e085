"""Rasa's DIETClassifier, trained as Rasa trains it (a little faster), with a lighter per-message path.

Reading one message, Rasa's DIET spends more of its time preparing the call than in the
network (make bench's profile, 2026-12-05: 1.6 ms of a message's 10.5 ms of Rasa CPU went
into model data, 2.2 ms into the TensorFlow call of which 0.6 ms was TensorFlow matching
the inputs to the traced function again):

- To build a one-message batch, Rasa's model-data code first makes "fake" all-zero features
  to stand in for any example without features, by deep-copying the message's own sparse
  matrices (scipy rebuilds each with its checks). At prediction there is one example, and
  it has features (Rasa checks that first), so a stand-in is never read: the same
  conversion is handed an empty one.
- The prediction function is traced once with a fixed input signature; each call still
  matched the nested inputs to it and converted every array. Here the traced function is
  called with the batch's tensors in the signature's order, after the first call has gone
  through Rasa's own path (which traces it and prepares the model for prediction).

Training is Rasa's own, with two things changed:

- No autotuning of the input pipeline. Keras makes a tf.data iterator over Rasa's batches for each
  epoch, and each starts a thread that tunes buffer sizes it does not have (Rasa prefetches one
  batch, a fixed size), waking at a period that doubles up to 60 s. At the end of `fit` the
  iterators are destroyed, and in TensorFlow 2.12 a destructor can miss the thread's cancellation
  and wait out that period: in about half of the trainings DIET sat idle for up to a minute after
  its last epoch (gdb: `RootDataset::Iterator::~Iterator` waiting on `Model::OptimizeLoop`).
  Without autotuning no such thread starts; the batches and their order are the same (tested).
- Adam in one fused kernel. Each step updates all of DIET's weights, 10 million of them the two
  sparse featurizers' columns projected to 128 numbers. Keras' Adam (the v2.11+ optimizer) does it
  in eleven operations, each a pass over every weight or moment, TensorFlow's `ResourceApplyAdam`
  in one: an epoch 4.0 s instead of 4.8 s. The same formula with the same settings; only the float
  rounding of its constants differs (1 - beta is worked out in float32 instead of float64), so the
  weights follow Rasa's to rounding (tested) and the held-out predictions were the same.

Persistence is Rasa's, without Adam's two moments per weight, which only training reads: the
model archive is a third of the size. Loading is Rasa's; the prediction is the same numbers
(tests/bot/rasa_server/nlu/test_diet.py compares both paths on the trained model).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Text

import tensorflow as tf
from keras.engine import data_adapter
from keras.utils import tf_utils
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.shared.constants import DIAGNOSTIC_DATA
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow import model_data_utils
from rasa.utils.tensorflow.constants import BILOU_FLAG, FEATURIZERS, SEQUENCE, SEQUENCE_LENGTH
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.train_utils import create_data_generators


class _SequenceAdapterWithoutAutotuning(data_adapter.KerasSequenceAdapter):
    """Keras' adapter for a `Sequence` (Rasa's batch generator), its dataset not autotuned."""

    def get_dataset(self) -> tf.data.Dataset:
        options = tf.data.Options()
        options.autotune.enabled = False
        return super().get_dataset().with_options(options)


@contextmanager
def _batches_without_autotuning() -> Iterator[None]:
    """While training, Keras reads a `Sequence` through the adapter above.

    Keras picks the adapter from the list `ALL_ADAPTER_CLS` at each `fit`; ours takes the place
    of its own for the duration (the Rasa server never trains, so it never sees it)."""
    adapters = data_adapter.ALL_ADAPTER_CLS
    index = adapters.index(data_adapter.KerasSequenceAdapter)
    adapters[index] = _SequenceAdapterWithoutAutotuning
    try:
        yield
    finally:
        adapters[index] = data_adapter.KerasSequenceAdapter


def _fused(optimizer: Any) -> Any:
    """Keras' Adam (the v2.11+ optimizer, one operation at a time over every weight) as the same
    Adam with the same settings in TensorFlow's fused kernel; any other optimizer as it is."""
    if type(optimizer) is not tf.keras.optimizers.Adam or optimizer.amsgrad:
        return optimizer
    return tf.keras.optimizers.legacy.Adam(
        learning_rate=float(tf.keras.backend.get_value(optimizer.learning_rate)),
        beta_1=optimizer.beta_1,
        beta_2=optimizer.beta_2,
        epsilon=optimizer.epsilon,
    )


class _DIET(DIET):
    """Rasa's DIET network, updated by TensorFlow's fused Adam kernel and saved without the
    optimizer's state (module docstring)."""

    _saving = False  # True while `save` writes the checkpoint

    def compile(self, optimizer: Any = "rmsprop", **kwargs: Any) -> None:
        """Rasa compiles with Keras' Adam: trained with the fused kernel instead."""
        super().compile(optimizer=_fused(optimizer), **kwargs)

    def save(self, model_file_name: Text, overwrite: bool = True) -> None:
        """Rasa's checkpoint of the weights, without Adam's two moments of every weight."""
        self._saving = True
        try:
            super().save(model_file_name, overwrite=overwrite)
        finally:
            self._saving = False

    def _trackable_children(self, save_type: str = "checkpoint", **kwargs: Any) -> Dict[str, Any]:
        children = super()._trackable_children(save_type, **kwargs)
        if self._saving:
            children.pop("optimizer", None)
        return children

    def load_weights(self, filepath: Any, *args: Any, **kwargs: Any) -> Any:
        """Rasa loads a model to predict: optimizer state, which models trained before this
        change keep in their checkpoint, is not read, and not reported as unread."""
        status = super().load_weights(filepath, *args, **kwargs)
        if status is not None:
            status.expect_partial()
        return status


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class DIETIntentClassifier(DIETClassifier):
    """DIETClassifier: its per-message prediction skips work whose result is never read, and
    its training does not wait on tf.data's autotuning (module docstring)."""

    _traced: Optional[Any] = None  # the traced prediction function, once Rasa has made it

    @staticmethod
    def model_class() -> type:
        return _DIET

    def train(self, training_data: TrainingData) -> Resource:
        """Rasa's training, its input pipeline without autotuning (module docstring)."""
        with _batches_without_autotuning():
            return super().train(training_data)

    def _prediction_data(self, message: Message) -> RasaModelData:
        """What `_create_model_data([message], training=False)` builds, without new stand-ins."""
        if not message.features_present(attribute=TEXT, featurizers=self.component_config.get(FEATURIZERS)):
            return RasaModelData()
        features, sparse_sizes = model_data_utils.featurize_training_examples(
            [message],
            [TEXT],
            entity_tag_specs=self._entity_tag_specs,
            featurizers=self.component_config[FEATURIZERS],
            bilou_tagging=self.component_config[BILOU_FLAG],
        )
        # Stand-ins given (so none is made), and empty: the one example has text features.
        attribute_data, _ = model_data_utils.convert_to_data_format(
            features, fake_features={TEXT: []}, consider_dialogue_dimension=False
        )
        data = RasaModelData(label_key=self.label_key, label_sub_key=self.label_sub_key)
        data.add_data(attribute_data)
        data.add_lengths(TEXT, SEQUENCE_LENGTH, TEXT, SEQUENCE)
        data.add_sparse_feature_sizes(sparse_sizes)
        self._add_label_features(data, [message], None, None, training=False)
        data.sort()
        return data

    def _predict(self, message: Message) -> Optional[Dict[Text, Any]]:
        if self.model is None or self.model._run_eagerly:
            return super()._predict(message)
        data = self._prediction_data(message)
        if data.is_empty():
            return None
        generator, _ = create_data_generators(model_data=data, batch_sizes=1, epochs=1, shuffle=False)
        batch = generator[0][0]
        if self._traced is None:  # Rasa's path: traces the function, prepares the model
            out = self.model._rasa_predict(batch)
            self._traced = self.model._tf_predict_step.get_concrete_function()
            return out
        return self._call_traced(batch)

    def _call_traced(self, batch) -> Dict[Text, Any]:
        specs = self._traced.structured_input_signature[0][0]
        tensors = [tf.convert_to_tensor(array, dtype=spec.dtype) for array, spec in zip(batch, specs)]
        outputs = tf_utils.sync_to_numpy_or_python_type(
            self._traced._call_flat(tensors, self._traced.captured_inputs)
        )
        if DIAGNOSTIC_DATA in outputs:  # as Rasa's _rasa_predict
            outputs[DIAGNOSTIC_DATA] = self.model._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs
