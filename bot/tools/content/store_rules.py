"""The answer store as the bot loads it, and what it must cover.

Every rule takes the folders it checks, so it can run on a copy of the project (a change
staged by the workbench, a candidate model's content).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import List, Optional, Set, Tuple

import yaml

from bot.core.answer_store import AnswerStore
from bot.core.problems import InvalidContent, Problem
from bot.core.safety import SafetyGuard
from bot.tools.content.files import CONTROL_INTENTS, read_domain


def load_store(answers_dir: Path, strict: bool = False) -> Tuple[Optional[AnswerStore], List[Problem]]:
    """The store as the action server loads it, and its problems: entries production would
    refuse (medical ones no clinician approved, others not content-checked) are warnings, or
    errors when `strict`. The store is returned in strict mode too, so the other rules still
    run on it."""
    try:
        store = AnswerStore.load(answers_dir)
    except InvalidContent as err:
        return None, list(err.problems)
    if strict:
        return store, [Problem(a.path, a.line, a.refusal()) for a in store.pending()]
    return store, [Problem(a.path, a.line, _served_until(a), "warning") for a in store.pending()]


def _served_until(answer) -> str:
    if answer.needs_clinician:
        return (
            f"entry '{answer.id}' is pending clinical review (status: {answer.review_status}); it is "
            "served, but production (STRICT=1) refuses it until a clinician approves it"
        )
    return (
        f"entry '{answer.id}' is pending review; it is served, but production (STRICT=1) refuses it "
        "until it is content-checked"
    )


def check_coverage(store: AnswerStore, domain_file: Path) -> List[Problem]:
    """Every intent has an answer, and every answered intent exists."""
    problems: List[Problem] = []
    domain = read_domain(domain_file, [])
    if domain is None:
        return problems  # the YAML check reports it
    domain_intents = set(domain.intents)
    for intent in sorted(domain_intents - store.intents - CONTROL_INTENTS):
        problems.append(
            Problem(
                domain_file,
                1,
                f"intent '{intent}' has no answer; list it under " "'intents:' of one entry in data/answers/",
            )
        )
    for intent in sorted(store.intents - domain_intents - {"nlu_fallback"}):
        answer = store.for_intent(intent)
        problems.append(
            Problem(
                answer.path,
                answer.line,
                f"entry '{answer.id}' names intent " f"'{intent}', which domain.yml does not list",
            )
        )
    return problems


_readable_lexicons: Set[str] = set()  # digests of lexicons already compiled without a problem


def check_lexicon(triggers: Path) -> List[Problem]:
    """The safety lexicon (triggers.yml and the concept files beside it) compiles."""
    concepts = triggers.parent / "concepts"
    try:
        files = [triggers, *sorted(concepts.glob("*.yml"))]
        digest = hashlib.sha256(b"".join(f.name.encode() + b"\0" + f.read_bytes() for f in files)).hexdigest()
        if digest not in _readable_lexicons:
            SafetyGuard.load(triggers, concepts)
            _readable_lexicons.add(digest)
    except (OSError, ValueError, yaml.YAMLError) as err:
        return [Problem(triggers, 1, f"the safety lexicon cannot be read: {err}")]
    return []
