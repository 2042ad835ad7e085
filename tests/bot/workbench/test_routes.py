"""Routes: unknown ones are 404; every change needs a session and its CSRF token; roles."""

import hashlib
from pathlib import Path

import yaml


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _review(project, answer_id):
    for path in project.answers.glob("*.yml"):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries") or []:
            if entry.get("id") == answer_id:
                return entry["review"], entry["text"]
    raise AssertionError(answer_id)


def test_unknown_routes_are_404_signed_in_or_not(start_workbench):
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    anonymous, signed = wb.browser(), wb.browser()
    signed.sign_in("Sara")
    for path in (
        "/nope",
        "/admin",
        "/webhooks/webchat/webhook",
        "/static/../bot/workbench/accounts.py",
        "/conversations/not-a-code",
        "/inbox/xyz/relabel",
        "/.env",
    ):
        for browser in (anonymous, signed):
            status, page, _ = browser.get(path)
            assert status == 404, (path, status)
            assert "not found" in page.lower()
    assert signed.post("/nope", {"x": "1"})[0] == 404
    assert signed.get("/login")[0] == 200 and signed.get("/static/workbench.css")[0] == 200


def test_every_page_sends_security_headers(start_workbench):
    wb = start_workbench()
    _, _, headers = wb.browser().get("/login")
    assert (
        "default-src 'none'" in headers["Content-Security-Policy"]
        and "script-src 'self'" in headers["Content-Security-Policy"]
    )
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"


def test_a_post_without_the_csrf_token_or_without_a_session_changes_nothing(start_workbench, project):
    wb = start_workbench()
    wb.add_staff("Dr Amina Rahman", "clinician", "GMC 7654321")
    before = _digest(project.root / "data")
    clinician = wb.browser()
    clinician.sign_in("Dr Amina Rahman")
    form = {"confirm": "read", "fingerprint": "x"}
    status, page, _ = clinician.post("/answers/procedure.pain/approve", form)
    assert status == 403 and "Nothing was changed" in page
    status, _, _ = clinician.post("/answers/procedure.pain/approve", {**form, "csrf": "not-the-token"})
    assert status == 403
    status, _, _ = wb.browser().post(
        "/answers/procedure.pain/approve", {**form, "csrf": clinician.csrf("/answers")}
    )
    assert status == 401  # another browser, no session: the token alone is nothing
    assert _digest(project.root / "data") == before
    assert any(e.action.startswith("refused: a POST without") for e in wb.accounts.audit_log())


def test_only_a_clinician_approves_and_the_approval_names_them(start_workbench, project):
    import re

    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    wb.add_staff("Dr Amina Rahman", "clinician", "GMC 7654321")
    editor, clinician = wb.browser(), wb.browser()
    editor.sign_in("Sara")
    clinician.sign_in("Dr Amina Rahman")
    page = clinician.get("/answers")[1]
    fingerprint = re.search(
        r'action="/answers/procedure\.pain/approve".*?name="fingerprint" value="([0-9a-f]+)"', page, re.S
    ).group(1)
    assert (
        'action="/answers/procedure.pain/approve"' not in editor.get("/answers")[1]
    )  # no button for an editor
    before = _review(project, "procedure.pain")[0]
    status, page, _ = editor.post(
        "/answers/procedure.pain/approve",
        {"csrf": editor.csrf("/answers"), "confirm": "read", "fingerprint": fingerprint},
    )
    assert status == 403 and "Only a clinician" in page
    assert _review(project, "procedure.pain")[0] == before
    status, _, headers = clinician.post(
        "/answers/procedure.pain/approve",
        {"csrf": clinician.csrf("/answers"), "confirm": "read", "fingerprint": fingerprint},
    )
    assert status == 303
    review = _review(project, "procedure.pain")[0]
    assert review["status"] == "approved" and review["reviewer"] == "Dr Amina Rahman"
    assert review["role"] == "clinician" and review["registration"] == "GMC 7654321"
    assert any(e.action == "answer approved" and e.who == "Dr Amina Rahman" for e in wb.accounts.audit_log())


def test_an_approval_of_a_text_that_changed_since_the_page_was_read_is_refused(start_workbench, project):
    wb = start_workbench()
    wb.add_staff("Dr Amina Rahman", "clinician", "GMC 7654321")
    clinician = wb.browser()
    clinician.sign_in("Dr Amina Rahman")
    status, page, _ = clinician.post(
        "/answers/procedure.pain/approve",
        {"csrf": clinician.csrf("/answers"), "confirm": "read", "fingerprint": "0" * 16},
    )
    assert status == 409 and "changed since you opened the page" in page
    assert _review(project, "procedure.pain")[0]["status"] != "approved"


def test_an_editor_changing_an_approved_answer_sends_it_back_to_pending(start_workbench, project):
    from bot.tools.content.signoff import approve

    approve(
        "procedure.downtime",
        "Dr Amina Rahman",
        "aesthetic physician",
        "GMC 7654321",
        "2026-12-01",
        folder=project.answers,
    )
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    wb.add_staff("Dr Amina Rahman", "clinician", "GMC 7654321")
    editor = wb.browser()
    editor.sign_in("Sara")
    _, texts = _review(project, "procedure.downtime")
    new_en = texts["en"].strip() + " A cold pack can ease any swelling."
    status, page, _ = editor.post(
        "/answers/procedure.downtime/edit",
        {
            "csrf": editor.csrf("/answers/procedure.downtime/edit"),
            "text_en": new_en,
            "text_ar": texts["ar"],
            "text_ur": texts["ur"],
        },
    )
    assert status == 200, page
    assert "back to pending" in page and "validation passed" in page.lower()
    review, after = _review(project, "procedure.downtime")
    assert after["en"] == new_en and after["ar"] == texts["ar"]
    assert review["status"] == "pending"
    # a clinician cannot edit
    clinician = wb.browser()
    clinician.sign_in("Dr Amina Rahman")
    assert clinician.get("/answers/procedure.downtime/edit")[0] == 403


def test_an_answer_edit_that_breaks_validation_is_refused_and_nothing_is_written(start_workbench, project):
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    editor = wb.browser()
    editor.sign_in("Sara")
    before = _digest(project.root / "data")
    _, texts = _review(project, "safety.urgent")
    broken = texts["en"].replace("{emergency}", "call someone")
    status, page, _ = editor.post(
        "/answers/safety.urgent/edit", {"csrf": editor.csrf("/answers/safety.urgent/edit"), "text_en": broken}
    )
    assert status == 422 and "Not written" in page and "placeholder" in page
    assert _digest(project.root / "data") == before


def test_the_audit_log_shows_who_did_what(start_workbench):
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    browser = wb.browser()
    browser.sign_in("Sara")
    browser.post("/login", {"name": "Sara", "password": "wrong password"})
    page = browser.get("/audit")[1]
    assert "signed in" in page and "account created" in page and "Sara" in page
