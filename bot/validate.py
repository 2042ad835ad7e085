"""`make validate`: everything a content edit can break, reported as `file:line: problem`."""

from __future__ import annotations

from pathlib import Path
from typing import List

import yaml

from bot import PROJECT_ROOT
from bot.answer_store import ANSWERS_DIR, AnswerStore
from bot.i18n import LOCALES_DIR, missing_translations
from bot.problems import InvalidContent, Problem
from bot.safety import TRIGGERS_FILE, SafetyGuard

# Intents answered by the dialogue logic rather than by one store entry.
CONTROL_INTENTS = {"ask_topic"}


def _domain_intents(domain_file: Path) -> set:
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    return {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []}


def check_content(strict: bool = False, answers_dir: Path = ANSWERS_DIR,
                  domain_file: Path = PROJECT_ROOT / "domain.yml") -> List[Problem]:
    """All problems in the answer store, regions, catalogs and safety lexicon."""
    problems: List[Problem] = []
    store = None
    try:
        store = AnswerStore.load(answers_dir, strict=strict)
    except InvalidContent as err:
        problems += err.problems
    if store is not None:
        problems += [Problem(a.path, a.line, f"entry '{a.id}' is pending clinical review", "warning")
                     for a in store.pending()]
        domain_intents = _domain_intents(domain_file)
        for intent in sorted(domain_intents - store.intents - CONTROL_INTENTS):
            problems.append(Problem(domain_file, 1, f"intent '{intent}' has no answer; list it under "
                                    "'intents:' of one entry in data/answers/"))
        for intent in sorted(store.intents - domain_intents - {"nlu_fallback"}):
            answer = store.for_intent(intent)
            problems.append(Problem(answer.path, answer.line, f"entry '{answer.id}' names intent "
                                    f"'{intent}', which domain.yml does not list"))
    for lang, msgid in missing_translations(LOCALES_DIR):
        problems.append(Problem(LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po", 1,
                                f"interface string {msgid!r} is not translated into {lang}"))
    try:
        SafetyGuard.load(TRIGGERS_FILE)
    except (OSError, ValueError, yaml.YAMLError) as err:
        problems.append(Problem(TRIGGERS_FILE, 1, f"the safety lexicon cannot be read: {err}"))
    return problems
