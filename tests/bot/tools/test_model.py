"""The model's lifecycle helpers: one training at a time, the `rasa train` command."""

import subprocess
import sys
import time

from bot import PROJECT_ROOT
from bot.tools.model import _training_lock, rasa_train_command


def test_a_second_training_waits_for_the_first(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from bot.tools.model import _training_lock\n"
         "with _training_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(1.5)", str(tmp_path)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with _training_lock(tmp_path):
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited > 0.5, "the lock was taken while another process held it"


def test_rasa_train_reads_only_the_training_data(tmp_path):
    cmd = rasa_train_command(tmp_path, tmp_path / "out", model_name="candidate")
    data = cmd[cmd.index("--data") + 1 :]
    assert data == [str(tmp_path / d) for d in ("data/nlu", "data/rules", "data/stories")]
    assert cmd[cmd.index("--fixed-model-name") + 1] == "candidate"
    assert not any("eval" in part for part in cmd), "evaluation sets are never trained on"
