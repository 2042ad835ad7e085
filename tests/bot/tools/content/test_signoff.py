"""Recording an answer's review: a clinician's sign-off goes into the YAML, and nothing else changes."""

import pytest

from bot.core.answer_store import AnswerStore
from bot.tools.content.signoff import (
    SignOffRefused,
    approve,
    current_review,
    mark_content_checked,
    mark_pending,
)


def _other_lines(text: str) -> list:
    """The file's lines outside review blocks."""
    out, inside = [], False
    for line in text.splitlines():
        if line.strip() == "review:":
            inside = True
            continue
        if inside and line.startswith("      "):
            continue
        inside = False
        out.append(line)
    return out


def test_approve_writes_the_clinicians_sign_off_and_keeps_the_rest_of_the_file(project):
    path = project.answers / "procedure.yml"
    before = path.read_text(encoding="utf-8")
    assert (
        approve(
            "procedure.pain",
            "Dr Amina Rahman",
            "aesthetic physician",
            "GMC 7654321",
            "2026-12-02",
            folder=project.answers,
        )
        == path
    )
    after = path.read_text(encoding="utf-8")
    assert _other_lines(after) == _other_lines(before)  # comments, texts and order untouched
    assert (
        "      status: approved\n      reviewer: Dr Amina Rahman\n      role: aesthetic physician\n"
        "      registration: GMC 7654321\n      date: 2026-12-02\n"
    ) in after
    pain = AnswerStore.load(project.answers).get("procedure.pain")
    assert pain.review_status == "approved" and pain.version == "2026-12-02" and not pain.awaiting_sign_off


def test_an_approval_without_role_or_registration_is_refused_and_nothing_is_written(project):
    path = project.answers / "procedure.yml"
    before = path.read_text(encoding="utf-8")
    with pytest.raises(SignOffRefused) as err:
        approve("procedure.pain", "Dr Amina Rahman", "", "", folder=project.answers)
    assert any("clinical role" in p for p in err.value.problems)
    assert any("professional registration" in p for p in err.value.problems)
    assert path.read_text(encoding="utf-8") == before


def test_back_to_pending_drops_the_sign_off_and_keeps_the_revision_date(project):
    approve(
        "procedure.pain",
        "Dr Amina Rahman",
        "aesthetic physician",
        "GMC 7654321",
        "2026-12-02",
        folder=project.answers,
    )
    mark_pending("procedure.pain", folder=project.answers)
    review = current_review("procedure.pain", project.answers)
    assert (review.status, review.reviewer, review.role, review.registration, review.date) == (
        "pending",
        "",
        "",
        "",
        "2026-12-02",
    )
    assert AnswerStore.load(project.answers).get("procedure.pain").awaiting_sign_off


def test_content_checked_names_who_checked(project):
    mark_content_checked("chitchat.greet", "Sara (content team)", "2026-12-03", folder=project.answers)
    greet = AnswerStore.load(project.answers, strict=False).get("chitchat.greet")
    assert (greet.review_status, greet.reviewer) == ("content-checked", "Sara (content team)")
    with pytest.raises(SignOffRefused, match="names its reviewer"):
        mark_content_checked("chitchat.greet", "  ", folder=project.answers)


def test_an_unknown_answer_is_refused(project):
    with pytest.raises(SignOffRefused, match="no entry with this id"):
        mark_pending("procedure.nope", folder=project.answers)
