"""Rasa's DIETClassifier, trained exactly as Rasa trains it, with a lighter per-message path.

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

Training is Rasa's own, with one thing taken away: TensorFlow's autotuning of the input
pipeline. Keras makes a tf.data iterator over Rasa's batches for each epoch, and each starts a
thread that tunes buffer sizes it does not have (Rasa prefetches one batch, a fixed size), waking
at a period that doubles up to 60 s. At the end of `fit` the iterators are destroyed, and in
TensorFlow 2.12 a destructor can miss the thread's cancellation and wait out that period: in
about half of the trainings DIET sat idle for up to a minute after its last epoch (gdb:
`RootDataset::Iterator::~Iterator` waiting on `Model::OptimizeLoop`). Without autotuning no such
thread starts; the batches, their order and the weights are the same (tested).

Persistence and loading are Rasa's own; the prediction is the same numbers
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
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
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


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class DIETIntentClassifier(DIETClassifier):
    """DIETClassifier: its per-message prediction skips work whose result is never read, and
    its training does not wait on tf.data's autotuning (module docstring)."""

    _traced: Optional[Any] = None  # the traced prediction function, once Rasa has made it

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
