"""The safety classifiers' fit, started with `make train` instead of when Rasa's graph reaches them.

Rasa spends the first 20-25 s of a training on one core (its start, reading the data, the
rules, the featurizers) before DIET starts; the safety layer needs none of it, since it learns
from the NLU examples' own texts (bot/core/safety/classifier.py `training_pairs`). `start`
reads the same training data in a process of its own and fits both models there, one after
the other, on the core Rasa leaves idle; `SafetyLayer.train` takes the result with `take`
when the pairs the graph gives it are exactly the pairs fitted (`fit_key`: texts, labels and
C), and fits them itself otherwise (another reader of the data, a failed or killed process).
The models are the same either way: the same function fits them on the same pairs.

A training that does not reach the safety layer (Rasa's cache has it) leaves the process
unasked; it is a daemon, ended when the training ends.
"""

from __future__ import annotations

import logging
import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.core._yaml import read_yaml
from bot.core.safety.classifier import DEFAULT_C, fit_key, fit_models_here, training_pairs

logger = logging.getLogger(__name__)
COMPONENT = "bot.rasa_server.nlu.safety_layer.SafetyLayer"

_started: Optional[Tuple[multiprocessing.process.BaseProcess, Connection]] = None


def safety_settings(config_path: Path) -> Optional[Tuple[float, Optional[str]]]:
    """The safety layer's C and the config's language, None when its pipeline has no safety layer."""
    config = read_yaml(Path(config_path)) or {}
    for step in config.get("pipeline") or []:
        if isinstance(step, dict) and step.get("name") == COMPONENT:
            return float(step.get("c", DEFAULT_C)), config.get("language")
    return None


def start(
    config_path: Path, domain_path: Path, data_paths: Sequence[Path], corpus: Optional[List[Path]] = None
) -> bool:
    """Start fitting the safety classifiers on the training data of this `rasa train`; False
    when its config has no safety layer. `corpus`: other corpus files than the project's."""
    global _started
    settings = safety_settings(config_path)
    if settings is None:
        return False
    # spawn: a fresh interpreter, never a copy of a process that may already run TensorFlow.
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    args = (sender, str(config_path), str(domain_path), [str(p) for p in data_paths], *settings, corpus)
    process = context.Process(target=_fit, args=args, name="safety-early-fit", daemon=True)
    process.start()
    sender.close()  # the child's end: a child that dies unsent makes `recv` raise, not wait
    _started = (process, receiver)
    return True


def take(texts: Sequence[str], labels: Sequence[str], c: float) -> Optional[Dict[str, Any]]:
    """The started fit's models if they were fitted on exactly these pairs, else None."""
    global _started
    if _started is None:
        return None
    process, receiver = _started
    _started = None
    try:
        key, pipelines = receiver.recv()
    except (EOFError, OSError):
        key = None
    finally:
        receiver.close()
        process.join(timeout=10)
    if key is None:
        logger.warning("the early safety fit ended without models; fitting them now")
        return None
    if key != fit_key(texts, labels, c):
        logger.info("the early safety fit read other training pairs; fitting them now")
        return None
    logger.info("safety classifiers: fitted while Rasa started (the same %d pairs)", len(texts))
    return pipelines


def _fit(
    sender: Connection,
    config: str,
    domain: str,
    data: List[str],
    c: float,
    language: Optional[str],
    corpus: Optional[List[Path]],
) -> None:
    """In the child: Rasa's reading of the training data (as `rasa train` reads it), then both
    models; sends (key, models), or (None, None) when something failed."""
    try:
        from rasa.shared.importers.importer import TrainingDataImporter
        from rasa.shared.nlu.constants import INTENT, TEXT

        importer = TrainingDataImporter.load_from_config(config, domain, data)
        examples = importer.get_nlu_data(language).intent_examples
        texts, labels = training_pairs(((m.get(TEXT), m.get(INTENT)) for m in examples), corpus)
        pipelines = fit_models_here(texts, labels, c)  # one by one: Rasa's start leaves one core idle
        sender.send((fit_key(texts, labels, c), pipelines))
    except Exception:  # the training fits them itself
        logging.getLogger(__name__).exception("the early safety fit failed")
        sender.send((None, None))
    finally:
        sender.close()
