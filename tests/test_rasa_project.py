"""Rasa's own checks on the project: data validation and the test stories."""

import subprocess
import sys

import pytest

from bot import PROJECT_ROOT
from bot.tools.model import TRAINING_DATA, model_path, rasa_env, train

pytestmark = pytest.mark.slow


def _rasa(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_rasa_data_validate_is_clean():
    result = _rasa(
        "data", "validate", "--domain", "domain.yml", "--data", *TRAINING_DATA, "--fail-on-warnings"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_the_test_stories_pass(tmp_path):
    train()
    result = _rasa(
        "test",
        "core",
        "--model",
        str(model_path()),
        "--stories",
        "tests/stories",
        "--out",
        str(tmp_path),
        "--fail-on-prediction-errors",
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
