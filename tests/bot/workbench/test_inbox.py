"""The inbox: what make review collects, masked, grouped by written form and guessed intent;
filing a message writes through the YAML editor after make validate's checks, or not at all."""

import re
import time

import yaml

from bot.tools.content.review import pseudonym
from tests.bot.workbench.conftest import bot, region, save, user
from tests.support.files import folder_digest

MESSAGES = {  # one badly handled message in each written form, with what must be masked
    "en": ("could you ring me on +44 7700 900123 about the bruising", "ask_side_effects"),
    "ar": ("ممكن تتصلون علي 0551234567 بخصوص الكدمات بعد الجلسة", "ask_side_effects"),
    "ur": ("میرا ای میل sana.k@example.com ہے، نیل کب تک رہتے ہیں", "ask_downtime"),
    "roman_ur": ("mujhe 0300 1234567 pe call karo, neel kab tak rehte hain", "ask_downtime"),
}


def _conversations(db):
    now = time.time()
    save(
        db,
        "+447700900123",
        [
            user(
                MESSAGES["en"][0],
                "nlu_fallback",
                0.41,
                ranking=[("ask_side_effects", 0.4)],
                at=now - 300,
                channel="whatsapp",
            ),
            bot("fallback.not_understood", "fallback", at=now - 299),
            region("GB", now - 299),
        ],
    )
    save(
        db,
        "web-ar",
        [
            user(MESSAGES["ar"][0], "ask_side_effects", 0.42, at=now - 200),
            bot("procedure.side_effects", lang="ar", at=now - 199),
            region("SA", now - 199),
        ],
    )
    save(
        db,
        "web-ur",
        [
            user(MESSAGES["ur"][0], "nlu_fallback", 0.3, ranking=[("ask_downtime", 0.3)], at=now - 100),
            bot("fallback.not_understood", "fallback", "ur", at=now - 99),
        ],
    )
    save(
        db,
        "+923001234567",
        [
            user(MESSAGES["roman_ur"][0], "ask_downtime", 0.5, at=now - 50, channel="whatsapp"),
            bot("procedure.downtime", lang="ur", at=now - 49),
            region("PK", now - 49),
        ],
    )
    save(
        db,
        "web-ok",
        [user("how much is it", "ask_cost", 0.98, at=now - 20), bot("booking.cost", at=now - 19)],
    )


def _signed_in_editor(start_workbench, tracker_db, **settings):
    _conversations(tracker_db)
    wb = start_workbench(**settings)
    wb.refresh()
    wb.add_staff("Sara", "editor")
    browser = wb.browser()
    browser.sign_in("Sara")
    return wb, browser


def _items(page):
    """(item id, written form heading, guessed intent, text) for each inbox item, in page order."""
    out = []
    for section in re.findall(r'<section class="group">(.*?)</section>', page, re.S):
        heading = re.search(r"<h2>(.*?) · guessed <code>(.*?)</code></h2>", section)
        for item_id, text in re.findall(
            r'data-item="([0-9a-f]{16})">\s*<p class="patient"[^>]*>(.*?)</p>', section, re.S
        ):
            out.append((item_id, re.sub(r"<[^>]+>", "", heading.group(1)), heading.group(2), text))
    return out


def test_a_message_in_each_written_form_appears_masked_and_grouped(start_workbench, tracker_db):
    import html

    wb, browser = _signed_in_editor(start_workbench, tracker_db)
    page = browser.get("/inbox")[1]
    items = {html.unescape(text): (form, guess) for _, form, guess, text in _items(page)}
    assert items == {
        "could you ring me on [number] about the bruising": ("English", "ask_side_effects"),
        "ممكن تتصلون علي [number] بخصوص الكدمات بعد الجلسة": ("Arabic · العربية", "ask_side_effects"),
        "میرا ای میل [email] ہے، نیل کب تک رہتے ہیں": ("Urdu · اردو", "ask_downtime"),
        "mujhe [number] pe call karo, neel kab tak rehte hain": ("Roman Urdu", "ask_downtime"),
    }
    for secret in (
        "7700",
        "900123",
        "0551234567",
        "sana.k",
        "example.com",
        "1234567",
        "923001234567",
        "web-ar",
    ):
        assert secret not in page
    assert "how much is it" not in page  # handled well: not in the inbox
    # patient text reads in its own direction inside the English page
    assert re.search(r'<p class="patient" dir="auto" lang="ar">ممكن', page)
    assert re.search(r'<p class="patient" dir="auto" lang="ur">میرا', page)
    # the whole conversation, under its pseudonym, with answer ids, language and region
    code = pseudonym("+923001234567")
    assert code in page
    conversation = browser.get(f"/conversations/{code}")[1]
    assert "procedure.downtime" in conversation and "PK" in conversation and "[number]" in conversation
    assert "1234567" not in conversation


def test_filing_a_message_under_an_intent_writes_it_with_the_yaml_editor_and_shows_the_diff(
    start_workbench, tracker_db, project
):
    wb, browser = _signed_in_editor(start_workbench, tracker_db)
    page = browser.get("/inbox")[1]
    item_id = next(i for i, form, _, _ in _items(page) if form == "Roman Urdu")
    target = project.nlu / "ur" / "roman.yml"
    before = target.read_text(encoding="utf-8")
    eval_before, held_before = folder_digest(project.root / "data" / "eval"), folder_digest(project.held_out)
    status, page, _ = browser.post(
        f"/inbox/{item_id}/relabel",
        {
            "csrf": browser.csrf(),
            "choice": "ask_downtime",
            "form": "roman_ur",
            "text": "neel kab tak rehte hain meso ke baad",
        },
    )
    assert status == 200, page
    assert "Written: validation passed" in page and 'id="diff"' in page
    assert "+    - neel kab tak rehte hain meso ke baad" in page
    after = target.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - neel kab tak rehte hain meso ke baad"]
    assert len(after.splitlines()) == len(before.splitlines()) + 1  # comments and order kept
    block = next(b for b in yaml.safe_load(after)["nlu"] if b["intent"] == "ask_downtime")
    assert "neel kab tak rehte hain meso ke baad" in block["examples"]
    assert (
        folder_digest(project.root / "data" / "eval") == eval_before
        and folder_digest(project.held_out) == held_before
    )
    # dealt with: gone from the inbox, and in the audit log
    assert item_id not in browser.get("/inbox")[1]
    assert any(e.action == "inbox: filed" and "ask_downtime" in e.details for e in wb.accounts.audit_log())


