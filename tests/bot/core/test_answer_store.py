"""The answer store refuses incomplete content and names the file and line."""

import re
from pathlib import Path

import pytest
import yaml

from bot import LANGUAGES
from bot.core.answer_store import AnswerStore
from bot.core.problems import InvalidContent


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _problems(folder: Path, strict: bool = False) -> str:
    with pytest.raises(InvalidContent) as err:
        AnswerStore.load(folder, strict=strict)
    return "\n".join(str(p) for p in err.value.problems)


def test_the_real_store_is_complete(store):
    ids = set(yaml.safe_load((Path("data/answers/ids.yml")).read_text(encoding="utf-8"))["ids"])
    assert set(store.answers) == ids
    for answer in store.answers.values():
        for lang in LANGUAGES:
            assert answer.text[lang].strip() and answer.title[lang].strip(), (answer.id, lang)


def test_medical_answers_are_grounded_and_reviewed(store):
    for answer in store.answers.values():
        assert answer.source in ("article", "general guidance")
        if (
            answer.source == "general guidance"
            and answer.kind in ("answer", "safety", "urgent")
            and answer.medical
        ):
            assert answer.pending_review, f"{answer.id} goes beyond the article but is marked approved"


def test_a_missing_language_names_file_and_entry(answers_copy):
    path = answers_copy / "procedure.yml"
    text = path.read_text(encoding="utf-8")
    # Drop the Urdu text of the first entry.
    start = text.index("      ur: >-", text.index("text:"))
    end = text.index("\n  - id:", start)
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    report = _problems(answers_copy)
    assert re.search(r"procedure\.yml:\d+: entry 'procedure\.how_it_is_done': 'text' has no ur text", report)


def test_an_unknown_id_is_an_error(answers_copy):
    _edit(answers_copy / "procedure.yml", "id: procedure.pain", "id: procedure.painn")
    report = _problems(answers_copy)
    assert "entry 'procedure.painn' is not a known answer id" in report
    assert "answer id 'procedure.pain' has no entry" in report


def test_an_empty_text_is_an_error(answers_copy):
    path = answers_copy / "conversation.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["entries"][0]["text"]["ar"] = "   "
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert f"entry '{data['entries'][0]['id']}': 'text' has no ar text" in _problems(answers_copy)


def test_a_broken_related_id_is_an_error(answers_copy):
    path = answers_copy / "procedure.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["entries"][1]["related"] = ["procedure.nope"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert "related id 'procedure.nope' has no entry" in _problems(answers_copy)


def test_placeholders_must_match_across_languages(answers_copy):
    _edit(answers_copy / "safety.yml", "{emergency}۔", "۔")
    assert "placeholders differ between languages" in _problems(answers_copy)


