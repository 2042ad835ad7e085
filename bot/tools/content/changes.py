"""A content change checked before it is written: staged on a copy, validated, shown as a diff.

The staff workbench (bot/workbench) changes `data/` on a content editor's behalf: a patient
message filed under an intent, an answer's text. Each change is a set of whole new file
texts, planned with the project's YAML editor (bot/tools/content/yaml_edit.py), and

1. written to a throw-away copy of the project, where `make validate`'s checks run
   (`bot.tools.content.validate.check_all`, Rasa's own check included);
2. refused, with the reasons, when the copy has an error the project does not have now;
3. shown as a unified diff;
4. written to the real files atomically, and only if none of them changed meanwhile.

The independent evaluation sets and the held-out sets (data/eval/) and tests/ are never a
target: `apply` refuses any path outside the folders content staff edit.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot.core.files import write_text_atomically
from bot.core.problems import Problem
from bot.tools.content.paths import ContentPaths

# Where a change may write, relative to the project. Nothing else, ever: data/eval/ and
# tests/ hold the sets the bot is measured on.
WRITABLE = ("data/nlu/", "data/answers/", "data/safety/corpus/staff_reviewed.yml")
NEVER = ("data/eval/", "tests/")


class ChangeRefused(ValueError):
    """Nothing was written; `reasons` says why, each with what to do."""

    def __init__(self, reasons: List[str]):
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


class ChangedMeanwhile(ChangeRefused):
    """A file changed between planning and writing (another editor, a text editor)."""


def relative(paths: ContentPaths, path: Path) -> str:
    return Path(path).resolve().relative_to(paths.root.resolve()).as_posix()


def check_writable(paths: ContentPaths, path: Path) -> str:
    """`path` relative to the project, if a change may write it; raises ChangeRefused otherwise."""
    try:
        shown = relative(paths, path)
    except ValueError:
        raise ChangeRefused([f"{path} is outside the project"]) from None
    if shown.startswith(NEVER) or not shown.startswith(WRITABLE) or ".." in Path(shown).parts:
        raise ChangeRefused(
            [
                f"{shown} is not a file the workbench may change (evaluation and held-out sets "
                "are never written)"
            ]
        )
    return shown


@dataclass
class ContentChange:
    """New texts for some content files, not yet written."""

    paths: ContentPaths
    what: str  # one line for the audit log and the page
    files: Dict[Path, Tuple[Optional[str], str]] = field(default_factory=dict)  # path -> (before, after)

    def set(self, path: Path, after: str) -> None:
        path = Path(path)
        check_writable(self.paths, path)
        before = (
            self.files[path][0]
            if path in self.files
            else (path.read_text(encoding="utf-8") if path.exists() else None)
        )
        self.files[path] = (before, after)

    def diff(self) -> str:
        """A unified diff, paths relative to the project (a/… b/…)."""
        out: List[str] = []
        for path, (before, after) in sorted(self.files.items()):
            shown = relative(self.paths, path)
            out += difflib.unified_diff(
                (before or "").splitlines(keepends=True),
                after.splitlines(keepends=True),
                "/dev/null" if before is None else f"a/{shown}",
                f"b/{shown}",
                n=2,
            )
        return "".join(line if line.endswith("\n") else line + "\n" for line in out)

    # -- checking -----------------------------------------------------------------------
    def check(self, rasa: bool = True) -> "CheckResult":
        """`make validate` on a copy of the project with this change: the errors it would add."""
        from bot.tools.content.validate import check_all

        with tempfile.TemporaryDirectory(prefix="workbench-change-") as tmp:
            staged = stage_copy(self.paths, Path(tmp))
            for path, (_, after) in self.files.items():
                target = staged.root / relative(self.paths, path)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(after, encoding="utf-8")
            after_problems = [_rebase(p, staged.root, self.paths.root) for p in check_all(staged, rasa=rasa)]
        errors = [p for p in after_problems if p.severity == "error"]
        if errors:  # only then is the project's own state worth computing (Rasa's check is slow)
            known = {_key(self.paths, p) for p in baseline_errors(self.paths, rasa)}
            errors = [p for p in errors if _key(self.paths, p) not in known]
        return CheckResult(errors, [p for p in after_problems if p.severity != "error"])

    # -- writing ------------------------------------------------------------------------
    def apply(self) -> List[Path]:
        """Write every file atomically; refuses (nothing written) when one changed meanwhile."""
        for path, (before, _) in self.files.items():
            check_writable(self.paths, path)
            now = path.read_text(encoding="utf-8") if path.exists() else None
            if now != before:
                raise ChangedMeanwhile(
                    [
                        f"{relative(self.paths, path)} changed since this was prepared; "
                        "nothing was written: reload the page and try again"
                    ]
                )
        for path, (_, after) in self.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomically(path, after)
        return sorted(self.files)


@dataclass
class CheckResult:
    errors: List[Problem]  # new errors: the change is refused when there is any
    warnings: List[Problem]

    @property
    def passed(self) -> bool:
        return not self.errors


def stage_copy(paths: ContentPaths, target: Path) -> ContentPaths:
    """What `make validate` reads, copied to `target`: data/ (the held-out sets too), the catalogs,
    domain.yml, config.yml and credentials.yml (the web channel's settings are checked too; a few MB)."""
    shutil.copytree(paths.root / "data", target / "data")
    if paths.locales.is_dir():
        shutil.copytree(paths.locales, target / "locales", ignore=shutil.ignore_patterns("*.mo"))
    for name in ("domain.yml", "config.yml", "credentials.yml"):
        if (paths.root / name).exists():
            shutil.copy(paths.root / name, target / name)
    return ContentPaths(target)


def _rebase(problem: Problem, staged: Path, root: Path) -> Problem:
    try:
        path = root / Path(problem.path).resolve().relative_to(staged.resolve())
    except ValueError:
        path = Path(problem.path)
    return Problem(path, problem.line, problem.message.replace(str(staged), str(root)), problem.severity)


_LINE_NUMBERS = re.compile(r"(?<=\.yml):\d+|(?<=line )\d+")


def _key(paths: ContentPaths, problem: Problem) -> tuple:
    """A problem without its line numbers: adding a line moves every later problem down one."""
    try:
        shown = relative(paths, problem.path)
    except ValueError:
        shown = str(problem.path)
    return shown, _LINE_NUMBERS.sub("", problem.message)


_baseline: Dict[tuple, List[Problem]] = {}


def content_fingerprint(paths: ContentPaths) -> str:
    """Changes whenever a file `make validate` reads changes (name, size, modification time)."""
    digest = hashlib.sha256()
    for folder in (paths.root / "data", paths.locales):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    for path in (paths.domain, paths.config):
        if path.exists():
            digest.update(f"{path}\0{path.stat().st_mtime_ns}\n".encode())
    return digest.hexdigest()


def baseline_errors(paths: ContentPaths, rasa: bool = True) -> List[Problem]:
    """The project's errors as it is now (remembered until a content file changes)."""
    from bot.tools.content.validate import check_all

    key = (str(paths.root), rasa, content_fingerprint(paths))
    if key not in _baseline:
        _baseline.clear()
        _baseline[key] = [p for p in check_all(paths, rasa=rasa) if p.severity == "error"]
    return _baseline[key]
