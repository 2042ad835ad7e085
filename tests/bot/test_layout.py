"""The folders say which process runs a file (docs/architecture.md): imports keep to that."""

import ast
from pathlib import Path
from typing import Iterator, Tuple

from bot import PROJECT_ROOT

# folder -> the first-party packages its modules may not import (at any depth in a module)
FORBIDDEN = {
    "bot/core": (
        "rasa",
        "rasa_sdk",
        "sanic",
        "tensorflow",
        "bot.rasa_server",
        "bot.action_server",
        "bot.tools",
        "bot.workbench",
        "actions",
    ),
    "bot/rasa_server": ("rasa_sdk", "bot.action_server", "bot.tools", "bot.workbench", "actions"),
    "bot/action_server": ("rasa", "bot.rasa_server", "bot.tools", "bot.workbench"),
    "actions": ("rasa", "bot.rasa_server", "bot.tools", "bot.workbench"),
    "bot/workbench": ("bot.rasa_server", "bot.action_server", "actions"),
}


def _imports(path: Path) -> Iterator[Tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_each_process_folder_imports_only_what_its_process_runs():
    crossings = []
    for folder, forbidden in FORBIDDEN.items():
        files = sorted((PROJECT_ROOT / folder).rglob("*.py"))
        assert files, folder
        for path in files:
            for line, module in _imports(path):
                if any(module == f or module.startswith(f + ".") for f in forbidden):
                    crossings.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}")
    assert not crossings, "\n".join(crossings)


def test_no_module_is_left_at_the_top_of_the_package():
    """Every module lives in its process's folder; `bot/` holds only the package's face."""
    top = sorted(p.name for p in (PROJECT_ROOT / "bot").glob("*.py"))
    assert top == ["__init__.py", "__main__.py"]
