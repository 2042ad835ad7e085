"""Signing in: slow hashes, 401 for a wrong password, 429 after five within 15 minutes until the
window passes, cookies a script cannot read, and nothing without a session."""

import os
import stat
import subprocess
import sys

from bot import PROJECT_ROOT
from bot.workbench.accounts import FAILURE_WINDOW, Accounts
from tests.bot.workbench.conftest import PASSWORD, bot, save, user


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


def test_a_wrong_password_is_401_and_five_within_15_minutes_lock_the_name_until_the_window_passes(
    start_workbench,
):
    clock = Clock()
    wb = start_workbench(clock=clock)
    wb.add_staff("Sara Khan", "editor")
    browser = wb.browser()
    for attempt in range(5):
        status, page, _ = browser.post("/login", {"name": "Sara Khan", "password": f"wrong {attempt}"})
        assert status == 401 and "Wrong name or password" in page
        clock.now += 60
    # the sixth try, even with the right password, waits for the window
    status, page, headers = browser.post("/login", {"name": "sara khan ", "password": PASSWORD})
    assert status == 429 and "Too many wrong passwords" in page
    retry = int(headers["Retry-After"])
    assert 0 < retry <= FAILURE_WINDOW - 4 * 60
    assert "workbench_session" not in headers.get("Set-Cookie", "")
    # another name is not locked by Sara's failures
    wb.add_staff("Dr Amina Rahman", "clinician", "GMC 7654321")
    assert wb.browser().sign_in("Dr Amina Rahman") == 303
    # while locked, more tries are refused without being counted; once the window passes, she signs in
    clock.now += retry - 2
    assert browser.post("/login", {"name": "Sara Khan", "password": PASSWORD})[0] == 429
    clock.now += 3
    status, _, headers = browser.post("/login", {"name": "Sara Khan", "password": PASSWORD})
    assert status == 303 and headers["Location"] == "/"


def test_wrong_tries_spread_over_more_than_15_minutes_never_lock(start_workbench):
    clock = Clock()
    wb = start_workbench(clock=clock)
    wb.add_staff("Sara", "editor")
    browser = wb.browser()
    for attempt in range(8):
        assert browser.post("/login", {"name": "Sara", "password": "nope nope"})[0] == 401
        clock.now += FAILURE_WINDOW / 4 + 1
    assert browser.sign_in("Sara") == 303


def test_an_unknown_name_is_401_like_a_wrong_password(start_workbench):
    wb = start_workbench()
    status, page, _ = wb.browser().post("/login", {"name": "nobody", "password": "whatever it is"})
    assert status == 401 and "Wrong name or password" in page


def test_the_session_cookie_is_httponly_samesite_strict_and_not_secure_over_plain_http(start_workbench):
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    status, _, headers = wb.browser().post("/login", {"name": "Sara", "password": PASSWORD})
    assert status == 303
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("workbench_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # http on loopback: a Secure cookie would never come back


def test_behind_a_tls_proxy_the_cookie_is_secure(start_workbench):
    wb = start_workbench(behind_tls_proxy=True)
    wb.add_staff("Sara", "editor")
    _, _, headers = wb.browser().post(
        "/login", {"name": "Sara", "password": PASSWORD}, headers={"X-Forwarded-Proto": "https"}
    )
    assert "Secure" in headers["Set-Cookie"]


def test_without_a_session_pages_redirect_to_login_and_show_no_patient_text(start_workbench, tracker_db):
    save(
        tracker_db,
        "+447700900123",
        [
            user(
                "my face is swollen and hot, call 07700 900123", "report_adverse_reaction", verdict="urgent"
            ),
            bot("safety.urgent", "urgent"),
        ],
    )
    wb = start_workbench()
    wb.refresh()
    browser = wb.browser()
    for path in (
        "/",
        "/inbox",
        "/answers",
        "/models",
        "/audit",
        "/answers/procedure.pain/edit",
        f"/conversations/{wb.workbench.index.snapshot()[0].pseudonym}",
    ):
        status, page, headers = browser.get(path)
        assert status == 303 and headers["Location"].startswith("/login"), path
        assert "swollen" not in page and "900123" not in page
    status, page, _ = browser.get("/models/jobs/20260101-000000.json", headers={"Accept": "application/json"})
    assert status == 401 and "swollen" not in page
    # a forged cookie is no session
    browser.jar.clear()
    status, _, _ = browser.get("/inbox", headers={"Cookie": "workbench_session=forged-token"})
    assert status == 303


def test_signing_out_ends_the_session(start_workbench):
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    browser = wb.browser()
    browser.sign_in("Sara")
    csrf = browser.csrf("/")
    assert browser.post("/logout", {"csrf": csrf})[0] == 303
    cookie_header = {"Cookie": "; ".join(f"{c.name}={c.value}" for c in browser.jar)}
    assert browser.get("/", headers=cookie_header)[0] == 303


def test_passwords_are_stored_as_argon2id_hashes_in_a_private_file(tmp_path):
    accounts = Accounts(tmp_path / "var" / "workbench.db")
    accounts.set_staff("Sara", "editor", PASSWORD)
    raw = (tmp_path / "var" / "workbench.db").read_bytes()
    assert PASSWORD.encode() not in raw and b"$argon2id$" in raw
    assert stat.S_IMODE(os.stat(tmp_path / "var" / "workbench.db").st_mode) == 0o600


def _staff_user(tmp_path, *args, password="a long password\n"):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "WORKBENCH_VAR": str(tmp_path / "var")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "staff-user", *args],
        input=password,
        text=True,
        capture_output=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
    )


def test_make_staff_user_reads_the_password_from_stdin_and_checks_the_clinician_registration(tmp_path):
    done = _staff_user(
        tmp_path, "--name", "Dr Amina Rahman", "--role", "clinician", "--registration", "GMC 7654321"
    )
    assert done.returncode == 0, done.stderr
    assert "created clinician account 'Dr Amina Rahman' (GMC 7654321)" in done.stdout
    accounts = Accounts(tmp_path / "var" / "workbench.db")
    assert accounts.sign_in("dr amina rahman", "a long password") is not None
    no_reg = _staff_user(tmp_path, "--name", "Dr B", "--role", "clinician")
    assert no_reg.returncode == 2 and "registration" in no_reg.stderr
    short = _staff_user(tmp_path, "--name", "Sara", "--role", "editor", password="short\n")
    assert short.returncode == 2 and "8 to 1024 characters" in short.stderr
    again = _staff_user(
        tmp_path,
        "--name",
        "Dr Amina Rahman",
        "--role",
        "clinician",
        "--registration",
        "GMC 7654321",
        password="another long password\n",
    )
    assert again.returncode == 0 and "updated" in again.stdout
    assert accounts.sign_in("Dr Amina Rahman", "a long password") is None
