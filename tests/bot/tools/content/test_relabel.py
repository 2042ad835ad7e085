"""Filing a patient's message as an example: the right file, one line added, refusals."""

import pytest
import yaml

from bot.tools.content.changes import ChangeRefused, ContentChange, check_writable
from bot.tools.content.relabel import CLINICIAN, URGENT, choose_file, clean, intent_choices, plan


def test_each_written_form_goes_to_its_folder_and_file(project):
    assert (
        choose_file(project, "en", "ask_downtime").relative_to(project.root).as_posix()
        == "data/nlu/en/intents.yml"
    )
    assert choose_file(project, "roman_ur", "ask_cost").name.startswith("roman")
    assert not choose_file(project, "ur", "ask_cost").name.startswith("roman")
    assert choose_file(project, "ar", "ask_cost").parent.name == "ar"


def test_a_planned_example_is_one_added_line_under_its_intent(project):
    relabel = plan(project, "kya neel parte hain meso ke baad", "roman_ur", "ask_side_effects")
    ((before, after),) = relabel.change.files.values()
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - kya neel parte hain meso ke baad"]
    # the file is not written until the change is applied
    assert relabel.target.read_text(encoding="utf-8") == before
    assert relabel.change.check(rasa=False).passed
    relabel.change.apply()
    block = next(
        b
        for b in yaml.safe_load(relabel.target.read_text(encoding="utf-8"))["nlu"]
        if b["intent"] == "ask_side_effects"
    )
    assert "kya neel parte hain meso ke baad" in block["examples"]


def test_the_text_is_masked_and_cannot_turn_into_an_entity_annotation():
    assert clean("call me on +92 300 1234567 (after 5)") == "call me on [number] (after 5)"
    assert clean("mail x@y.com[link](x)") == "mail [email] [link] (x)"
    assert clean("  two\nlines\u200b here ") == "two lines here"


def test_the_safety_choices_write_the_staff_corpus_file(project):
    first = plan(project, "my cheek is hot and swollen since this morning", "en", URGENT)
    first.change.apply()
    second = plan(project, "can I have it while on roaccutane", "en", CLINICIAN)
    second.change.apply()
    corpus = yaml.safe_load(
        (project.root / "data/safety/corpus/staff_reviewed.yml").read_text(encoding="utf-8")
    )
    assert corpus["messages"] == [
        {
            "text": "my cheek is hot and swollen since this morning",
            "lang": "en",
            "label": "urgent",
            "concept": "staff",
        },
        {"text": "can I have it while on roaccutane", "lang": "en", "label": "personal", "concept": "staff"},
    ]
    with pytest.raises(ChangeRefused, match="already in the safety corpus"):
        plan(project, "My cheek is hot and swollen since this morning!", "en", URGENT)


def test_refusals_name_the_reason(project):
    with pytest.raises(ChangeRefused, match="not an intent"):
        plan(project, "a question about something new", "en", "ask_nonsense")
    with pytest.raises(ChangeRefused, match="already an example"):
        plan(project, "How long is recovery?", "en", "ask_downtime")
    with pytest.raises(ChangeRefused, match="empty"):
        plan(project, " \u200b ", "en", "ask_cost")
    with pytest.raises(ChangeRefused, match="characters"):
        plan(project, "word " * 200, "en", "ask_cost")
    assert "report_adverse_reaction" not in intent_choices(project) and "ask_topic" not in intent_choices(
        project
    )


def test_evaluation_and_held_out_sets_are_never_a_target(project):
    for path in (
        "data/eval/nlu/x.yml",
        "data/eval/held_out/en.yml",
        "data/safety/corpus/written_en_es_pt.yml",
        "domain.yml",
        "data/nlu/../eval/x.yml",
    ):
        with pytest.raises(ChangeRefused):
            check_writable(project, project.root / path)
    change = ContentChange(project, "x")
    with pytest.raises(ChangeRefused):
        change.set(project.held_out / "en.yml", "nlu: []\n")
