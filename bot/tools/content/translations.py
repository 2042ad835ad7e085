"""The translators' round trip: answer texts out to gettext PO files and back.

`make translations-export` writes `locales/<lang>/answers.po` for Arabic and Urdu
(and the template `locales/answers.pot`): one entry per answer text and per button
title, `msgctxt` the answer id (`<id>#title` for the title), `msgid` the English,
`msgstr` the current translation. Poedit, Weblate and Crowdin all read these files.
An entry whose English changed since it was translated is marked fuzzy, so the
translator sees exactly what to look at.

`make translations-import` reads a file back: it refuses the whole file when an entry
does not match the store (an unknown id, English that is not the store's current
English, a file of another language) or when the result would not pass the store's
checks; otherwise it writes the changed texts into data/answers/*.yml, touching only
those lines, records which English each translation was made from, and reports what
changed. Fuzzy and empty entries are left alone.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po

from bot import LANGUAGE_NAMES, LANGUAGES
from bot.core._yaml import YamlFileError
from bot.core.answer_store import PLACEHOLDERS
from bot.core.files import write_text_atomically
from bot.core.problems import Problem
from bot.tools.content import tracking
from bot.tools.content._fastyaml import load as load_yaml
from bot.tools.content.answer_rules import check_answers, raw_entries
from bot.tools.content.paths import ContentPaths
from bot.tools.content.store_rules import load_store
from bot.tools.content.yaml_edit import CannotEdit, YamlEditor

TITLE_SUFFIX = "#title"
PROJECT = "Mesotherapy clinic bot answers"
HEADER = """Answers of the mesotherapy clinic bot, {name}.
One entry per answer text (msgctxt: the answer id) and per
button title (msgctxt: <answer id>#title).
Translate msgid into msgstr. Keep {{placeholders}} exactly as
they are. An entry marked fuzzy: the English changed since the
last translation; check it, then remove the fuzzy mark.
Written by make translations-export; send it back to the
clinic for make translations-import."""


class ImportRefused(ValueError):
    """A translations file that does not match the answer store; nothing was written."""

    def __init__(self, problems: List[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class _Unit:
    """One translatable text: an answer's text or title."""

    answer_id: str
    field: str  # title | text
    path: Path
    raw: dict

    @property
    def context(self) -> str:
        return self.answer_id + (TITLE_SUFFIX if self.field == "title" else "")

    def value(self, lang: str) -> str:
        texts = self.raw.get(self.field)
        return str(texts.get(lang) or "").strip() if isinstance(texts, dict) else ""

    def line(self, lang: str) -> int:
        texts = self.raw.get(self.field)
        return getattr(texts, "key_lines", {}).get(lang, getattr(self.raw, "line", 1))


def _units(paths: ContentPaths) -> Dict[str, _Unit]:
    units: Dict[str, _Unit] = {}
    for path, raw in raw_entries(paths.answers):
        for name in ("text", "title"):  # the text first: it is what the translator reads first
            unit = _Unit(str(raw["id"]), name, path, raw)
            units.setdefault(unit.context, unit)
    return units


def _is_stale(unit: _Unit, lang: str) -> bool:
    recorded = tracking.read_record(unit.raw).get(lang, {}).get(unit.field)
    return recorded is not None and recorded != tracking.fingerprint(unit.value("en"))


def _catalog(units: Dict[str, _Unit], lang: Optional[str], paths: ContentPaths) -> Catalog:
    name = LANGUAGE_NAMES.get(lang, "template")
    catalog = Catalog(
        locale=lang,
        domain="answers",
        project=PROJECT,
        version=dt.date.today().isoformat(),
        header_comment="\n".join("# " + line for line in HEADER.format(name=name).splitlines()),
        fuzzy=False,
        charset="utf-8",
        language_team=f"{name} translators" if lang else None,
    )
    for unit in units.values():
        english = unit.value("en")
        comments = []
        if unit.field == "title":
            comments.append("A button label: 20 characters at most.")
        found = [p for p in PLACEHOLDERS if "{%s}" % p in english]
        for placeholder in found:
            comments.append(
                f"Keep {{{placeholder}}} unchanged: the bot puts " f"{PLACEHOLDERS[placeholder]} there."
            )
        flags = ["python-brace-format"] if found else []
        translation = unit.value(lang) if lang else ""
        user_comments = []
        if lang and _is_stale(unit, lang):
            flags.append("fuzzy")
            user_comments.append("The English changed after this was translated: update the translation.")
        catalog.add(
            english,
            string=translation,
            context=unit.context,
            flags=flags,
            auto_comments=comments,
            user_comments=user_comments,
            locations=[(paths.show(unit.path), unit.line("en"))],
        )
    return catalog


_DATED_HEADERS = ('"POT-Creation-Date:', '"PO-Revision-Date:', '"Project-Id-Version:')


def _without_dates(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith(_DATED_HEADERS))


def _write_catalog(catalog: Catalog, target: Path) -> None:
    """Write `catalog`; a file that would differ only in its dates is left alone (no noise in diffs)."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76, include_lineno=True)
    text = buffer.getvalue().decode("utf-8")
    if target.exists() and _without_dates(target.read_text(encoding="utf-8")) == _without_dates(text):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(target, text)


def _read_po(path: Path, lang: str) -> Catalog:
    try:
        with path.open("rb") as f:
            return read_po(f, abort_invalid=True)
    except PoFileError as err:  # its lineno counts from 0
        raise ImportRefused(
            [
                Problem(
                    path,
                    (getattr(err, "lineno", 0) or 0) + 1,
                    f"not a readable PO file ({err}); open it in Poedit and save it again, "
                    "or export again",
                )
            ]
        ) from err
    except (ValueError, IndexError, KeyError, UnicodeDecodeError) as err:
        raise ImportRefused(
            [
                Problem(
                    path,
                    1,
                    f"not a readable PO file ({type(err).__name__}: {err}); "
                    "open it in Poedit and save it again, or export again",
                )
            ]
        ) from err


def unimported(path: Path, lang: str, units: Dict[str, _Unit]) -> List[str]:
    """Contexts whose (confirmed) translation in `path` is not yet in the store."""
    if not path.exists():
        return []
    try:
        catalog = _read_po(path, lang)
    except ImportRefused:
        return []
    out = []
    for message in catalog:
        unit = units.get(message.context or "")
        if (
            unit
            and message.id == unit.value("en")
            and message.string
            and not message.fuzzy
            and message.string.strip() != unit.value(lang)
        ):
            out.append(unit.context)
    return out


def export(paths: ContentPaths = None, languages=tracking.TRANSLATED, force: bool = False) -> List[Path]:
    """Write the PO files; refuses to overwrite translations not imported yet (unless `force`)."""
    paths = paths or ContentPaths.project()
    unreadable = []  # a file that cannot be read would be left out of the translators' files
    for path in sorted(paths.answers.glob("*.yml")):
        try:
            load_yaml(path)
        except YamlFileError as err:
            unreadable.append(Problem(path, err.line, f"{err.message}; fix it first (make validate)"))
    if unreadable:
        raise ImportRefused(unreadable)
    units = _units(paths)
    for lang in languages:
        waiting = unimported(paths.answers_po(lang), lang, units)
        if waiting and not force:
            shown = ", ".join(waiting[:5]) + (" ..." if len(waiting) > 5 else "")
            raise ImportRefused(
                [
                    Problem(
                        paths.answers_po(lang),
                        1,
                        f"{len(waiting)} translation(s) in this file are not in the answer "
                        f"store yet ({shown}); import it first (make translations-import), "
                        "or export with FORCE=1 to discard them",
                    )
                ]
            )
    written = []
    template = _catalog(units, None, paths)
    _write_catalog(template, paths.answers_pot)
    written.append(paths.answers_pot)
    for lang in languages:
        _write_catalog(_catalog(units, lang, paths), paths.answers_po(lang))
        written.append(paths.answers_po(lang))
    return written


def export_summary(paths: ContentPaths, lang: str) -> Tuple[int, int, int]:
    """(entries, fuzzy, untranslated) of a written PO file."""
    catalog = _read_po(paths.answers_po(lang), lang)
    messages = [m for m in catalog if m.id]
    return len(messages), sum(m.fuzzy for m in messages), sum(not m.string for m in messages)


@dataclass
class ImportReport:
    lang: str
    source: Path
    changed: List[Tuple[str, str, str]] = field(default_factory=list)  # (context, before, after)
    confirmed: List[str] = field(default_factory=list)  # same text, now recorded as up to date
    fuzzy: List[str] = field(default_factory=list)
    untranslated: List[str] = field(default_factory=list)
    files: List[Path] = field(default_factory=list)

    def lines(self) -> List[str]:
        out = [f"{self.source} -> data/answers ({LANGUAGE_NAMES.get(self.lang, self.lang)})"]
        for context, before, after in self.changed:
            out += [f"  changed  {context}", f"     was: {_short(before)}", f"     now: {_short(after)}"]
        out.append(f"  {len(self.changed)} changed, {len(self.confirmed)} unchanged and confirmed up to date")
        if self.fuzzy:
            out.append(
                f"  {len(self.fuzzy)} left as they were, still marked fuzzy (the translator has not "
                f"confirmed them): {', '.join(self.fuzzy)}"
            )
        if self.untranslated:
            out.append(
                f"  {len(self.untranslated)} left as they were, not translated in the file: "
                f"{', '.join(self.untranslated)}"
            )
        if self.files:
            out.append("  wrote " + ", ".join(str(f) for f in self.files))
        return out


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_matches(catalog: Catalog, source: Path, lang: str, units: Dict[str, _Unit]) -> List[Problem]:
    problems = []
    file_lang = str(catalog.locale) if catalog.locale else None
    if file_lang and file_lang.split("_")[0] != lang:
        problems.append(
            Problem(
                source,
                1,
                f"this file is in '{file_lang}' (its Language header), not "
                f"'{lang}'; import it as that language",
            )
        )
    for message in catalog:
        if not message.id:
            continue
        line = message.lineno or 1
        unit = units.get(message.context or "")
        if message.pluralizable:
            problems.append(
                Problem(source, line, "plural forms are not used by the answer store; " "export again")
            )
        elif unit is None:
            problems.append(
                Problem(
                    source,
                    line,
                    f"msgctxt {message.context!r} is not an answer in the "
                    "store (renamed or deleted since the export?); export again and "
                    "re-translate it",
                )
            )
        elif message.id != unit.value("en"):
            problems.append(
                Problem(
                    source,
                    line,
                    f"the English of {unit.context} in this file is not the "
                    "store's current English (it changed after the export, or was edited in "
                    "the file); export again: the translation is kept and marked fuzzy",
                )
            )
    return problems


def import_file(source: Path, lang: str, paths: ContentPaths = None, dry_run: bool = False) -> ImportReport:
    """Read one translations file into the answer store. Raises `ImportRefused`, writing nothing."""
    paths = paths or ContentPaths.project()
    source = Path(source)
    if lang not in tracking.TRANSLATED:
        raise ValueError(f"translations are imported for {', '.join(tracking.TRANSLATED)}, not {lang!r}")
    units = _units(paths)
    catalog = _read_po(source, lang)
    problems = _check_matches(catalog, source, lang, units)
    if problems:
        raise ImportRefused(problems)
    report = ImportReport(lang, Path(paths.show(source)))
    new_values: Dict[str, str] = {}
    confirmed_fields: Dict[str, List[str]] = {}  # answer id -> fields recorded as up to date
    for message in catalog:
        if not message.id:
            continue
        unit = units[message.context]
        if message.fuzzy:
            report.fuzzy.append(unit.context)
            continue
        if not message.string.strip():
            report.untranslated.append(unit.context)
            continue
        after = message.string.strip()
        if after != unit.value(lang):
            report.changed.append((unit.context, unit.value(lang), after))
            new_values[unit.context] = after
        else:
            report.confirmed.append(unit.context)
        confirmed_fields.setdefault(unit.answer_id, []).append(unit.field)
    editors = _plan_edits(paths, lang, units, new_values, confirmed_fields, source, catalog)
    _refuse_if_invalid(paths, editors, source, catalog)
    if not dry_run:
        for editor in editors.values():
            editor.save()
            report.files.append(Path(paths.show(editor.path)))
    return report


def _plan_edits(
    paths: ContentPaths,
    lang: str,
    units: Dict[str, _Unit],
    new_values: Dict[str, str],
    confirmed_fields: Dict[str, List[str]],
    source: Path,
    catalog: Catalog,
) -> Dict[Path, YamlEditor]:
    editors: Dict[Path, YamlEditor] = {}
    problems = []
    for answer_id, fields in confirmed_fields.items():
        text_unit = units[answer_id]
        editor = editors.setdefault(text_unit.path, YamlEditor(text_unit.path))
        try:
            for name in tracking.FIELDS:
                unit = units[answer_id + (TITLE_SUFFIX if name == "title" else "")]
                if unit.context in new_values:
                    editor.set_text(
                        unit.raw[name], lang, new_values[unit.context], block=name == "text", order=LANGUAGES
                    )
            record = tracking.read_record(text_unit.raw)
            record.setdefault(lang, {})
            for name in fields:
                english = units[answer_id + (TITLE_SUFFIX if name == "title" else "")].value("en")
                record[lang][name] = tracking.fingerprint(english)
            if record != tracking.read_record(text_unit.raw) or tracking.KEY not in text_unit.raw:
                editor.set_lines(text_unit.raw, tracking.KEY, _record_lines(record), after="text")
        except CannotEdit as err:
            problems.append(Problem(err.path, err.line, f"entry '{answer_id}': {err.message}"))
    if problems:
        raise ImportRefused(problems)
    return {path: editor for path, editor in editors.items() if editor.changed}


def _record_lines(record: Dict[str, Dict[str, str]]) -> List[str]:
    lines = []
    for lang in tracking.TRANSLATED:
        if record.get(lang):
            fields = ", ".join(
                f'{name}: "{record[lang][name]}"' for name in tracking.FIELDS if name in record[lang]
            )
            lines.append(f"  {lang}: {{{fields}}}")
    return lines


def _refuse_if_invalid(
    paths: ContentPaths, editors: Dict[Path, YamlEditor], source: Path, catalog: Catalog
) -> None:
    """Check the store as it would be after the import, on a copy; refuse new errors."""
    if not editors:
        return
    before = _error_messages(paths)
    with tempfile.TemporaryDirectory(prefix="translations-import-") as tmp:
        copy = ContentPaths(Path(tmp))
        shutil.copytree(paths.answers, copy.answers)
        shutil.copytree(paths.locales, copy.locales, ignore=shutil.ignore_patterns("*.po~", "answers.po*"))
        for path, editor in editors.items():
            editor.save(copy.answers / path.relative_to(paths.answers))
        after = _error_messages(copy)
    lines = {m.context: m.lineno or 1 for m in catalog if m.id}
    new = [message for message in after if message not in before]
    if new:
        problems = []
        for message in new:
            answer_id = message.split("'")[1] if message.startswith("entry '") else ""
            is_title = "title" in message and answer_id + TITLE_SUFFIX in lines
            context = answer_id + (TITLE_SUFFIX if is_title else "")
            problems.append(Problem(source, lines.get(context, 1), f"after this import: {message}"))
        raise ImportRefused(problems)


def _error_messages(paths: ContentPaths) -> List[str]:
    store, problems = load_store(paths.answers)
    problems += check_answers(paths, store)
    return [p.message for p in problems if p.severity == "error"]
