"""The staff workbench in a real browser (Debian's Chromium, driven by Playwright) on the real bot.

Patients talk to the real bot (Rasa server, action server, SQLite tracker store) in the four
written forms; the workbench runs as `make workbench` runs it (`python -m bot workbench`, its
own process), on a copy of the project's content, reading the bot's tracker store while the bot
writes it. An editor signs in, sees the plots, files a message under an intent and sees the diff
and the validation pass (Rasa's own check included); a clinician approves an answer; an editor
cannot approve; a request without a session or without the CSRF token changes nothing.
Screenshots go to reports/workbench/. WIDGET_TESTS=0 skips the browser part, as for the widget.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.rasa_server.channels._ratelimit import ONE_ADDRESS_FOR_MANY
from bot.tools.model import train
from bot.tools.servers import BotServers, free_port
from tests.bot.tools.content.conftest import copy_project
from tests.e2e.conftest import Conversation
from tests.support.files import folder_digest
from tests.support.shapes import REPORTS

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = PROJECT_ROOT / "reports" / "workbench"
EDITOR, CLINICIAN, PASSWORD = "Sara Khan", "Dr Amina Rahman", "a long staff password"
NOISE = "qwerty asdf zxcv"  # keyboard noise: never understood
FILED_TEXT = "how much would a course of meso cost me in dubai"


def _review(project, answer_id):
    for path in project.answers.glob("*.yml"):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entries") or []:
            if entry.get("id") == answer_id:
                return entry["review"]
    raise AssertionError(answer_id)


@pytest.fixture(scope="module")
def chromium():
    if os.environ.get("WIDGET_TESTS") == "0":
        pytest.skip("WIDGET_TESTS=0: the browser tests are switched off")
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}): run `make browser`, or set WIDGET_TESTS=0", pytrace=False
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    """A bot of its own: the inbox holds this module's patients, not the other tests' thousands
    of messages (the red teams alone store ~3,400), so what it asserts is on the first page."""
    train()  # a no-op when the model is current
    run_dir = tmp_path_factory.mktemp("workbench-bot")
    with BotServers.in_folder(
        run_dir,
        webchat_settings={"rate_limits": ONE_ADDRESS_FOR_MANY},
    ) as servers:
        yield servers


@pytest.fixture(scope="module")
def workbench(bot, tmp_path_factory):
    """The bot has had conversations in every written form; the workbench reads its store."""
    patients = {
        form: Conversation(bot, {"region": region})
        for form, region in (("en", "GB"), ("ar", "SA"), ("ur", "PK"), ("roman_ur", "PK"))
    }
    for form, text in REPORTS.items():
        patients[form].say(text)
    patients["en"].say(NOISE)
    root = tmp_path_factory.mktemp("workbench")
    project = copy_project(root / "project")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "WORKBENCH_ROOT": str(project.root),
        "WORKBENCH_VAR": str(root / "var"),
        "DB": str(bot.tracker_db),
        "WORKBENCH_PORT": str(free_port()),
    }
    for name, role, extra in (
        (EDITOR, "editor", []),
        (CLINICIAN, "clinician", ["--registration", "GMC 7654321"]),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bot", "staff-user", "--name", name, "--role", role, *extra],
            input=PASSWORD + "\n",
            text=True,
            capture_output=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        assert done.returncode == 0, done.stderr
    log = open(root / "workbench.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "workbench"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{env['WORKBENCH_PORT']}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/login", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the workbench did not start: " + (root / "workbench.log").read_text()[-2000:])
            time.sleep(0.3)
    yield {"url": url, "project": project, "patients": patients, "bot": bot}
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def _sign_in(page, url, name, target="/"):
    page.goto(url + target)
    assert page.url.startswith(url + "/login")  # no session: the sign-in page, nothing else
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_staff_routes_are_not_on_the_bots_port(workbench):
    bot = workbench["bot"]
    for path in ("/login", "/inbox", "/answers", "/models", "/audit", "/static/workbench.js"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bot.url + path, timeout=10)
        assert refused.value.code == 404, path
    request = urllib.request.Request(bot.url + "/login", data=b"name=x&password=y")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code in (404, 405)


def test_an_editor_sees_the_plots_and_files_a_message_and_a_clinician_approves(workbench, chromium):
    url, project = workbench["url"], workbench["project"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    editor = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = editor.new_page()
    _sign_in(page, url, EDITOR, "/inbox")
    assert page.url == url + "/inbox"

    # the plots
    page.goto(url + "/")
    charts = page.locator("section.chart svg")
    assert charts.count() == 7
    charts.first.wait_for(state="visible")
    assert charts.first.bounding_box()["height"] > 100
    assert int(page.locator("#total-messages").text_content().replace(",", "")) >= 5
    assert int(page.locator("#total-urgent").text_content()) >= 4  # a report in each written form
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)

    # the inbox: each written form, masked, right to left where it should be
    page.goto(url + "/inbox")
    for form, text in REPORTS.items():
        item = page.locator("p.patient", has_text=text[:25]).first
        item.wait_for(state="visible")
        direction = item.evaluate("e => getComputedStyle(e).direction")
        assert direction == ("rtl" if form in ("ar", "ur") else "ltr"), (form, direction)
    page.screenshot(path=str(SHOTS / "inbox.png"), full_page=False)

    # file the noise as what the patient meant, under ask_cost: the diff, and validation passed
    # the example goes to whichever English file holds the intent (content staff may move it)
    nlu_before = {f.name: f.read_text(encoding="utf-8") for f in (project.nlu / "en").glob("*.yml")}
    eval_before = folder_digest(project.root / "data" / "eval")
    item = page.locator("article.item", has=page.locator("p.patient", has_text=NOISE)).first
    item.locator("input[name=text]").fill(FILED_TEXT)
    item.locator("select[name=form]").select_option("en")
    item.locator("select[name=choice]").select_option("ask_cost")
    item.locator("button[type=submit]").click()
    page.wait_for_selector("#result", timeout=240_000)
    reasons = page.locator("ul.reasons").all_text_contents() + page.locator("ul.problems").all_text_contents()
    assert page.locator("#result").text_content().strip() == "Written: validation passed", reasons
    assert "passed" in page.locator("#validation").text_content()
    assert page.locator("#diff .add", has_text=FILED_TEXT).count() == 1
    page.screenshot(path=str(SHOTS / "filed.png"), full_page=True)
    after = {f.name: f.read_text(encoding="utf-8") for f in (project.nlu / "en").glob("*.yml")}
    assert set(after) == set(nlu_before)
    added = [
        line
        for name in after
        for line in after[name].splitlines()
        if line not in nlu_before[name].splitlines()
    ]
    assert added == [f"    - {FILED_TEXT}"]
    assert folder_digest(project.root / "data" / "eval") == eval_before

    # an editor cannot approve: no button, and a forged request with the right token is refused
    page.goto(url + "/answers")
    assert page.locator("form.approve").count() == 0
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    review_before = _review(project, "procedure.pain")
    refused = editor.request.post(
        url + "/answers/procedure.pain/approve", form={"csrf": csrf, "confirm": "read", "fingerprint": "x"}
    )
    assert refused.status == 403
    assert _review(project, "procedure.pain") == review_before

    # a clinician approves procedure.pain
    clinician = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = clinician.new_page()
    _sign_in(page, url, CLINICIAN, "/answers")
    card = page.locator("article.answer[data-answer='procedure.pain']")
    assert card.locator("section.text-ar").evaluate("e => getComputedStyle(e).direction") == "rtl"
    page.screenshot(path=str(SHOTS / "answers.png"), full_page=False)
    before = folder_digest(project.answers)
    # without the CSRF token (a request from elsewhere, with the clinician's cookie): nothing changes
    fingerprint = card.locator("input[name=fingerprint]").get_attribute("value")
    forged = clinician.request.post(
        url + "/answers/procedure.pain/approve", form={"confirm": "read", "fingerprint": fingerprint}
    )
    assert forged.status == 403 and folder_digest(project.answers) == before
    # without a session: nothing changes either
    anonymous = chromium.new_context()
    token = card.locator("input[name=csrf]").get_attribute("value")
    nobody = anonymous.request.post(
        url + "/answers/procedure.pain/approve",
        max_redirects=0,
        form={"csrf": token, "confirm": "read", "fingerprint": fingerprint},
    )
    assert nobody.status == 401 and folder_digest(project.answers) == before
    anonymous.close()
    card.locator("input[name=confirm]").check()
    card.locator("form.approve button").click()
    page.wait_for_load_state()
    card = page.locator("article.answer[data-answer='procedure.pain']")
    assert card.get_attribute("data-status") == "approved"
    assert "Dr Amina Rahman" in card.locator(".meta").text_content()
    review = _review(project, "procedure.pain")
    assert (review["status"], review["reviewer"], review["role"], review["registration"]) == (
        "approved",
        CLINICIAN,
        "clinician",
        "GMC 7654321",
    )
    page.goto(url + "/audit")
    audit = page.locator("table.audit").text_content()
    assert "answer approved" in audit and "inbox: filed" in audit and "refused: a POST without" in audit
    editor.close()
    clinician.close()


def test_what_the_bot_writes_meanwhile_appears_without_a_restart(workbench, chromium):
    url = workbench["url"]
    context = chromium.new_context()
    page = context.new_page()
    _sign_in(page, url, EDITOR, "/inbox")
    late = "zxcv qwerty asdf uiop"
    workbench["patients"]["en"].say(late)
    deadline = time.monotonic() + 30
    while page.locator("p.patient", has_text=late).count() == 0:
        assert time.monotonic() < deadline, "the new message never reached the inbox"
        time.sleep(1)
        page.reload()
    context.close()
