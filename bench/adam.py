"""One step of DIET's training, its parts timed: why DIET trains with the fused Adam kernel.

Each of DIET's sparse projections is a 40,468 x 128 matrix (the two featurizers' columns, to
128 numbers), and every training step multiplies a batch of sparse features by it, adds its
regularisation and updates all of it. `python -m bench.adam` times each of those on a matrix
of that size and a batch of DIET's size (about 10 seconds), for Keras' Adam (the v2.11+
optimizer Rasa compiles DIET with) and for TensorFlow's fused kernel (what
bot/rasa_server/nlu/diet.py trains with), and prints milliseconds per step.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

COLUMNS, UNITS = 40_468, 128  # the shipped model's featurizers and DIET's dense_dimension
BATCH, TOKENS, PER_TOKEN = 192, 20, 30  # a mid-training batch, its tokens, n-grams per token
L2 = 0.002  # Rasa's regularization_constant


def _median_ms(step: Callable[[], object], repeats: int) -> float:
    step()  # traced and warmed
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return 1000 * sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from bot.rasa_server.nlu.diet import _fused

    rng = np.random.default_rng(0)
    kernel = tf.Variable(rng.normal(size=(COLUMNS, UNITS)).astype(np.float32) * 0.01)
    rows = BATCH * TOKENS
    cells = np.unique(
        np.stack([rng.integers(0, rows, rows * PER_TOKEN), rng.integers(0, COLUMNS, rows * PER_TOKEN)], 1),
        axis=0,
    )
    features = tf.SparseTensor(cells, np.ones(len(cells), np.float32), (rows, COLUMNS))

    def gradient(regularised: bool):
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                out = tf.sparse.sparse_dense_matmul(features, kernel)
                loss = tf.reduce_sum(out * out) * 1e-6
                if regularised:
                    loss += L2 * tf.reduce_sum(tf.square(kernel))
            return tape.gradient(loss, kernel)

        return step

    grad = gradient(True)()
    print(f"one {COLUMNS:,} x {UNITS} projection, a batch of {BATCH} messages; median ms of {args.repeats}")
    print(f"  sparse product and its gradient       {_median_ms(gradient(False), args.repeats):6.1f}")
    print(f"  ... with the L2 regularisation        {_median_ms(gradient(True), args.repeats):6.1f}")
    for name, optimizer in (
        ("Adam update, Keras (Rasa's)", tf.keras.optimizers.Adam(0.001)),
        ("Adam update, fused kernel (ours)", _fused(tf.keras.optimizers.Adam(0.001))),
    ):
        update = tf.function(
            lambda optimizer=optimizer: [optimizer.apply_gradients([(grad, kernel)]), None][1]
        )
        print(f"  {name:37s} {_median_ms(update, args.repeats):6.1f}")
    print("DIET has two such projections (token and sentence features); about 35 steps an epoch.")


if __name__ == "__main__":
    main()
