import os
import shutil
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.core.answer_store import ANSWERS_DIR, AnswerStore

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


@pytest.fixture(scope="session")
def store() -> AnswerStore:
    return AnswerStore.load()


@pytest.fixture
def answers_copy(tmp_path: Path) -> Path:
    """A writable copy of the real answer store, for breaking on purpose."""
    target = tmp_path / "answers"
    shutil.copytree(ANSWERS_DIR, target)
    return target


def pytest_report_header(config):
    return f"project: {PROJECT_ROOT}"
