"""`rasa train`, with the training graph's independent components trained at the same time.

Rasa 3.6 runs the training graph on dask's synchronous scheduler: one component after
another on one thread. DIET's training keeps about one core of two busy (its steps are
small), and the safety layer's two classifiers, which need nothing DIET makes, waited for
it to finish. Here the same graph runs on dask's threaded scheduler with one worker per
core: each component still runs after everything it needs, with the same inputs, so the
trained components are the same as Rasa's (DIET's weights byte for byte, the safety
classifiers' coefficients equal: tests/bot/tools/test_rasa_train.py); DIET and the safety
classifiers overlap. The classifiers fit in processes of their own
(bot/core/safety/classifier.py): fitted in threads of this process, much of their fit is Python
holding the global lock, and DIET's own Python waited for it (its first epoch 22-25 s instead
of 12 s, its epochs beside them 8 s instead of 5-6 s). Trainings from an empty cache on two
cores (2026-12-06, farm-bench, A and B in turn): 156.6 and 158.3 s against 166.2 and 177.0 s
with the fits in threads; one component after another took 181-187 s the night before.
The classifiers' fit starts with the command, before Rasa's own start (about 25 s on one core)
reaches them (bot/rasa_server/nlu/safety_early_fit.py): 206.2 and 216.2 s against 222.9 and
224.2 s with it in the graph, the machine slower later that day (2026-12-06, farm-bench, in turn).

The model archive is Rasa's, gzip-compressed at level 1 instead of tarfile's 9: it is almost all
DIET's float weights, which gzip cannot shrink (46.0 MB at either level), and level 9 spent
3.6 s finding that out, level 1 1.3 s (2026-12-06). The files in it are the same.

Everything else is Rasa's own `rasa train`: its command line, cache and fingerprints.
`python -m bot.tools.rasa_train train ...` takes Rasa's arguments; `bot.tools.model.rasa_train_command`
builds them (`make train`, `make retrain`, the benchmark).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import dask.threaded
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from tarsafe import TarSafe


class ConcurrentGraphRunner(DaskGraphRunner):
    """Rasa's `DaskGraphRunner`, its nodes run by dask's threaded scheduler."""

    workers = max(1, min(2, os.cpu_count() or 1))  # two heavy components can overlap; no more

    def run(
        self, inputs: Optional[Dict[Text, Any]] = None, targets: Optional[List[Text]] = None
    ) -> Dict[Text, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        run_graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        try:
            return dict(dask.threaded.get(run_graph, run_targets, num_workers=self.workers))
        except RuntimeError as err:  # as Rasa's runner
            raise GraphRunError("Error running runner.") from err


class QuickGzipArchive(TarSafe):
    """The tar archive class Rasa packs and unpacks models with, compressing at gzip level 1."""

    @classmethod
    def gzopen(
        cls, name: Any, mode: str = "r", fileobj: Any = None, compresslevel: int = 1, **kwargs: Any
    ) -> TarSafe:
        return super().gzopen(name, mode, fileobj, compresslevel, **kwargs)


def main(argv: Optional[List[str]] = None) -> None:
    """Rasa's command line, its training graph run by `ConcurrentGraphRunner`, its model
    archive written by `QuickGzipArchive`."""
    args = sys.argv[1:] if argv is None else argv
    _start_safety_fit(args)  # before Rasa's imports: they are seconds of one core's work
    import rasa.engine.storage.local_model_storage
    import rasa.model_training
    from rasa.__main__ import main as rasa_main

    # The one name Rasa's training reads its runner class from (rasa/model_training.py), and
    # the one its model storage packs the archive with (rasa/engine/storage/local_model_storage.py).
    rasa.model_training.DaskGraphRunner = ConcurrentGraphRunner
    rasa.engine.storage.local_model_storage.TarSafe = QuickGzipArchive
    sys.argv = ["rasa", *args]
    rasa_main()


def _start_safety_fit(args: List[str]) -> None:
    """The safety classifiers' fit started now, on the core Rasa's start leaves idle
    (bot/rasa_server/nlu/safety_early_fit.py), for a whole or NLU training."""
    if not args or args[0] != "train" or (len(args) > 1 and args[1] == "core"):
        return
    from bot.rasa_server.nlu import safety_early_fit

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-c", "--config", default="config.yml")
    parser.add_argument("-d", "--domain", default="domain.yml")
    parser.add_argument("--data", nargs="+", default=["data"])
    known, _ = parser.parse_known_args(args[1:])
    if Path(known.config).is_file():
        safety_early_fit.start(Path(known.config), Path(known.domain), [Path(d) for d in known.data])


if __name__ == "__main__":
    main()
