"""The translators' round trip: answer texts out to PO files and back, byte for byte."""

import difflib
import io

import pytest
from babel.messages.pofile import read_po, write_po

from bot.core.answer_store import AnswerStore
from bot.tools.content import translations
from bot.tools.content.translations import ImportRefused, export, import_file
from bot.tools.content.validate import check_all
from tests.bot.tools.content.conftest import edit

# Texts that a YAML or PO writer could easily damage: diacritics, joiners and direction
# marks, Arabic-Indic digits, quotes, YAML and PO specials, paragraphs, leading dashes.
TRICKY = {
    "procedure.pain": ("ar", "هَلْ العِلاجُ مُؤلِمٌ؟ «نعم» – أحيانًا: ١٢٣ \"اقتباس\" و'آخر' \\ # ليس تعليقًا"),
    "procedure.pain#title": ("ar", "ألم: نعم؟"),
    "procedure.sessions": (
        "ur",
        "کیا یہ\u200c محفوظ ہے؟ \u200fہاں۔\n\nدوسرا پیراگراف: - نہیں\n  تین جگہ سے شروع",
    ),
    "procedure.sessions#title": ("ur", "- سیشن: کتنے؟"),
    "about.what_is": ("ar", "- يبدأ بشرطة: وفيه {{أقواس}} مزدوجة؟"),
    "safety.urgent": ("ur", "فوری مدد: {emergency}۔   تین خالی جگہیں، اور ٹیب\tکے ساتھ"),
}


def _snapshot(project):
    return {p.name: p.read_bytes() for p in sorted(project.answers.glob("*.yml"))}


def _translate(po_path, changes, unfuzzy=()):
    """What a translation tool does: new msgstr for some entries, fuzzy marks removed."""
    with po_path.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if message.context in changes:
            message.string = changes[message.context]
        if message.context in unfuzzy:
            message.flags.discard("fuzzy")
    buffer = io.BytesIO()
    write_po(buffer, catalog)
    po_path.write_bytes(buffer.getvalue())


def _po_messages(po_path):
    with po_path.open("rb") as f:
        return {m.context: m for m in read_po(f) if m.id}


def test_export_writes_one_entry_per_text_and_title_with_the_answer_id_as_context(project):
    written = export(project)
    assert project.answers_pot in written
    store = AnswerStore.load(project.answers)
    for lang in ("ar", "ur"):
        messages = _po_messages(project.answers_po(lang))
        assert set(messages) == {a.id for a in store.answers.values()} | {
            a.id + "#title" for a in store.answers.values()
        }
        pain = messages["procedure.pain"]
        assert pain.id == store.get("procedure.pain").text["en"]
        assert pain.string == store.get("procedure.pain").text[lang]
        assert not pain.fuzzy
        assert "python-brace-format" in messages["safety.urgent"].flags


def test_an_unchanged_round_trip_changes_no_byte(project):
    before = _snapshot(project)
    export(project)
    for lang in ("ar", "ur"):
        report = import_file(project.answers_po(lang), lang, project)
        assert report.changed == [] and report.files == []
    assert _snapshot(project) == before


def test_translations_come_back_byte_for_byte(project):
    store_before = AnswerStore.load(project.answers)
    export(project)
    for lang in ("ar", "ur"):
        changes = {ctx: text for ctx, (written_in, text) in TRICKY.items() if written_in == lang}
        _translate(project.answers_po(lang), changes)
        report = import_file(project.answers_po(lang), lang, project)
        assert sorted(c for c, _, _ in report.changed) == sorted(changes)
    store = AnswerStore.load(project.answers)
    for context, (lang, text) in TRICKY.items():
        answer_id, _, title = context.partition("#")
        got = store.get(answer_id).title[lang] if title else store.get(answer_id).text[lang]
        assert got == text, context
    # everything else is exactly as it was
    for answer in store.answers.values():
        for lang in ("en", "ar", "ur"):
            for field in ("title", "text"):
                context = answer.id + ("#title" if field == "title" else "")
                if TRICKY.get(context, ("",))[0] != lang:
                    assert getattr(answer, field)[lang] == getattr(store_before.get(answer.id), field)[lang]
    # and they go out again unchanged
    export(project)
    for context, (lang, text) in TRICKY.items():
        assert _po_messages(project.answers_po(lang))[context].string == text


