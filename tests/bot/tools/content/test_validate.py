"""`make validate`: each rule, fed a broken copy of the content, names the file, the line and the fix."""

import re

import pytest

from bot.tools.content.paths import ContentPaths
from bot.tools.content.validate import check_all, report
from tests.bot.tools.content.conftest import edit, line_of

PAIN = "data/answers/procedure.yml"


def _check(project, strict=False):
    return check_all(project, strict=strict, rasa=False)


def _find(problems, path, fragment, severity="error", line=None):
    """The problems at `path` (and `line`) whose message contains `fragment`."""
    found = [
        p
        for p in problems
        if p.path == path
        and fragment in p.message
        and p.severity == severity
        and (line is None or p.line == line)
    ]
    assert found, f"no {severity} containing {fragment!r} at {path}:{line}; got:\n" + "\n".join(
        str(p) for p in problems
    )
    return found[0]


def test_the_real_content_has_no_errors():
    problems = check_all(ContentPaths.project(), rasa=False)
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_problems_print_as_file_line_message(project):
    edit(
        project.answers / "procedure.yml",
        "      date: 2026-11-20\n    related: [procedure.downtime, procedure.sessions]",
        "      date: 2026-02-30\n    related: [procedure.downtime, procedure.sessions]",
    )
    problem = _find(_check(project), project.answers / "procedure.yml", "is not a real date")
    assert re.fullmatch(
        r".+procedure\.yml:\d+: entry 'procedure\.pain': review date 2026-02-30 is not a real "
        r"date; write the day of the review as YYYY-MM-DD",
        str(problem),
    )


def test_exit_status_is_zero_with_warnings_only_and_one_with_an_error(project, capsys):
    problems = _check(project)
    assert any(p.severity == "warning" for p in problems)  # entries pending clinical review
    assert report(problems) == 0
    edit(
        project.answers / "procedure.yml",
        "      en: Does it hurt?",
        "      en: Does it hurt? Really, tell me",
    )
    assert report(_check(project)) == 1
    assert "1 error(s)" in capsys.readouterr().out


# ---- YAML syntax ------------------------------------------------------------------------
def test_a_yaml_syntax_error_in_an_nlu_file_gives_its_line(project):
    path = project.nlu / "en" / "intents.yml"
    edit(path, "- intent: ask_pain\n", "- intent: ask_pain: does it hurt\n")  # a second colon
    problem = _find(
        _check(project),
        path,
        "YAML syntax: mapping values are not allowed",
        line=line_of(path, "ask_pain: does it hurt"),
    )
    assert "check the indentation and the quotes on this line" in problem.message


def test_a_duplicate_key_is_reported(project):
    path = project.answers / "procedure.yml"
    edit(
        path,
        "    kind: answer\n    intents: [ask_pain]",
        "    kind: answer\n    kind: answer\n    intents: [ask_pain]",
    )
    _find(_check(project), path, "duplicate key 'kind'")


# ---- the answer store ---------------------------------------------------------------------
def test_a_missing_language_is_an_error(project):
    path = project.answers / "procedure.yml"
    edit(path, "      ur: کیا درد ہوتا ہے؟\n", "")
    _find(_check(project), path, "'title' has no ur text")


def test_an_english_text_left_in_the_arabic_slot_is_an_error(project):
    path = project.answers / "procedure.yml"
    edit(path, "      ar: هل هو مؤلم؟", "      ar: Does it hurt?")
    _find(
        _check(project),
        path,
        "the ar title is the English title; write it in Arabic",
        line=line_of(path, "      ar: Does it hurt?"),
    )


def test_an_untranslated_latin_text_is_an_error(project):
    path = project.answers / "procedure.yml"
    edit(path, "      ur: کیا درد ہوتا ہے؟", "      ur: TODO translate")
    _find(_check(project), path, "the ur title has no Arabic-script letters")


def test_placeholders_must_match_across_languages(project):
    edit(project.answers / "safety.yml", "{emergency}۔", "۔")
    _find(_check(project), project.answers / "safety.yml", "placeholders differ between languages")


