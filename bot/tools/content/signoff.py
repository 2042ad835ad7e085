"""Setting an answer's `review:` block: a clinician's sign-off, a content check, or back to pending.

The schema is `bot.core.answer_store.Review`; this module only writes it, through the
project's YAML editor (bot/tools/content/yaml_edit.py), so the file keeps its comments, its
order and every other line. A block the loader would refuse (an approval without a
role or registration) is refused here before anything is written, and what was
written is read back and compared.

    approve("procedure.pain", "Dr Amina Rahman", "aesthetic physician", "GMC 7654321")
    mark_content_checked("chitchat.greet", "Sara (content team)")
    mark_pending("procedure.pain")

`python -m bot sign-off` (and `make sign-off`) call these for content staff; a staff web
page can call them directly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import List, Optional, Tuple

from bot.core._yaml import YamlFileError, load_yaml_with_lines
from bot.core.answer_store import (
    ANSWERS_DIR,
    APPROVED,
    CONTENT_CHECKED,
    IDS_FILE,
    PENDING,
    REGIONS_FILE,
    Review,
)
from bot.tools.content.yaml_edit import YamlEditor, render


class SignOffRefused(ValueError):
    """The review block was not written; `problems` says why."""

    def __init__(self, answer_id: str, problems: List[str]):
        super().__init__(f"entry '{answer_id}': " + "; ".join(problems))
        self.answer_id, self.problems = answer_id, problems


def _find(answer_id: str, folder: Path) -> Tuple[Path, dict]:
    for path in sorted(Path(folder).glob("*.yml")):
        if path.name in (IDS_FILE, REGIONS_FILE):
            continue
        try:
            raw, _ = load_yaml_with_lines(path)
        except YamlFileError:
            continue
        for entry in (raw or {}).get("entries") or [] if isinstance(raw, dict) else []:
            if isinstance(entry, dict) and entry.get("id") == answer_id:
                return path, entry
    raise SignOffRefused(answer_id, [f"no entry with this id in {folder}"])


def _lines(review: Review) -> List[str]:
    """The block's lines, indented under `review:` (the date unquoted, as the files write it)."""
    out = []
    for key, value in review.as_mapping().items():
        out += [f"  {key}: {value}"] if key == "date" else render(key, value, 2, block=False)
    return out


def current_review(answer_id: str, folder: Path = ANSWERS_DIR) -> Review:
    """The review block of `answer_id` as the file holds it now."""
    _, entry = _find(answer_id, folder)
    return Review.from_raw(entry.get("review"))


def set_review(answer_id: str, review: Review, folder: Path = ANSWERS_DIR) -> Path:
    """Write `review` as the `review:` block of `answer_id`; returns the file written.

    Raises `SignOffRefused` (nothing written) when the block is invalid or the entry is missing.
    """
    problems = review.problems()
    if problems:
        raise SignOffRefused(answer_id, problems)
    path, entry = _find(answer_id, folder)
    editor = YamlEditor(path)
    editor.set_lines(entry, "review", _lines(review), after="source")
    editor.save()
    written = current_review(answer_id, folder)
    if written != review:  # the editor guarantees this; a failure here is a bug, not bad input
        raise RuntimeError(f"{path}: review of '{answer_id}' reads back as {written}, not {review}")
    return path


def _today(date: Optional[str]) -> str:
    return date or dt.date.today().isoformat()


def approve(
    answer_id: str,
    reviewer: str,
    role: str,
    registration: str,
    date: Optional[str] = None,
    folder: Path = ANSWERS_DIR,
) -> Path:
    """A clinician's sign-off: name, role ("aesthetic physician"), registration ("GMC 1234567")."""
    return set_review(
        answer_id,
        Review(APPROVED, reviewer.strip(), role.strip(), registration.strip(), _today(date)),
        folder,
    )


def mark_content_checked(
    answer_id: str, reviewer: str, date: Optional[str] = None, folder: Path = ANSWERS_DIR
) -> Path:
    """Content staff checked the text against the reference article (not a clinical sign-off)."""
    return set_review(answer_id, Review(CONTENT_CHECKED, reviewer.strip(), date=_today(date)), folder)


def mark_pending(answer_id: str, date: Optional[str] = None, folder: Path = ANSWERS_DIR) -> Path:
    """Back to pending (e.g. after the text changed); the entry keeps its date unless one is given."""
    return set_review(answer_id, Review(PENDING, date=date or current_review(answer_id, folder).date), folder)
