"""Rules on the training data: NLU examples, rules and stories.

- An example in the wrong language folder (Arabic under `data/nlu/en/`).
- The same example under two intents (the model cannot learn both).
- An intent the domain does not list, or one with almost no examples in a language.
- Rules and stories that name an intent, action, slot or entity the domain lacks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

from bot import FORM_NAMES, LANGUAGE_NAMES
from bot.core._yaml import YamlFileError
from bot.core.language import Detection, detect_language
from bot.core.normalize import normalise_for_matching
from bot.core.problems import Problem
from bot.tools.content._fastyaml import load as load_yaml_with_lines
from bot.tools.content.files import CONTROL_INTENTS, Domain, Example, read_examples
from bot.tools.content.paths import ContentPaths

# Language folders and the detected languages each may hold: Urdu speakers write in
# Urdu script and in Roman Urdu, so data/nlu/ur/ holds both.
FOLDER_LANGUAGES = {"en": {"en"}, "ar": {"ar"}, "ur": {"ur", "roman_ur"}}
MIN_EXAMPLES = 5  # fewer examples in one language and the intent is rarely recognised in it
# A same-script mismatch (English/Roman Urdu, Arabic/Urdu) is reported only when the
# detector is sure and the example long enough to judge: short greetings ("salam",
# "shukriya") and code-mixed Urdu ("mesotherapy painful ہے کیا") are normal in the
# folders they are in. Calibrated on data/nlu: legitimate examples stay below these.
SAME_SCRIPT = {  # (folder, detected) -> (min confidence, min words)
    ("en", "roman_ur"): (0.8, 3),
    ("ar", "ur"): (0.8, 3),
    ("ur", "ar"): (0.9, 5),
}
_ARABIC_LETTER = re.compile("[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile("[a-zA-Z\u00c0-\u024f]")


@lru_cache(maxsize=32768)
def _detect(text: str) -> Detection:
    """detect_language, remembered: a staged change re-validates thousands of unchanged examples."""
    return detect_language(text)


def _language_problem(example: Example, folder: str) -> Optional[Problem]:
    allowed = FOLDER_LANGUAGES[folder]
    arabic, latin = len(_ARABIC_LETTER.findall(example.text)), len(_LATIN_LETTER.findall(example.text))
    detection = _detect(example.text)
    where = f"data/nlu/{folder}/"
    if folder == "en" and arabic > latin:
        return Problem(
            example.path,
            example.line,
            f"{example.text!r} is written in Arabic script, but "
            f"{where} holds English only; move it to data/nlu/ar/ or data/nlu/ur/",
        )
    if folder == "ar" and latin > arabic and detection.is_confident:
        return Problem(
            example.path,
            example.line,
            f"{example.text!r} is written in Latin letters "
            f"({'Roman Urdu' if detection.language == 'roman_ur' else 'English'}), but {where} "
            "holds Arabic only; move it to data/nlu/en/ or data/nlu/ur/",
        )
    if detection.language is None or detection.language in allowed:
        return None
    bar = SAME_SCRIPT.get((folder, detection.language))
    if bar and detection.confidence >= bar[0] and len(example.text.split()) >= bar[1]:
        shown = {**LANGUAGE_NAMES, "roman_ur": FORM_NAMES["roman_ur"]}[detection.language]
        target = {"en": "en", "ar": "ar", "ur": "ur", "roman_ur": "ur"}[detection.language]
        return Problem(
            example.path,
            example.line,
            f"{example.text!r} looks like {shown}, but it is in "
            f"{where} ({LANGUAGE_NAMES[folder]}); move it to data/nlu/{target}/ if it is {shown}",
            "warning",
        )
    return None


def check_nlu(paths: ContentPaths, domain: Optional[Domain]) -> List[Problem]:
    problems: List[Problem] = []
    examples: List[Tuple[str, Example]] = []  # (folder, example)
    for path in sorted(paths.nlu.rglob("*.yml")) if paths.nlu.is_dir() else []:
        folder = path.relative_to(paths.nlu).parts[0] if len(path.relative_to(paths.nlu).parts) > 1 else ""
        if folder not in FOLDER_LANGUAGES:
            problems.append(
                Problem(
                    path,
                    1,
                    "NLU files go in data/nlu/en/, data/nlu/ar/ or data/nlu/ur/, "
                    "so each example's language is known; move this file",
                    "warning",
                )
            )
        for example in read_examples(path, problems):
            examples.append((folder, example))
            if folder in FOLDER_LANGUAGES:
                problem = _language_problem(example, folder)
                if problem:
                    problems.append(problem)
    problems += _duplicates([e for _, e in examples])
    if domain is not None:
        problems += _intents(examples, domain, paths)
    return problems


def _duplicates(examples: Iterable[Example]) -> List[Problem]:
    """Examples under two intents once normalised as the model sees them (case, punctuation,
    Arabic-script spelling variants folded)."""
    problems = []
    first: Dict[str, Example] = {}
    for example in examples:
        key = normalise_for_matching(example.text)
        if not key:
            continue
        seen = first.get(key)
        if seen is None:
            first[key] = example
        elif seen.intent != example.intent:
            problems.append(
                Problem(
                    example.path,
                    example.line,
                    f"{example.text!r} is an example of both "
                    f"'{seen.intent}' ({seen.path.name}:{seen.line}) and '{example.intent}'; "
                    "the model cannot learn both: keep it under one intent",
                )
            )
        # The same example twice under one intent is harmless (often a deliberate
        # spelling variant that the normaliser folds), so it is not reported.
    return problems


def _intents(examples: List[Tuple[str, Example]], domain: Domain, paths: ContentPaths) -> List[Problem]:
    problems = []
    reported = set()
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for folder, example in examples:
        counts[folder][example.intent] += 1
        if example.intent not in domain.intents and (example.intent, example.path) not in reported:
            reported.add((example.intent, example.path))
            problems.append(
                Problem(
                    example.path,
                    example.line,
                    f"intent '{example.intent}' is not in "
                    "domain.yml; fix the spelling or add it under 'intents:' in domain.yml",
                )
            )
    for intent, line in sorted(domain.intents.items()):
        if intent in CONTROL_INTENTS:
            continue
        for folder, name in LANGUAGE_NAMES.items():
            n = counts[folder].get(intent, 0)
            if n < MIN_EXAMPLES:
                problems.append(
                    Problem(
                        domain.path,
                        line,
                        f"intent '{intent}' has {n} {name} example(s) in "
                        f"data/nlu/{folder}/; add at least {MIN_EXAMPLES} so {name} "
                        "messages are recognised",
                        "warning",
                    )
                )
    return problems


def check_stories(paths: ContentPaths, domain: Optional[Domain]) -> List[Problem]:
    """Rules and stories naming what the domain lacks."""
    if domain is None:
        return []
    from rasa.shared.core.constants import DEFAULT_ACTION_NAMES, DEFAULT_INTENTS

    intents = set(domain.intents) | set(DEFAULT_INTENTS)
    actions = domain.actions | set(DEFAULT_ACTION_NAMES) | domain.forms
    problems: List[Problem] = []
    for path in sorted(p for d in (paths.rules, paths.stories) if d.is_dir() for p in d.rglob("*.yml")):
        try:
            raw, _ = load_yaml_with_lines(path)
        except (YamlFileError, OSError):
            continue
        for key in ("rules", "stories"):
            for block in (raw.get(key) or []) if isinstance(raw, dict) else []:
                if isinstance(block, dict):
                    name = block.get("rule") or block.get("story") or "?"
                    for step in [*(block.get("steps") or []), *(block.get("condition") or [])]:
                        problems += _step(step, path, name, intents, actions, domain)
    return problems


def _step(step, path: Path, name: str, intents: set, actions: set, domain: Domain) -> List[Problem]:
    if not isinstance(step, dict):
        return []
    out = []
    line = getattr(step, "line", 1)
    where = f"'{name}'"
    for alternative in step.get("or") or []:
        out += _step(alternative, path, name, intents, actions, domain)
    intent = step.get("intent")
    if intent is not None and intent not in intents:
        out.append(
            Problem(
                path,
                line,
                f"{where} uses intent '{intent}', which domain.yml does not list; "
                "fix the spelling or add the intent to domain.yml",
            )
        )
    action = step.get("action")
    if action is not None and action not in actions:
        out.append(
            Problem(
                path,
                line,
                f"{where} uses action '{action}', which domain.yml does not list; "
                "fix the spelling (every answer is action_answer) or add it to domain.yml",
            )
        )
    loop = step.get("active_loop")
    if loop and loop not in domain.forms:
        out.append(Problem(path, line, f"{where} uses form '{loop}', which domain.yml does not list"))
    for slot in step.get("slot_was_set") or []:
        slot_name = next(iter(slot), None) if isinstance(slot, dict) else slot
        if slot_name and slot_name not in domain.slots:
            out.append(
                Problem(path, line, f"{where} sets slot '{slot_name}', which domain.yml does not " "list")
            )
    for entity in step.get("entities") or []:
        entity_name = next(iter(entity), None) if isinstance(entity, dict) else entity
        if entity_name == "entity" and isinstance(entity, dict):
            entity_name = entity.get("entity")
        if entity_name and entity_name not in domain.entities:
            out.append(
                Problem(path, line, f"{where} uses entity '{entity_name}', which domain.yml does " "not list")
            )
    return out