def test_a_link_in_one_language_only_is_an_error(project):
    path = project.answers / "procedure.yml"
    edit(
        path,
        "areas, so let your practitioner know",
        "areas (see https://clinic.example/pain), so let your practitioner know",
    )
    problem = _find(
        _check(project), path, "links, e-mail addresses or phone numbers differ between languages"
    )
    assert "en: https://clinic.example/pain" in problem.message and "ar: none" in problem.message


def test_a_phone_number_must_be_the_same_in_every_language(project):
    path = project.answers / "conversation.yml"
    edit(
        path,
        "a member of the clinic's staff can help you.",
        "a member of the clinic's staff can help you on +44 20 7946 0000.",
    )
    _find(_check(project), path, "phone numbers differ between languages")


def test_an_approval_without_the_clinicians_registration_is_an_error(project):
    path = project.answers / "procedure.yml"
    edit(
        path,
        "      status: content-checked\n      reviewer: Content team (checked against the reference article)\n"
        "      date: 2026-11-20\n    related: [procedure.downtime, procedure.sessions]",
        "      status: approved\n      reviewer: Dr A. Rahman\n      role: aesthetic physician\n"
        "      date: 2026-11-20\n    related: [procedure.downtime, procedure.sessions]",
    )
    _find(_check(project), path, "an approved entry gives the reviewer's professional registration")


def test_a_review_date_in_the_future_is_a_warning(project):
    path = project.answers / "procedure.yml"
    edit(
        path,
        "      date: 2026-11-20\n    related: [procedure.downtime, procedure.sessions]",
        "      date: 2999-01-01\n    related: [procedure.downtime, procedure.sessions]",
    )
    _find(_check(project), path, "review date 2999-01-01 is in the future", "warning")


def test_a_pending_entry_is_a_warning_and_strict_makes_it_an_error(project):
    _find(
        _check(project),
        project.answers / "procedure.yml",
        "entry 'procedure.how_it_is_done' is pending clinical review (status: pending)",
        "warning",
    )
    _find(
        _check(project, strict=True),
        project.answers / "procedure.yml",
        "entry 'procedure.how_it_is_done' is medical and its review status is pending",
        "error",
    )


def test_strict_refuses_a_content_checked_medical_entry_but_not_a_content_checked_greeting(project):
    strict = _check(project, strict=True)
    _find(
        strict,
        project.answers / "procedure.yml",
        "entry 'procedure.pain' is medical and its review status is content-checked",
        "error",
    )
    assert not [p for p in strict if "'chitchat.greet'" in p.message]


def test_a_misspelt_key_is_a_warning(project):
    path = project.answers / "procedure.yml"
    edit(
        path,
        "    related: [procedure.downtime, procedure.sessions]",
        "    related: [procedure.downtime, procedure.sessions]\n    relatd: [about.what_is]",
    )
    _find(
        _check(project),
        path,
        "the bot does not read 'relatd:'; check the spelling",
        "warning",
        line=line_of(path, "relatd:"),
    )


def test_an_unknown_answer_id_is_an_error(project):
    edit(project.answers / "procedure.yml", "id: procedure.pain", "id: procedure.painn")
    _find(_check(project), project.answers / "procedure.yml", "'procedure.painn' is not a known answer id")


# ---- WhatsApp limits ----------------------------------------------------------------------
def test_a_reply_over_4096_characters_is_an_error(project):
    path = project.answers / "procedure.yml"
    edit(
        path,
        "        minimise discomfort. How it feels",
        "        minimise discomfort. " + "Very long. " * 380 + "How it feels",
    )
    problem = _find(_check(project), path, "WhatsApp refuses more than 4096")
    assert (
        problem.line
        == line_of(
            path,
            "      en: >-",
        )
        or "the en reply is" in problem.message
    )


def test_a_reply_over_1024_characters_above_buttons_is_a_warning(project):
    path = project.answers / "procedure.yml"
    edit(
        path,
        "        minimise discomfort. How it feels",
        "        minimise discomfort. " + "Quite long. " * 60 + "How it feels",
    )
    _find(_check(project), path, "above buttons WhatsApp shows at most 1024", "warning")


def test_a_title_with_emoji_over_20_units_is_an_error(project):
    path = project.answers / "procedure.yml"
    edit(path, "      en: Does it hurt?", "      en: Does it hurt? 😬😬😬😬")  # 18 characters, 22 units
    _find(_check(project), path, "the en title counts 22 characters on WhatsApp")


