"""`make validate`: everything a content edit can break, reported as `file:line: problem`.

The rules live in bot/content/ (see bot/content/validate.py, `check_all`). This module
keeps `check_content`, the answer store, catalog and lexicon checks, for its callers.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

from bot import PROJECT_ROOT
from bot.answer_store import ANSWERS_DIR
from bot.content.store_rules import CONTROL_INTENTS, check_coverage, check_lexicon, load_store
from bot.content.validate import check_all
from bot.i18n import LOCALES_DIR, missing_translations
from bot.problems import Problem
from bot.safety import TRIGGERS_FILE

__all__ = ["CONTROL_INTENTS", "check_all", "check_content"]


def check_content(strict: bool = False, answers_dir: Path = ANSWERS_DIR,
                  domain_file: Path = PROJECT_ROOT / "domain.yml") -> List[Problem]:
    """All problems in the answer store, regions, catalogs and safety lexicon."""
    store, problems = load_store(answers_dir, strict)
    if store is not None:
        problems += check_coverage(store, domain_file)
    for lang, msgid in missing_translations(LOCALES_DIR):
        problems.append(Problem(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po", 1,
                                f"interface string {msgid!r} is not translated into {lang}"))
    return problems + check_lexicon(TRIGGERS_FILE)
