"""The two models the benchmark compares, trained on the same data and domain.

`ours` is config.yml; `stock` is the config.yml that `rasa init` writes (Rasa's default
pipeline and policies), copied from Rasa's own project template. Both are cached under
var/bench/models/<name>/ with the hash of what they were trained from and the training
time, so a second `make bench` on unchanged inputs reuses them (and still reports the
time the training took). BENCH_RETRAIN=1 retrains both; BENCH_REUSE=1 reuses them even
if the data changed since (the report then says `stale`): the stock model takes about
half an hour to train on 2 shared cores.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from bot import PROJECT_ROOT
from bot.tools.model import MODEL_NAME, rasa_env, rasa_train_command, training_hash

BENCH_DIR = PROJECT_ROOT / "var" / "bench"


def stock_config_source() -> Path:
    """The config.yml `rasa init --no-prompt` copies into a new project."""
    import rasa.cli

    return Path(rasa.cli.__file__).parent / "initial_project" / "config.yml"


@dataclass
class TrainedModel:
    name: str
    path: Path
    training_seconds: float
    trained_now: bool
    # Reused with BENCH_REUSE=1 although its inputs changed since it was trained.
    stale: bool = False


def _train(name: str, config: Path, root: Path, out_dir: Path, log) -> float:
    tmp = out_dir / ".training"
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = rasa_train_command(root, tmp, config=config)
    started = time.monotonic()
    subprocess.run(cmd, cwd=root, env=rasa_env(), check=True, stdout=log, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - started
    os.replace(tmp / f"{MODEL_NAME}.tar.gz", out_dir / f"{MODEL_NAME}.tar.gz")
    shutil.rmtree(tmp, ignore_errors=True)
    return elapsed


def trained(
    name: str, bench_dir: Path = BENCH_DIR, root: Path = PROJECT_ROOT, retrain: Optional[bool] = None
) -> TrainedModel:
    """The `ours` or `stock` model, trained now if missing, stale or BENCH_RETRAIN=1."""
    if retrain is None:
        retrain = os.environ.get("BENCH_RETRAIN") == "1"
    out_dir = bench_dir / "models" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    if name == "ours":
        config = root / "config.yml"
    elif name == "stock":
        config = out_dir / "config.yml"
        shutil.copyfile(stock_config_source(), config)
    else:
        raise ValueError(f"unknown model {name!r}")
    digest = hashlib.sha256((training_hash(root) + config.read_text(encoding="utf-8")).encode()).hexdigest()
    record = out_dir / "training.json"
    model = out_dir / f"{MODEL_NAME}.tar.gz"
    if not retrain and model.exists() and record.exists():
        saved = json.loads(record.read_text())
        if saved.get("hash") == digest or os.environ.get("BENCH_REUSE") == "1":
            return TrainedModel(
                name, model, saved["seconds"], trained_now=False, stale=saved.get("hash") != digest
            )
    with open(out_dir / "training.log", "wb") as log:
        seconds = _train(name, config, root, out_dir, log)
    record.write_text(json.dumps({"hash": digest, "seconds": round(seconds, 1)}))
    return TrainedModel(name, model, round(seconds, 1), trained_now=True)


if __name__ == "__main__":  # python -m bench.models stock|ours: train one ahead of a run
    for which in sys.argv[1:] or ["ours", "stock"]:
        print(trained(which))
