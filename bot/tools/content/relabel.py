"""Filing a patient's message as a training example: under an intent, or in the safety corpus.

What `make review` leaves to content staff by hand (copy the text under the right intent in
`data/nlu/<lang>/`), done in one step by the staff workbench (bot/workbench):

- an intent: the example goes under that intent in the file of its language folder and
  written form (Roman Urdu in `data/nlu/ur/roman*.yml`, Urdu script in the other
  `data/nlu/ur/` files) that already holds most of the intent's examples, or in a new
  `- intent:` block of the folder's main file; the line is added with the project's YAML
  editor, so comments and order stay;
- "should have been urgent" / "should have gone to a clinician": the message goes to the
  safety classifier's corpus, `data/safety/corpus/staff_reviewed.yml`, as
  `{text, lang, label: urgent|personal, concept: staff}`.

The text is masked first (phone numbers, e-mail addresses, links; bot.tools.content.review.mask_contact_details).
A message is refused, and nothing is written, when it is a message of the held-out sets
(data/eval/held_out/) or copies one of the independent evaluation sets (data/eval/), when it is
already there, or when `make validate` would report a new error (bot.tools.content.changes).
Nothing is ever written to an evaluation or held-out set.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import yaml

from bot import FORM_NAMES
from bot.core._yaml import YamlFileError, read_yaml
from bot.core.normalize import normalise_for_matching
from bot.core.safety import SAFETY_INTENTS  # filed through the corpus, not as NLU examples
from bot.tools.content._fastyaml import load as load_yaml_with_lines
from bot.tools.content.changes import ChangeRefused, ContentChange
from bot.tools.content.files import CONTROL_INTENTS, FOLDER_OF, form_of, read_domain, read_examples
from bot.tools.content.paths import ContentPaths
from bot.tools.content.review import mask_contact_details
from bot.tools.content.yaml_edit import YamlEditor

FORMS = ("en", "ar", "ur", "roman_ur")
# The two safety choices and the corpus label each writes.
URGENT, CLINICIAN = "should-have-been-urgent", "should-have-gone-to-a-clinician"
SAFETY_LABELS = {URGENT: "urgent", CLINICIAN: "personal"}
STAFF_CORPUS = Path("data") / "safety" / "corpus" / "staff_reviewed.yml"
STAFF_CONCEPT = "staff"
MAX_CHARS = 400  # longer is a letter, not an example of one question
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Rasa reads `[text](entity)`, `[text]{...}` and `[text][...]` as entity annotations: a masked
# "[number]" right before a bracket must not turn into one.
_ANNOTATION_START = re.compile(r"\]([(\[{])")
CORPUS_HEADER = """\
# Messages from real conversations that content staff filed in the staff workbench
# (python -m bot workbench, Inbox): "should have been urgent" (label: urgent) and "should have
# gone to a clinician" (label: personal). Masked like make review's export (phone numbers,
# e-mail addresses, links). Training data of the safety classifier (bot/core/safety/classifier.py).
messages:
"""


def clean(text: str) -> str:
    """The text as it is filed: masked, one line, no invisible control characters."""
    text = _CONTROL.sub("", mask_contact_details(str(text)))
    text = " ".join(text.split())
    return _ANNOTATION_START.sub(r"] \1", text)


def intent_choices(paths: ContentPaths) -> List[str]:
    """The intents a message can be filed under: the domain's, less button payloads and the
    two safety intents (those go through the safety corpus)."""
    domain = read_domain(paths.domain, [])
    not_filed_here = CONTROL_INTENTS | set(SAFETY_INTENTS)
    return [name for name in (domain.intents if domain else ()) if name not in not_filed_here]


def nlu_files(paths: ContentPaths, form: str) -> List[Path]:
    folder = FOLDER_OF[form]
    return [p for p in sorted((paths.nlu / folder).glob("*.yml")) if form_of(p) == form]


def choose_file(paths: ContentPaths, form: str, intent: str) -> Path:
    """The file of `form` holding most of `intent`'s examples; else the one with most examples."""
    counts: Dict[Path, Counter] = {
        p: Counter(e.intent for e in read_examples(p, [])) for p in nlu_files(paths, form)
    }
    if not counts:
        raise ChangeRefused([f"there is no {FORM_NAMES[form]} file in data/nlu/{FOLDER_OF[form]}/"])
    return max(counts, key=lambda p: (counts[p][intent], sum(counts[p].values()), -len(p.name)))


@dataclass
class Relabel:
    """A planned filing: the change, where it goes, and the exact line added."""

    change: ContentChange
    target: Path
    text: str
    choice: str


def _held_out_texts(paths: ContentPaths) -> Dict[str, Path]:
    out = {}
    for path in sorted(paths.held_out.glob("*.yml")) if paths.held_out.is_dir() else []:
        for example in read_examples(path, []):
            out.setdefault(normalise_for_matching(example.text), path)
    return out


def _refuse_measurement_copies(paths: ContentPaths, text: str) -> None:
    from bot.tools.eval_integrity import is_copy

    held = _held_out_texts(paths).get(normalise_for_matching(text))
    if held is not None:
        raise ChangeRefused(
            [
                f"this message is in the held-out test set {paths.show(held)}: a model trained on "
                "it would be measured on its own lesson; it is not added"
            ]
        )
    if is_copy(text):
        raise ChangeRefused(
            [
                "this message copies a message of the independent evaluation sets (data/eval/); "
                "training on it would make their figures meaningless; it is not added"
            ]
        )


