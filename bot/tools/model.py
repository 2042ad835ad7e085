"""The trained model and whether it is stale.

A model is trained from the NLU examples, rules, stories, domain and pipeline config,
and from the code of our own NLU components. Their hash is stored beside the model;
when it still matches, `make run` and `make test` reuse the model instead of retraining.
Answer texts are read at run time, so editing them never needs a retrain.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, List, Optional

from filelock import FileLock

from bot import PROJECT_ROOT
from bot.core.imports import names_class

MODELS_DIR = PROJECT_ROOT / "models"
MODEL_NAME = "current"
TRAINING_DATA = ("data/nlu", "data/rules", "data/stories")
TRAINING_INPUTS = (
    *TRAINING_DATA,
    "domain.yml",
    "config.yml",
    "bot/rasa_server/nlu",
    "bot/rasa_server/rule_policy.py",
    "bot/core/normalize.py",
    "bot/core/language.py",
    "bot/core/language_markers.yml",
    "bot/core/payloads.py",
    "bot/core/safety/classifier.py",
    "data/safety/corpus",
)


def model_path(models_dir: Path = MODELS_DIR) -> Path:
    return models_dir / f"{MODEL_NAME}.tar.gz"


def _files(paths: Iterable[str], root: Path) -> List[Path]:
    out = []
    for rel in paths:
        path = root / rel
        if path.is_dir():
            out += [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        elif path.is_file():
            out.append(path)
    return sorted(out)


def training_hash(root: Path = PROJECT_ROOT) -> str:
    """A hash of everything the model is trained from, and the Rasa version."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    for path in _files(TRAINING_INPUTS, root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _hash_file(models_dir: Path) -> Path:
    return models_dir / f"{MODEL_NAME}.hash"


def is_stale(models_dir: Path = MODELS_DIR, root: Path = PROJECT_ROOT) -> bool:
    hash_file = _hash_file(models_dir)
    if not model_path(models_dir).exists() or not hash_file.exists():
        return True
    return hash_file.read_text().strip() != training_hash(root)


def missing_components(archive: Path) -> List[str]:
    """The graph components a model archive names that this code no longer has.

    A model stores the import path of every component it was trained with. One trained
    before a component was moved or removed cannot be loaded by this version of the bot
    (Rasa stops at "Can't find class for graph component type"), so it must not be put
    back in service. Our own components are looked up without importing them (no
    TensorFlow start for a check); Rasa's come with the pinned Rasa."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = next((m for m in tar if m.name.lstrip("./") == "metadata.json"), None)
            metadata = json.load(tar.extractfile(member)) if member else None
    except (OSError, tarfile.TarError, ValueError, AttributeError) as err:
        return [f"{archive.name}: not a readable Rasa model ({type(err).__name__})"]
    if not isinstance(metadata, dict):
        return [f"{archive.name}: not a Rasa model (no metadata.json)"]
    uses = {
        node.get("uses", "")
        for schema in ("train_schema", "predict_schema")
        for node in ((metadata.get(schema) or {}).get("nodes") or {}).values()
        if isinstance(node, dict)
    }
    return sorted(u for u in uses if u.startswith("bot.") and not names_class(u))


def rasa_env() -> dict:
    """The environment every Rasa process runs with: no telemetry, quiet TensorFlow."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
        }
    )
    return env


def rasa_train_command(
    root: Path, out_dir: Path, model_name: str = MODEL_NAME, config: Optional[Path] = None
) -> List[str]:
    """`rasa train` of the project at `root`: `make train`, `make retrain` and the benchmark.

    Without Rasa's own data validation (about 6 s): `make validate` and `make retrain` run it
    with our content rules before any training, and `make test` runs it as a test. Rasa's
    command, its independent components trained at the same time (bot/tools/rasa_train.py)."""
    return [
        sys.executable, "-m", "bot.tools.rasa_train", "train", "--skip-validation",
        "--config", str(config or root / "config.yml"),
        "--domain", str(root / "domain.yml"),
        "--out", str(out_dir),
        "--fixed-model-name", model_name,
        "--data", *[str(root / d) for d in TRAINING_DATA],
    ]  # fmt: skip


@contextmanager
def _training_lock(models_dir: Path):
    """One training at a time per project: tests and developers may ask at once."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(models_dir / ".train.lock"):  # an OS lock: released if the process dies
        yield


def train(
    force: bool = False,
    models_dir: Path = MODELS_DIR,
    root: Path = PROJECT_ROOT,
    out: Optional[object] = None,
) -> Optional[float]:
    """Train when stale (or forced). Returns the training time in seconds, or None if reused.

    The new model is written beside the old one and moved into place when complete, so
    a server loading `current.tar.gz` never reads a half-written file.
    """
    with _training_lock(models_dir):
        if not force and not is_stale(models_dir, root):
            return None
        expected = training_hash(root)
        with tempfile.TemporaryDirectory(dir=models_dir, prefix=".training-") as tmp:
            cmd = rasa_train_command(root, Path(tmp))
            started = time.monotonic()
            subprocess.run(cmd, cwd=root, env=rasa_env(), check=True, stdout=out, stderr=out)
            elapsed = time.monotonic() - started
            os.replace(Path(tmp) / f"{MODEL_NAME}.tar.gz", model_path(models_dir))
        _hash_file(models_dir).write_text(expected + "\n")
        return elapsed