def test_two_buttons_with_the_same_title_are_a_warning(project):
    path = project.answers / "procedure.yml"
    # procedure.pain offers buttons for downtime and sessions; give them the same Arabic title
    edit(path, "      ar: كم عدد الجلسات؟", "      ar: فترة التعافي")
    problem = _find(
        _check(project), path, "two related topics have the same ar title 'فترة التعافي'", "warning"
    )
    assert problem.message.startswith("entry 'procedure.pain'")


# ---- interface catalogs ----------------------------------------------------------------------
def test_a_fuzzy_interface_string_is_an_error(project):
    path = project.locales / "ur" / "LC_MESSAGES" / "messages.po"
    edit(path, 'msgid "Talk to a person"', '#, fuzzy\nmsgid "Talk to a person"')
    _find(_check(project), path, "'Talk to a person' is marked fuzzy in ur")


def test_a_missing_interface_translation_is_an_error(project):
    path = project.locales / "ar" / "LC_MESSAGES" / "messages.po"
    text = path.read_text(encoding="utf-8")
    start = text.index('msgid "Talk to a person"')
    end = text.index("\n\n", start)
    path.write_text(text[:start] + text[end + 2 :], encoding="utf-8")
    _find(_check(project), path, "'Talk to a person' is missing from the ar catalog")


def test_a_too_long_list_button_label_is_an_error(project):
    path = project.locales / "ar" / "LC_MESSAGES" / "messages.po"
    text = path.read_text(encoding="utf-8")
    start = text.index('msgid "Topics"\nmsgstr "') + len('msgid "Topics"\nmsgstr "')
    end = text.index('"', start)
    path.write_text(text[:start] + "المواضيع التي أستطيع المساعدة فيها" + text[end:], encoding="utf-8")
    _find(_check(project), path, "WhatsApp list button allows 20")


# ---- NLU examples ------------------------------------------------------------------------------
def test_an_arabic_example_under_data_nlu_en_is_an_error(project):
    path = project.nlu / "en" / "intents.yml"
    edit(path, "    - does it hurt\n", "    - does it hurt\n    - هل الميزوثيرابي مؤلم جدا\n")
    problem = _find(
        _check(project),
        path,
        "is written in Arabic script, but data/nlu/en/ holds English only",
        line=line_of(path, "هل الميزوثيرابي مؤلم جدا"),
    )
    assert "move it to data/nlu/ar/ or data/nlu/ur/" in problem.message


def test_an_english_sentence_under_data_nlu_ar_is_an_error(project):
    path = project.nlu / "ar" / "msa.yml"
    edit(
        path, "    - ما هي الميزوثيرابي\n", "    - ما هي الميزوثيرابي\n    - what is this treatment exactly\n"
    )
    _find(
        _check(project),
        path,
        "is written in Latin letters (English), but data/nlu/ar/ holds Arabic only",
        line=line_of(path, "what is this treatment exactly"),
    )


def test_a_roman_urdu_sentence_under_data_nlu_en_is_a_warning(project):
    path = project.nlu / "en" / "intents.yml"
    edit(path, "    - does it hurt\n", "    - does it hurt\n    - mujhe batao mesotherapy kya hai\n")
    _find(
        _check(project),
        path,
        "looks like Roman Urdu, but it is in data/nlu/en/",
        "warning",
        line=line_of(path, "mujhe batao mesotherapy kya hai"),
    )


def test_short_roman_urdu_greetings_in_the_english_file_are_fine(project):
    path = project.nlu / "en" / "intents.yml"
    edit(path, "    - does it hurt\n", "    - does it hurt\n")
    text = path.read_text(encoding="utf-8")
    text = text.replace(
        "- intent: greet\n  examples: |\n", "- intent: greet\n  examples: |\n    - salam\n", 1
    )
    text = text.replace(
        "- intent: thank\n  examples: |\n", "- intent: thank\n  examples: |\n    - shukriya\n", 1
    )
    path.write_text(text, encoding="utf-8")
    assert "    - salam\n" in text and "    - shukriya\n" in text
    assert not [
        p for p in _check(project) if p.path == path and ("'salam'" in p.message or "'shukriya'" in p.message)
    ]