def test_should_have_been_urgent_goes_to_the_safety_corpus(start_workbench, tracker_db, project):
    wb, browser = _signed_in_editor(start_workbench, tracker_db)
    item_id = next(i for i, form, _, _ in _items(browser.get("/inbox")[1]) if form == "English")
    status, page, _ = browser.post(
        f"/inbox/{item_id}/relabel",
        {
            "csrf": browser.csrf(),
            "choice": "should-have-been-urgent",
            "form": "en",
            "text": "could you ring me on [number] about the bruising",
        },
    )
    assert status == 200, page
    corpus = yaml.safe_load(
        (project.root / "data/safety/corpus/staff_reviewed.yml").read_text(encoding="utf-8")
    )
    assert corpus["messages"] == [
        {
            "text": "could you ring me on [number] about the bruising",
            "lang": "en",
            "label": "urgent",
            "concept": "staff",
        }
    ]


def test_a_relabel_that_would_break_validation_is_refused_with_the_reason_and_data_untouched(
    start_workbench, tracker_db, project
):
    wb, browser = _signed_in_editor(start_workbench, tracker_db)
    item_id = next(i for i, form, _, _ in _items(browser.get("/inbox")[1]) if form == "English")
    before = folder_digest(project.root / "data")
    # "does it hurt?" is already an example of ask_pain: under ask_cost the model cannot learn both
    status, page, _ = browser.post(
        f"/inbox/{item_id}/relabel",
        {"csrf": browser.csrf(), "choice": "ask_cost", "form": "en", "text": "does it hurt?"},
    )
    assert status == 422
    assert "Not written" in page and "make validate would report a new error" in page
    assert "is an example of both" in page and "ask_pain" in page
    assert folder_digest(project.root / "data") == before
    # Arabic filed as English: refused too, with the reason
    status, page, _ = browser.post(
        f"/inbox/{item_id}/relabel",
        {
            "csrf": browser.csrf(),
            "choice": "ask_side_effects",
            "form": "en",
            "text": "ممكن تتصلون علي بخصوص الكدمات بعد الجلسة",
        },
    )
    assert status == 422 and "written in Arabic script" in page
    assert folder_digest(project.root / "data") == before
    assert item_id in browser.get("/inbox")[1]  # still waiting


def test_a_held_out_test_message_is_never_added_to_training(start_workbench, tracker_db, project):
    from bot.tools.content.files import read_examples

    wb, browser = _signed_in_editor(start_workbench, tracker_db)
    held = read_examples(sorted(project.held_out.glob("en*.yml"))[0], [])[0]
    item_id = next(i for i, form, _, _ in _items(browser.get("/inbox")[1]) if form == "English")
    before = folder_digest(project.root / "data")
    status, page, _ = browser.post(
        f"/inbox/{item_id}/relabel",
        {"csrf": browser.csrf(), "choice": held.intent, "form": "en", "text": held.text},
    )
    assert status == 422 and "held-out test set" in page
    assert folder_digest(project.root / "data") == before


def test_ignore_hides_the_message_and_a_clinician_cannot_file(start_workbench, tracker_db, project):
    wb, browser = _signed_in_editor(start_workbench, tracker_db)
    item_id = next(i for i, form, _, _ in _items(browser.get("/inbox")[1]) if form == "Urdu · اردو")
    before = folder_digest(project.root / "data")
    status, _, headers = browser.post(
        f"/inbox/{item_id}/relabel", {"csrf": browser.csrf(), "choice": "ignore"}
    )
    assert status == 303
    assert item_id not in browser.get("/inbox")[1] and folder_digest(project.root / "data") == before
    wb.add_staff("Dr Amina Rahman", "clinician", "GMC 7654321")
    clinician = wb.browser()
    clinician.sign_in("Dr Amina Rahman")
    other = _items(clinician.get("/inbox")[1])[0][0]
    status, page, _ = clinician.post(
        f"/inbox/{other}/relabel",
        {"csrf": clinician.csrf(), "choice": "ask_cost", "form": "en", "text": "how much"},
    )
    assert status == 403 and folder_digest(project.root / "data") == before


def test_the_overview_counts_by_language_channel_and_region(start_workbench, tracker_db):
    wb, browser = _signed_in_editor(start_workbench, tracker_db)
    save(
        tracker_db,
        "web-urgent",
        [
            user(
                "my lips are swelling right now", "report_adverse_reaction", 1.0, verdict="urgent", lang="en"
            ),
            bot("safety.urgent", "urgent"),
            region("AE"),
        ],
    )
    wb.refresh()
    status, page, _ = browser.get("/")
    assert status == 200 and page.count("<svg") == 7
    assert '<b id="total-messages">6</b>' in page and '<b id="total-urgent">1</b>' in page
    assert "United Arab Emirates" in page  # the region's name, from regions.yml
    assert (
        ">العربية<" in page or "العربية" in page
    )  # the legend keeps Arabic as text for the browser to shape
