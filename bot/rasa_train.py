"""`rasa train`, started in-process, with the independent parts of the training at once.

`python -m bot.rasa_train [rasa train options]` is `rasa train` with one difference. Rasa
runs its training graph on dask's synchronous scheduler, one node after another, though
the two longest nodes need nothing from each other: DIET (about 140 s on two cores, and
it keeps only about 1.4 of them busy) and the safety layer's classifiers (about 30 s of
scikit-learn, bot/nlu/safety_layer.py), which both train on the featurised examples.
On dask's threaded scheduler they train at the same time; the safety layer fits its
classifiers in a process of its own, so it never holds the GIL that DIET's training loop
needs. Every node still runs once, on the same inputs, after everything it needs
(tests/bot/test_rasa_train.py).
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional, Text

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class ThreadedGraphRunner(DaskGraphRunner):
    """Rasa's dask graph runner on dask's threaded scheduler: independent nodes run at once."""

    workers = max(2, os.cpu_count() or 2)

    def run(
        self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
    ) -> Dict[Text, Any]:
        import dask.threaded

        run_targets = targets if targets else self._graph_schema.target_names
        run_graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        try:
            return dict(dask.threaded.get(run_graph, run_targets, num_workers=self.workers))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e


def install() -> None:
    """Train on `ThreadedGraphRunner` from now on (this process)."""
    import rasa.model_training

    rasa.model_training.DaskGraphRunner = ThreadedGraphRunner  # type: ignore[attr-defined]


def main(argv: Optional[List[str]] = None) -> None:
    install()
    import rasa.__main__

    sys.argv = ["rasa", "train", *(sys.argv[1:] if argv is None else argv)]
    rasa.__main__.main()


if __name__ == "__main__":
    main()
