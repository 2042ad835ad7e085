"""Retraining from the page: make retrain's command in the background, its progress and report;
rolling back through the model registry."""

import sys
import textwrap
import time

from bot.tools.content.registry import Registry
from tests.bot.workbench.conftest import PASSWORD  # noqa: F401  (the fixture module)
from tests.support.models import model_archive

# Stands in for `python -m bot retrain` (3+ minutes of training): the same lines, the same exit codes.
FAKE_RETRAIN = textwrap.dedent("""
    import sys, time
    print("content checked: no errors, 3 warning(s) (make validate lists them)", flush=True)
    steps = ((5, "training MultilingualSpacyTokenizer"), (50, "learning, epoch 40/80"), (100, "saved"))
    for pct, label in steps:
        bar = "#" * (pct * 30 // 100) + "." * (30 - pct * 30 // 100)
        print(f"training [{bar}] {pct:3d}%  0m0{pct // 50}s  {label}",
              flush=True)
        time.sleep(0.3)
    print("held-out set                           in service   candidate    change")
    print("English (201)          intent accuracy       92.0%       93.0%   +1.0 pt")
    print("PROMOTED: 20261205-010101-abcd1234 is now in service")
    sys.exit(0)
""")


def test_retrain_runs_in_the_background_with_progress_and_shows_the_comparison(start_workbench, tmp_path):
    script = tmp_path / "fake_retrain.py"
    script.write_text(FAKE_RETRAIN)
    wb = start_workbench(retrain_command=[sys.executable, str(script)])
    wb.add_staff("Sara", "editor")
    wb.add_staff("Dr Amina Rahman", "clinician", "GMC 7654321")
    browser = wb.browser()
    browser.sign_in("Sara")
    status, _, headers = browser.post("/models/retrain", {"csrf": browser.csrf("/models")})
    assert status == 303
    job = headers["Location"].split("job=")[1]
    # a second one is refused while the first runs
    assert browser.post("/models/retrain", {"csrf": browser.csrf("/models")})[0] == 409
    seen = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        import json

        state = json.loads(browser.get(f"/models/jobs/{job}.json")[1])
        seen.append(state["fraction"])
        if not state["running"]:
            break
        time.sleep(0.1)
    assert state["outcome"].startswith("promoted") and state["fraction"] == 1.0
    assert any(0 < f < 1 for f in seen)  # the bar moved
    page = browser.get(f"/models?job={job}")[1]
    assert "intent accuracy" in page and "PROMOTED" in page
    assert [e.action for e in wb.accounts.audit_log()][:2] == ["retrain finished", "retrain started"]
    clinician = wb.browser()
    clinician.sign_in("Dr Amina Rahman")
    assert clinician.post("/models/retrain", {"csrf": clinician.csrf("/models")})[0] == 403


def _model(registry, name, content):
    record = registry.new_record(name * 8, note=name)
    record.model.write_bytes(content)
    registry.finish(record)
    return record


def test_rollback_puts_the_previous_model_back_in_service(start_workbench, tmp_path):
    registry = Registry(tmp_path / "models")
    first, second = (
        _model(registry, "a", model_archive("model one")),
        _model(registry, "b", model_archive("model two")),
    )
    registry.promote(first)
    registry.promote(second)
    assert registry.current.read_bytes() == model_archive("model two")
    wb = start_workbench()
    wb.add_staff("Sara", "editor")
    browser = wb.browser()
    browser.sign_in("Sara")
    assert second.id in browser.get("/models")[1]
    status, page, _ = browser.post("/models/rollback", {"csrf": browser.csrf("/models")})
    assert status == 200 and "ROLLED BACK" in page and first.id in page
    assert registry.current.read_bytes() == model_archive("model one")
    assert any(e.action == "rollback" for e in wb.accounts.audit_log())
