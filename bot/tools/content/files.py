"""The content files' readers, one per kind, shared by every rule and tool that reads them.

- `read_domain`: domain.yml's intents (with their lines), actions, responses, slots,
  entities and forms: the NLU and story rules, the answer-coverage rule and the
  workbench's intent choices all read it here.
- `read_examples`: the examples of one NLU file, each with its line and without entity
  annotations: the NLU rules, the workbench's relabelling and the retraining report.

The answer files have theirs in bot/core/answer_store.py (`answer_entries`), because the
running bot reads them too; the interface catalogs theirs in bot/core/i18n.py
(`read_catalog`). Files are parsed once per content (bot/tools/content/_fastyaml.py).
What a reader cannot parse it leaves to `make validate`'s YAML check, which names the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Set

from bot.core._yaml import YamlFileError
from bot.core.problems import Problem
from bot.tools.content._fastyaml import load as load_yaml_with_lines

# Intents only a button sends (`/ask_topic{"topic": ...}`), never typed and answered by the
# dialogue rather than one store entry: they need no examples and no answer of their own.
CONTROL_INTENTS: FrozenSet[str] = frozenset({"ask_topic"})
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    text: str  # without entity annotations
    intent: str
    path: Path
    line: int


@dataclass
class Domain:
    path: Path
    intents: Dict[str, int]  # name -> line
    actions: Set[str]
    slots: Set[str]
    entities: Set[str]
    forms: Set[str]


# The folder of data/nlu each written form's files are in (Roman Urdu beside Urdu script).
FOLDER_OF = {"en": "en", "ar": "ar", "ur": "ur", "roman_ur": "ur"}


def form_of(nlu_file: Path) -> str:
    """The written form of an NLU file: its language folder, Roman Urdu for `ur/roman*.yml`."""
    folder = nlu_file.parent.name
    return "roman_ur" if folder == "ur" and nlu_file.name.startswith("roman") else folder


def read_domain(path: Path, problems: List[Problem]) -> Optional[Domain]:
    try:
        raw, text = load_yaml_with_lines(path)
    except (YamlFileError, OSError):
        return None  # the YAML check reports it
    if not isinstance(raw, dict):
        problems.append(
            Problem(path, 1, "domain.yml must be a mapping with intents:, actions: and " "responses:")
        )
        return None

    lines = text.splitlines()

    def line_of(name: str, default: int) -> int:
        # List items carry no line of their own: find "- name" in the file.
        pattern = re.compile(r"^\s*-?\s*['\"]?" + re.escape(name) + r"['\"]?\s*(:|#|$)")
        return next((i for i, line in enumerate(lines, 1) if pattern.match(line)), default)

    def names(key: str) -> Dict[str, int]:
        value = raw.get(key) or []
        out = {}
        for item in value if isinstance(value, (list, dict)) else []:
            name = (
                item if isinstance(item, str) else next(iter(item), None) if isinstance(item, dict) else None
            )
            if name:
                out[str(name)] = line_of(str(name), getattr(value, "line", 1))
        return out

    actions = set(names("actions")) | set(names("responses"))
    return Domain(
        path, names("intents"), actions, set(names("slots")), set(names("entities")), set(names("forms"))
    )


def read_examples(path: Path, problems: List[Problem]) -> List[Example]:
    """The examples of one NLU file, each with its own line."""
    try:
        raw, text = load_yaml_with_lines(path)
    except (YamlFileError, OSError):
        return []  # the YAML check reports it
    lines = text.splitlines()
    out = []
    for item in (raw.get("nlu") or []) if isinstance(raw, dict) else []:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        intent = str(item.get("intent"))
        block = item.get("examples")
        start = getattr(item, "key_lines", {}).get("examples", getattr(item, "line", 1))
        if not isinstance(block, str):
            problems.append(
                Problem(
                    path,
                    start,
                    f"intent '{intent}': 'examples: |' must be followed by " "lines starting with '- '",
                )
            )
            continue
        for i, line in enumerate(block.split("\n")):
            stripped = line.strip()
            if not stripped:
                continue
            if not stripped.startswith("- "):
                problems.append(
                    Problem(
                        path,
                        start + 1 + i,
                        f"intent '{intent}': every example line starts "
                        f"with '- ' (found {stripped[:40]!r})",
                    )
                )
                continue
            example = _ANNOTATION.sub(r"\1", stripped[2:].strip())
            number = start + 1 + i
            # A literal block maps one to one onto the file; check, and fall back to the key's line.
            if not (0 < number <= len(lines) and stripped in lines[number - 1]):
                number = start
            out.append(Example(example, intent, path, number))
    return out