def test_the_same_example_under_two_intents_is_an_error(project):
    path = project.nlu / "en" / "intents.yml"
    edit(path, "    - does it hurt\n", "    - does it hurt\n    - How many sessions do I need?\n")
    problems = _check(project)
    problem = _find(
        problems, path, "is an example of both", line=line_of(path, "- how many sessions do i need")
    )
    assert (
        f"'ask_pain' (intents.yml:{line_of(path, 'How many sessions do I need?')}) and 'ask_sessions'"
        in problem.message
    )
    assert "keep it under one intent" in problem.message


def test_an_nlu_intent_missing_from_the_domain_is_an_error(project):
    path = project.nlu / "en" / "intents.yml"
    edit(path, "- intent: ask_pain\n", "- intent: ask_pian\n")
    _find(_check(project), path, "intent 'ask_pian' is not in domain.yml")


def test_an_intent_with_too_few_examples_in_a_language_is_a_warning(project):
    for path in sorted(project.nlu.glob("ur/*.yml")):  # every Urdu file (Urdu script and Roman Urdu)
        text = path.read_text(encoding="utf-8")
        while "- intent: ask_history" in text:
            start = text.index("- intent: ask_history")
            end = text.find("- intent:", start + 5)
            text = text[:start] + (text[end:] if end > 0 else "")
        path.write_text(text, encoding="utf-8")
    _find(
        _check(project),
        project.domain,
        "intent 'ask_history' has 0 Urdu example(s) in data/nlu/ur/",
        "warning",
        line=line_of(project.domain, "- ask_history"),
    )


# ---- rules and stories -----------------------------------------------------------------------------
def test_a_rule_with_a_missing_intent_is_an_error(project):
    path = project.rules / "answers.yml"
    edit(path, "      - intent: ask_pain\n", "      - intent: ask_pian\n")
    _find(
        _check(project),
        path,
        "'answer ask_pain' uses intent 'ask_pian', which domain.yml does not list",
        line=line_of(path, "intent: ask_pian"),
    )


def test_a_story_with_a_missing_action_is_an_error(project):
    path = project.stories / "conversations.yml"
    edit(
        path,
        "      - intent: ask_pain\n      - action: action_answer\n",
        "      - intent: ask_pain\n      - action: action_anwser\n",
    )
    _find(
        _check(project),
        path,
        "uses action 'action_anwser', which domain.yml does not list",
        line=line_of(path, "action: action_anwser"),
    )


@pytest.mark.slow
def test_rasa_data_validate_findings_are_reshaped_as_file_line(project):
    # an intent the domain lists but no rule answers: only Rasa's own check notices
    edit(
        project.rules / "answers.yml",
        "  - rule: answer ask_history\n    steps:\n      - intent: ask_history\n"
        "      - action: action_answer\n",
        "",
    )
    problems = check_all(project)
    problem = _find(
        problems,
        project.domain,
        "rasa data validate: The intent 'ask_history' is not used in any " "story or rule",
        severity="warning",
        line=line_of(project.domain, "- ask_history"),
    )
    assert "add a rule in data/rules/answers.yml" in problem.message
    assert not [p for p in problems if "ask_topic" in p.message or "utter_urgent_offline" in p.message]


@pytest.mark.slow
def test_a_story_conflict_found_by_rasa_names_both_stories_and_what_to_do(project):
    from bot.tools.content.rasa_check import check_with_rasa

    stories = project.stories / "conversations.yml"
    with stories.open("a", encoding="utf-8") as out:
        out.write(
            "\n  - story: pain then the offline reply\n    steps:\n      - intent: ask_pain\n"
            "      - action: utter_urgent_offline\n"
            "\n  - story: pain then an answer\n    steps:\n      - intent: ask_pain\n"
            "      - action: action_answer\n"
        )
    conflicts = [p for p in check_with_rasa(project) if "Story structure conflict" in p.message]
    assert len(conflicts) == 1, conflicts
    assert "'pain then the offline reply'" in conflicts[0].message
    assert "'pain then an answer'" in conflicts[0].message
    assert "make them agree" in conflicts[0].message and conflicts[0].severity == "warning"