def test_an_import_rewrites_only_the_lines_of_what_changed(project):
    path = project.answers / "procedure.yml"
    before = path.read_text(encoding="utf-8").splitlines()
    export(project)
    _translate(project.answers_po("ar"), {"procedure.pain": TRICKY["procedure.pain"][1]})
    import_file(project.answers_po("ar"), "ar", project)
    after = path.read_text(encoding="utf-8").splitlines()
    changed = [op for op in difflib.SequenceMatcher(a=before, b=after).get_opcodes() if op[0] != "equal"]
    assert len(changed) == 1, changed
    _, start, end, new_start, new_end = changed[0]
    ar_line = before.index("      ar: >-", before.index("  - id: procedure.pain"))
    assert ar_line < start and all(line.startswith("      ") for line in before[ar_line + 1 : end])
    assert all(line.startswith("        ") for line in before[start:end] + after[new_start:new_end])
    assert before[:3] == after[:3]  # the file's comments


def test_an_english_edit_is_out_of_date_then_fuzzy_then_updated(project):
    path = project.answers / "procedure.yml"
    edit(path, "said to be practically painless.", "said to be almost painless.")
    problems = check_all(project, rasa=False)
    stale = [p for p in problems if "translation out of date" in p.message]
    assert [str(p).split(": ", 1)[1] for p in stale] == [
        "warning: entry 'procedure.pain': translation out of date: the English text changed after the ar and "
        "ur translations were made; send it to the translators (make translations-export) and import their "
        "file (make translations-import)"
    ]
    assert stale[0].path == path
    assert [
        p
        for p in check_all(project, strict=True, rasa=False)
        if "translation out of date" in p.message and p.severity == "error"
    ]

    export(project)
    messages = _po_messages(project.answers_po("ar"))
    assert messages["procedure.pain"].fuzzy and not messages["procedure.pain#title"].fuzzy
    assert sum(m.fuzzy for m in messages.values()) == 1
    assert messages["procedure.pain"].id.count("almost painless") == 1

    report = import_file(project.answers_po("ar"), "ar", project)  # sent back unreviewed: stays fuzzy
    assert report.fuzzy == ["procedure.pain"]
    assert any("translation out of date" in p.message for p in check_all(project, rasa=False))

    for lang, text in (("ar", "نص عربي محدَّث: الإحساس يكاد يكون غير مؤلم."), ("ur", "اپ ڈیٹ شدہ اردو متن۔")):
        _translate(project.answers_po(lang), {"procedure.pain": text}, unfuzzy={"procedure.pain"})
        report = import_file(project.answers_po(lang), lang, project)
        assert [c for c, _, _ in report.changed] == ["procedure.pain"]
        assert AnswerStore.load(project.answers).get("procedure.pain").text[lang] == text
    assert not [p for p in check_all(project, rasa=False) if "translation out of date" in p.message]


def _refused(project, source, lang):
    before = _snapshot(project)
    with pytest.raises(ImportRefused) as err:
        import_file(source, lang, project)
    assert _snapshot(project) == before, "a refused import wrote to data/answers"
    return "\n".join(str(p) for p in err.value.problems)


def test_a_file_with_an_unknown_answer_id_is_refused(project):
    export(project)
    po = project.answers_po("ar")
    edit(po, 'msgctxt "procedure.pain"', 'msgctxt "procedure.painful"')
    assert "msgctxt 'procedure.painful' is not an answer in the store" in _refused(project, po, "ar")


def test_a_file_made_from_older_english_is_refused(project):
    export(project)
    _translate(project.answers_po("ar"), {"procedure.pain": "ترجمة جديدة"})
    edit(project.answers / "procedure.yml", "said to be practically painless.", "said to be almost painless.")
    message = _refused(project, project.answers_po("ar"), "ar")
    assert "the English of procedure.pain in this file is not the store's current English" in message
    assert "export again" in message


def test_a_file_of_another_language_is_refused(project):
    export(project)
    assert "this file is in 'ar' (its Language header), not 'ur'" in _refused(
        project, project.answers_po("ar"), "ur"
    )


def test_a_translation_that_drops_a_placeholder_is_refused(project):
    export(project)
    _translate(project.answers_po("ar"), {"safety.urgent": "اتصل بالطوارئ فورًا."})
    message = _refused(project, project.answers_po("ar"), "ar")
    assert "after this import: entry 'safety.urgent': placeholders differ between languages" in message