def test_yaml_syntax_error_gives_the_line(answers_copy):
    path = answers_copy / "booking.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "    kind: [unclosed")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert re.search(r"booking\.yml:\d+: YAML syntax", _problems(answers_copy))


def test_a_duplicate_id_across_files_is_an_error(answers_copy):
    text = (answers_copy / "booking.yml").read_text(encoding="utf-8")
    (answers_copy / "extra.yml").write_text(text, encoding="utf-8")
    assert "is also in booking.yml" in _problems(answers_copy)


def test_an_answers_file_that_cannot_be_opened_is_named_not_a_crash(answers_copy):
    (answers_copy / "extra.yml").mkdir()  # a folder where a file was expected
    assert re.search(r"extra\.yml:1: cannot read the file", _problems(answers_copy))


def _set_review(folder: Path, answer_id: str, block: str) -> None:
    """Replace the review block of `answer_id` in a copy of the store with `block` (YAML lines)."""
    for path in folder.glob("*.yml"):
        text = path.read_text(encoding="utf-8")
        start = text.find(f"  - id: {answer_id}\n")
        if start < 0:
            continue
        begin = text.index("    review:\n", start)
        end = text.index("    related:", begin)
        path.write_text(text[:begin] + "    review:\n" + block + text[end:], encoding="utf-8")
        return
    raise AssertionError(f"{answer_id} not found")


def test_an_approval_needs_a_clinicians_role_registration_and_date(answers_copy):
    _set_review(
        answers_copy,
        "procedure.pain",
        "      status: approved\n      reviewer: Content team\n" "      date: 2026-12-01\n",
    )
    report = _problems(answers_copy)
    assert "entry 'procedure.pain': an approved entry names the reviewer's clinical role" in report
    assert (
        "entry 'procedure.pain': an approved entry gives the reviewer's professional registration" in report
    )
    _set_review(
        answers_copy,
        "procedure.pain",
        "      status: approved\n      reviewer: Dr A. Rahman\n"
        "      role: aesthetic physician\n      registration: none\n      date: 2026-12-01\n",
    )
    assert "professional registration (registration: GMC 1234567), not 'none'" in _problems(answers_copy)
    _set_review(
        answers_copy,
        "procedure.pain",
        "      status: approved\n      reviewer: Dr A. Rahman\n"
        "      role: aesthetic physician\n      registration: GMC 1234567\n",
    )
    assert "entry 'procedure.pain': review date is None" in _problems(answers_copy)
    _set_review(
        answers_copy,
        "procedure.pain",
        "      status: approved\n      reviewer: Dr A. Rahman\n"
        "      role: aesthetic physician\n      registration: GMC 1234567\n      date: 2026-12-01\n",
    )
    pain = AnswerStore.load(answers_copy).get("procedure.pain")
    assert (pain.review.role, pain.review.registration, pain.version) == (
        "aesthetic physician",
        "GMC 1234567",
        "2026-12-01",
    )
    assert not pain.awaiting_sign_off and not pain.pending_review


def test_an_unknown_review_status_is_refused(answers_copy):
    _set_review(
        answers_copy, "procedure.pain", "      status: signed\n      reviewer: x\n      date: 2026-12-01\n"
    )
    assert "review status is 'signed'; use pending, content-checked, approved" in _problems(answers_copy)


def test_strict_mode_refuses_every_medical_entry_a_clinician_has_not_approved(store, answers_copy):
    medical = [a for a in store.answers.values() if a.needs_clinician and a.review_status != "approved"]
    checked = [a.id for a in medical if a.review_status == "content-checked"]
    assert checked, "some medical entries are content-checked: strict refuses them too"
    report = _problems(answers_copy, strict=True)
    for answer in medical:
        assert f"entry '{answer.id}' is medical and its review status is {answer.review_status}" in report
    # safety.urgent has `medical: false` (no clinician line under an urgent reply) but is clinical.
    assert store.get("safety.urgent").needs_clinician and "entry 'safety.urgent' is medical" in report


def test_strict_mode_allows_content_checked_non_medical_entries(store, answers_copy):
    for answer in store.answers.values():
        if answer.needs_clinician:
            _set_review(
                answers_copy,
                answer.id,
                "      status: approved\n      reviewer: Dr A. Rahman\n"
                "      role: aesthetic physician\n      registration: GMC 1234567\n"
                "      date: 2026-12-01\n",
            )
        else:
            _set_review(
                answers_copy,
                answer.id,
                "      status: content-checked\n      reviewer: Content team\n" "      date: 2026-12-01\n",
            )
    assert (
        AnswerStore.load(answers_copy, strict=True).get("chitchat.greet").review_status == "content-checked"
    )
    _set_review(
        answers_copy, "chitchat.greet", "      status: pending\n      reviewer: ''\n      date: 2026-12-01\n"
    )
    assert "entry 'chitchat.greet' is still pending review" in _problems(answers_copy, strict=True)


def test_titles_fit_a_whatsapp_button(store):
    for answer in store.answers.values():
        for lang, title in answer.title.items():
            assert len(title.encode("utf-16-le")) // 2 <= 20, (answer.id, lang, title)


def test_a_title_is_counted_as_whatsapp_counts_it_an_emoji_being_two(answers_copy):
    _edit(answers_copy / "procedure.yml", "      en: How is it done?", "      en: How is it done? 💉💉💉")
    # 19 characters, 22 as WhatsApp counts: a button would refuse it, so the store does.
    assert re.search(
        r"procedure\.yml:\d+: .*en title counts 22 characters on WhatsApp", _problems(answers_copy)
    )


def test_the_danger_signs_answer_gives_the_regions_emergency_instruction(store):
    signs = store.get("safety.danger_signs")
    assert signs.medical and signs.needs_clinician and signs.review_status == "pending"
    for lang in LANGUAGES:
        assert "{emergency}" in signs.text[lang], lang
    for sign in (
        "infection",
        "pain",
        "pale",
        "grey",
        "dark",
        "cold",
        "blisters",
        "vision",
        "lips",
        "tongue",
        "throat",
        "breathing",
        "hives",
        "weakness",
        "swelling that keeps growing",
    ):
        assert sign in signs.text["en"], sign


def test_the_skin_lightening_answer_does_not_read_like_a_yes(store):
    lightening = store.get("uses.skin_lightening")
    assert lightening.text["en"].startswith("Mesotherapy is not a skin-whitening treatment")
    assert lightening.text["ar"].startswith("الميزوثيرابي ليس علاجًا لتبييض البشرة")
    assert lightening.text["ur"].startswith("میسوتھراپی رنگ گورا کرنے کا علاج نہیں ہے")
    assert "glutathione" in lightening.text["en"].lower()