# ---- more broken fixtures, one per remaining rule ------------------------------------------------
def test_more_than_ten_related_topics_is_a_warning(project):
    path = project.answers / "conversation.yml"
    edit(
        path,
        "    related: [uses.overview, procedure.pain, procedure.downtime, safety.side_effects, booking.consultation]",
        "    related: [uses.overview, procedure.pain, procedure.downtime, safety.side_effects, booking.consultation, "
        "about.what_is, about.ingredients, about.history, uses.scars, uses.hair_loss, booking.cost]",
    )
    _find(
        _check(project),
        path,
        "11 related topics; WhatsApp lists at most 10, so they become a numbered menu",
        "warning",
    )


def test_a_story_with_an_unknown_entity_or_slot_is_an_error(project):
    path = project.stories / "conversations.yml"
    edit(path, "          - topic: procedure.sessions\n", "          - topik: procedure.sessions\n")
    edit(
        path,
        "      - intent: switch_language\n      - action: action_answer\n",
        "      - intent: switch_language\n      - action: action_answer\n      - slot_was_set:\n"
        "          - langauge: ar\n",
    )
    problems = _check(project)
    _find(problems, path, "uses entity 'topik', which domain.yml does not list")
    _find(problems, path, "sets slot 'langauge', which domain.yml does not list")


def test_a_hand_edited_translation_record_is_a_warning(project):
    path = project.answers / "procedure.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    translated_from:", text.index("id: procedure.pain"))
    end = text.index("\n", text.index("      ur: {", start)) + 1
    path.write_text(text[:start] + "    translated_from: yes\n" + text[end:], encoding="utf-8")
    _find(
        _check(project),
        path,
        "'translated_from' is written by make translations-import; delete it",
        "warning",
        line=line_of(path, "translated_from: yes"),
    )


def test_an_unreadable_catalog_is_an_error_with_its_line(project):
    path = project.locales / "ur" / "LC_MESSAGES" / "messages.po"
    edit(path, 'msgid "Talk to a person"\n', 'msgid "Talk to a person"\nnot a po line\n')
    _find(_check(project), path, "the catalog cannot be read", line=line_of(path, "not a po line"))


def test_an_nlu_file_outside_the_language_folders_is_a_warning(project):
    (project.nlu / "extra.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hey there\n', encoding="utf-8"
    )
    _find(
        _check(project),
        project.nlu / "extra.yml",
        "NLU files go in data/nlu/en/, data/nlu/ar/ or data/nlu/ur/",
        "warning",
    )


def test_an_example_line_without_a_dash_is_an_error(project):
    path = project.nlu / "en" / "intents.yml"
    edit(path, "    - does it hurt\n", "    - does it hurt\n    is it painful\n")
    _find(
        _check(project),
        path,
        "every example line starts with '- ' (found 'is it painful')",
        line=line_of(path, "    is it painful"),
    )


def test_an_unreadable_safety_lexicon_is_an_error(project):
    project.triggers.write_text("urgent_always: [\n", encoding="utf-8")
    _find(_check(project), project.triggers, "the safety lexicon cannot be read")


def test_an_origin_list_rasa_cannot_read_is_an_error_with_its_line(project):
    """Issue 14, finding 2: `cors_origins: [https://a, https://b]` stops `rasa run` (ruamel.yaml)."""
    path = project.root / "credentials.yml"
    edit(path, "  cors_origins: []", "  cors_origins: [https://www.clinic.example, https://clinic.example]")
    problems = [p for p in check_all(project, rasa=False) if p.path == path]
    assert [(p.line, p.severity) for p in problems] == [(line_of(path, "cors_origins: [https"), "error")]
    assert "Rasa cannot read this file" in problems[0].message and "one entry per line" in problems[0].message
    edit(
        path,
        "  cors_origins: [https://www.clinic.example, https://clinic.example]",
        "  cors_origins:\n    - https://www.clinic.example\n    - clinic.example",
    )
    problems = [p for p in check_all(project, rasa=False) if p.path == path]
    assert len(problems) == 1 and "'clinic.example' is not an origin" in problems[0].message