def test_a_title_too_long_for_a_button_is_refused(project):
    export(project)
    title = "کیا اس علاج میں بہت زیادہ درد ہوتا ہے؟"
    _translate(project.answers_po("ur"), {"procedure.pain#title": title})
    message = _refused(project, project.answers_po("ur"), "ur")
    assert (
        f"after this import: entry 'procedure.pain': the ur title counts {len(title)} characters on WhatsApp"
        in message
    )


def test_a_broken_po_file_is_refused_with_its_line(project):
    export(project)
    po = project.answers_po("ar")
    edit(po, 'msgctxt "procedure.pain"\n', 'msgctxt "procedure.pain"\nthis line is not PO\n')
    line = po.read_text(encoding="utf-8").splitlines().index("this line is not PO") + 1
    assert f"answers.po:{line}: not a readable PO file" in _refused(project, po, "ar")


def test_export_refuses_to_overwrite_translations_not_imported_yet(project):
    export(project)
    _translate(project.answers_po("ar"), {"procedure.pain#title": "يؤلم؟"})
    with pytest.raises(ImportRefused) as err:
        export(project)
    assert "1 translation(s) in this file are not in the answer store yet (procedure.pain#title)" in str(
        err.value
    )
    assert _po_messages(project.answers_po("ar"))["procedure.pain#title"].string == "يؤلم؟"
    export(project, force=True)
    assert _po_messages(project.answers_po("ar"))["procedure.pain#title"].string == "هل هو مؤلم؟"


def test_a_dry_run_reports_and_writes_nothing(project):
    before = _snapshot(project)
    export(project)
    _translate(project.answers_po("ar"), {"procedure.pain#title": "يؤلم؟"})
    report = import_file(project.answers_po("ar"), "ar", project, dry_run=True)
    assert [c for c, _, _ in report.changed] == ["procedure.pain#title"]
    assert "changed  procedure.pain#title" in "\n".join(report.lines())
    assert _snapshot(project) == before


def test_an_entry_without_a_record_gets_one_on_import(project):
    path = project.answers / "procedure.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    translated_from:", text.index("id: procedure.pain"))
    end = text.index("\n", text.index("      ur: {", start)) + 1
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert any(
        "'procedure.pain': the ar and ur texts have no translation record" in p.message
        for p in check_all(project, rasa=False)
    )
    export(project)
    for lang in ("ar", "ur"):
        import_file(project.answers_po(lang), lang, project)
    assert path.read_text(encoding="utf-8") == text  # the same record, at the same place
    assert translations.TITLE_SUFFIX == "#title"


def test_a_new_english_only_answer_goes_out_and_comes_back_translated(project):
    edit(
        project.answers / "ids.yml",
        "  booking.cost:",
        "  booking.aftercare: aftercare after a session\n  booking.cost:",
    )
    path = project.answers / "booking.yml"
    path.write_text(
        path.read_text(encoding="utf-8").rstrip("\n")
        + """

  - id: booking.aftercare
    kind: answer
    intents: []
    medical: true
    source: general guidance
    review:
      status: pending
      reviewer: ""
      date: 2026-11-20
    related: [booking.consultation]
    title:
      en: Aftercare
    text:
      en: >-
        Keep the area clean, avoid make-up for a day and follow your clinician's advice.
""",
        encoding="utf-8",
    )
    assert any("'text' has no ar text" in p.message for p in check_all(project, rasa=False))
    export(project)
    messages = _po_messages(project.answers_po("ar"))
    assert messages["booking.aftercare"].string == "" and messages["booking.aftercare#title"].string == ""
    translated = {
        "ar": ("العناية بعد الجلسة", "حافظ على نظافة المنطقة، وتجنّب المكياج ليوم واحد، واتبع نصيحة الطبيب."),
        "ur": (
            "بعد کی دیکھ بھال",
            "جگہ صاف رکھیں، ایک دن میک اپ نہ لگائیں اور اپنے ڈاکٹر کی ہدایت پر عمل کریں۔",
        ),
    }
    for lang, (title, text) in translated.items():
        _translate(project.answers_po(lang), {"booking.aftercare#title": title, "booking.aftercare": text})
        import_file(project.answers_po(lang), lang, project)
    answer = AnswerStore.load(project.answers).get("booking.aftercare")
    for lang, (title, text) in translated.items():
        assert answer.title[lang] == title and answer.text[lang] == text
    assert not [
        p for p in check_all(project, rasa=False) if "aftercare" in p.message and p.severity == "error"
    ]
