"""Problems found in content files, reported as `file:line: message`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List

from bot import PROJECT_ROOT


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        try:
            shown = self.path.resolve().relative_to(PROJECT_ROOT)
        except ValueError:
            shown = self.path
        prefix = "" if self.severity == "error" else "warning: "
        return f"{shown}:{self.line}: {prefix}{self.message}"


class InvalidContent(ValueError):
    """Content that the bot must not serve. `problems` lists every error found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: List[Problem] = list(problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the content:\n{lines}")
