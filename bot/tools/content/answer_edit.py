"""Changing an answer's text from the staff workbench, with its review state kept honest.

A sign-off (or a content check) vouches for the text that was read: when an editor changes
the text of an entry that is `approved` or `content-checked`, the same change sets its
`review:` back to `pending` (bot.tools.content.signoff's schema and writer, in one atomic write
with the text), so production (`BOT_STRICT`) stops serving it until it is signed again.
"""

from __future__ import annotations

import datetime as dt
from typing import Dict

from bot import LANGUAGES
from bot.core.answer_store import PENDING, Review
from bot.tools.content.changes import ChangeRefused, ContentChange
from bot.tools.content.paths import ContentPaths
from bot.tools.content.signoff import _find, _lines
from bot.tools.content.yaml_edit import CannotEdit, YamlEditor

MAX_TEXT = 4096  # WhatsApp's limit for one message; make validate has the finer rules


def plan_text_edit(
    paths: ContentPaths, answer_id: str, texts: Dict[str, str], today: str = ""
) -> ContentChange:
    """The change that gives `answer_id` these texts (language -> text; unchanged ones are
    left alone) and, when it was checked or approved, sends it back to pending."""
    try:
        path, entry = _find(answer_id, paths.answers)
    except ValueError as err:
        raise ChangeRefused([str(err)]) from err
    current = entry.get("text") if isinstance(entry.get("text"), dict) else {}
    changed = {}
    for lang, text in texts.items():
        if lang not in LANGUAGES:
            raise ChangeRefused([f"'{lang}' is not a language the bot serves ({', '.join(LANGUAGES)})"])
        text = "\n".join(line.rstrip() for line in str(text).replace("\r\n", "\n").split("\n")).strip()
        if not text:
            raise ChangeRefused([f"the {lang} text is empty; every answer has a text in each language"])
        if len(text) > MAX_TEXT:
            raise ChangeRefused([f"the {lang} text has {len(text)} characters; at most {MAX_TEXT}"])
        if text != str(current.get(lang) or "").strip():
            changed[lang] = text
    if not changed:
        raise ChangeRefused(["the texts are the same as before; nothing to change"])
    editor = YamlEditor(path)
    try:
        for lang, text in changed.items():
            editor.set_text(entry["text"], lang, text, block=True, order=LANGUAGES)
        review = Review.from_raw(entry.get("review"))
        back_to_pending = review.status != PENDING
        if back_to_pending:
            editor.set_lines(
                entry,
                "review",
                _lines(Review(PENDING, date=today or dt.date.today().isoformat())),
                after="source",
            )
    except CannotEdit as err:
        raise ChangeRefused([str(err)]) from err
    what = f"changed the {', '.join(sorted(changed))} text of {answer_id}"
    if back_to_pending:
        what += f" (was {review.status}: back to pending, to be checked again)"
    change = ContentChange(paths, what)
    change.set(path, editor.text())
    return change