def plan(paths: ContentPaths, text: str, form: str, choice: str) -> Relabel:
    """The change that files `text` (written in `form`) under `choice`: an intent of
    `intent_choices`, URGENT or CLINICIAN. Raises ChangeRefused (nothing planned)."""
    text = clean(text)
    if not text:
        raise ChangeRefused(["the message is empty once masked; there is nothing to add"])
    if len(text) > MAX_CHARS:
        raise ChangeRefused(
            [
                f"the message has {len(text)} characters; an example is one question "
                f"(at most {MAX_CHARS}): shorten it to the part that asks"
            ]
        )
    if form not in FORMS:
        raise ChangeRefused([f"unknown written form {form!r}; choose one of {', '.join(FORMS)}"])
    _refuse_measurement_copies(paths, text)
    if choice in SAFETY_LABELS:
        return _plan_corpus(paths, text, form, SAFETY_LABELS[choice], choice)
    if choice not in intent_choices(paths):
        raise ChangeRefused([f"'{choice}' is not an intent of domain.yml; choose one from the list"])
    return _plan_example(paths, text, form, choice)


def _plan_example(paths: ContentPaths, text: str, form: str, intent: str) -> Relabel:
    key = normalise_for_matching(text)
    for path in sorted((paths.nlu / FOLDER_OF[form]).glob("*.yml")):
        for example in read_examples(path, []):
            if example.intent == intent and normalise_for_matching(example.text) == key:
                raise ChangeRefused(
                    [
                        f"already an example of '{intent}' ({paths.show(path)}:{example.line}); "
                        "nothing to add"
                    ]
                )
    target = choose_file(paths, form, intent)
    raw, _ = load_yaml_with_lines(target)
    editor = YamlEditor(target)
    block = next(
        (
            item
            for item in raw.get("nlu") or []
            if isinstance(item, dict)
            and item.get("intent") == intent
            and isinstance(item.get("examples"), str)
        ),
        None,
    )
    if block is not None:
        indent = editor.block_indent(block, "examples")
        if indent is None:
            _, _, column = editor._locate(block, "examples")
            indent = column + 2
        editor.append_to_block(block, "examples", [" " * indent + "- " + text])
    else:
        column = next(
            (
                len(line) - len(line.lstrip(" "))
                for line in editor.lines
                if line.lstrip().startswith("- intent:")
            ),
            0,
        )
        pad = " " * column
        editor.append_at_end([f"{pad}- intent: {intent}", f"{pad}  examples: |", f"{pad}    - {text}"])
    after = editor.text()
    _verify_example(target, after, intent, text, raw)
    change = ContentChange(paths, f"added {text!r} as an example of {intent} in {paths.show(target)}")
    change.set(target, after)
    return Relabel(change, target, text, intent)


def _examples_of(raw) -> List[Tuple[str, str]]:
    out = []
    for item in (raw.get("nlu") or []) if isinstance(raw, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("examples"), str):
            out += [
                (str(item.get("intent")), line.strip()[2:].strip())
                for line in item["examples"].splitlines()
                if line.strip().startswith("- ")
            ]
    return out


def _verify_example(path: Path, after: str, intent: str, text: str, raw_before) -> None:
    """The new file must read as the old one plus exactly this example (else nothing is written)."""
    try:
        parsed = yaml.safe_load(after)
    except yaml.YAMLError as err:  # the editor's job is to make this impossible
        raise RuntimeError(f"{path}: the edit would not parse: {err}") from err
    before = _examples_of(raw_before)
    if (
        Counter(_examples_of(parsed)) - Counter(before) != Counter({(intent, text): 1})
        or len(_examples_of(parsed)) != len(before) + 1
    ):
        raise RuntimeError(f"{path}: the edit does not read back as one added example of {intent}")


def _plan_corpus(paths: ContentPaths, text: str, form: str, label: str, choice: str) -> Relabel:
    target = paths.root / STAFF_CORPUS
    line = (
        "  - {"
        + ", ".join(
            [
                f"text: {json.dumps(text, ensure_ascii=False)}",
                f"lang: {form}",
                f"label: {label}",
                f"concept: {STAFF_CONCEPT}",
            ]
        )
        + "}"
    )
    key = normalise_for_matching(text)
    before_items: List[dict] = []
    for path in sorted(target.parent.glob("*.yml")):
        try:
            raw = read_yaml(path) or {}
        except (yaml.YAMLError, OSError):
            continue
        for m in raw.get("messages") or [] if isinstance(raw, dict) else []:
            if isinstance(m, dict) and normalise_for_matching(str(m.get("text", ""))) == key:
                raise ChangeRefused(
                    [
                        f"already in the safety corpus ({paths.show(path)}, label "
                        f"{m.get('label')}); nothing to add"
                    ]
                )
            if path == target and isinstance(m, dict):
                before_items.append(m)
    if target.exists():
        try:
            raw, _ = load_yaml_with_lines(target)
        except YamlFileError as err:
            raise ChangeRefused([f"{paths.show(target)}:{err.line}: {err.message}; fix it first"]) from err
        editor = YamlEditor(target)
        if isinstance(raw, dict) and raw.get("messages"):
            editor.append_to_block(raw, "messages", [line])
            after = editor.text()
        else:  # `messages:` empty or missing: write the list afresh under the file's comments
            kept = [entry for entry in editor.lines if entry.startswith("#")]
            after = "\n".join(kept or CORPUS_HEADER.splitlines()[:-1]) + "\nmessages:\n" + line + "\n"
    else:
        after = CORPUS_HEADER + line + "\n"
    parsed = yaml.safe_load(after) or {}
    expected = before_items + [{"text": text, "lang": form, "label": label, "concept": STAFF_CONCEPT}]
    if parsed.get("messages") != expected:
        raise RuntimeError(f"{target}: the edit does not read back as one added message")
    change = ContentChange(paths, f"added {text!r} to the safety corpus as {label} ({paths.show(target)})")
    change.set(target, after)
    return Relabel(change, target, text, choice)
