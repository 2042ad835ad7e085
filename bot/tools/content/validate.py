"""`make validate`: every check a content edit can break, as `file:line: problem, and the fix`.

Errors stop `make retrain` and make the command fail; warnings (an entry pending
clinical review, a translation made from an older English text) are shown and
allowed. STRICT=1 (production) turns those two warnings into errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List

from bot.core._yaml import YamlFileError
from bot.core.clinic import read_clinics
from bot.core.problems import Problem
from bot.rasa_server.credentials import check_credentials
from bot.tools.content._fastyaml import load as load_yaml_with_lines
from bot.tools.content.answer_rules import check_answers
from bot.tools.content.catalog_rules import check_catalogs
from bot.tools.content.files import read_domain
from bot.tools.content.nlu_rules import check_nlu, check_stories
from bot.tools.content.offline_reply import check as check_offline_reply
from bot.tools.content.paths import ContentPaths
from bot.tools.content.store_rules import check_coverage, check_lexicon, load_store


def content_yaml_files(paths: ContentPaths) -> List[Path]:
    """Every YAML file content staff may edit."""
    files = [paths.domain, paths.config]
    folder = paths.root / "data"  # the held-out sets too (data/eval/held_out)
    if folder.is_dir():
        files += sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml"))
    return [f for f in files if f.exists()]


def check_yaml_syntax(paths: ContentPaths) -> List[Problem]:
    problems = []
    for path in content_yaml_files(paths):
        try:
            load_yaml_with_lines(path)
        except YamlFileError as err:
            problems.append(
                Problem(
                    path,
                    err.line,
                    f"{err.message}; check the indentation and the quotes "
                    "on this line and the one above (the tab key is not allowed)",
                )
            )
    return problems


def _unique(problems: Iterable[Problem]) -> List[Problem]:
    seen, out = set(), []
    for problem in problems:
        key = str(problem)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


def check_all(paths: ContentPaths = None, strict: bool = False, rasa: bool = True) -> List[Problem]:
    """Every problem in the project's content: errors first, then warnings, each by file and line."""
    paths = paths or ContentPaths.project()
    problems = check_yaml_syntax(paths)
    syntax_broken = {p.path for p in problems}
    store, store_problems = load_store(paths.answers, strict)
    problems += store_problems
    if store is not None:
        problems += check_coverage(store, paths.domain)
        problems += check_offline_reply(paths.domain, paths.answers / "regions.yml")
    problems += check_answers(paths, store, strict)
    problems += check_catalogs(paths)
    problems += check_lexicon(paths.triggers)
    read_clinics(paths.root / "data" / "clinic.yml", problems)
    problems += check_credentials(paths.root / "credentials.yml")
    domain = read_domain(paths.domain, problems)
    problems += check_nlu(paths, domain)
    problems += check_stories(paths, domain)
    if rasa:
        if syntax_broken & {paths.domain, *paths.training_files()}:
            problems.append(
                Problem(
                    paths.domain,
                    1,
                    "rasa data validate was not run: fix the YAML syntax " "errors above first",
                    "warning",
                )
            )
        else:
            from bot.tools.content.rasa_check import check_with_rasa

            problems += check_with_rasa(paths)
    problems = _unique(problems)
    order = {"error": 0, "warning": 1}
    return sorted(problems, key=lambda p: (order.get(p.severity, 2), paths.show(p.path), p.line))


def report(problems: List[Problem], strict: bool = False) -> int:
    """Print the problems and a summary; the exit status (1 when there is an error)."""
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        print(problem)
    print(
        f"\n{len(errors)} error(s), {len(problems) - len(errors)} warning(s)"
        + (" [STRICT: pending reviews and out-of-date translations are errors]" if strict else "")
    )
    if errors:
        print("Fix the errors, then run make validate again. docs/content-guide.md explains each message.")
    return 1 if errors else 0
