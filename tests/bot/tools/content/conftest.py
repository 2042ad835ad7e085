"""A writable copy of the project's content, for breaking on purpose (the real data/ is never touched)."""

import shutil
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.tools.content.paths import ContentPaths


def copy_project(target: Path) -> ContentPaths:
    """data/, domain.yml, config.yml, credentials.yml, the catalogs and the held-out sets (in data/), copied to `target`."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(PROJECT_ROOT / "data", target / "data")
    shutil.copytree(PROJECT_ROOT / "locales", target / "locales", ignore=shutil.ignore_patterns("*.mo"))
    for name in ("domain.yml", "config.yml", "credentials.yml"):
        shutil.copy(PROJECT_ROOT / name, target / name)
    return ContentPaths(target)


@pytest.fixture
def project(tmp_path) -> ContentPaths:
    return copy_project(tmp_path / "project")


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line containing `needle`."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
