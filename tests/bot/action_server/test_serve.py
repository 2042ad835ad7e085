"""The action server: loopback by default, a shared secret, errors that never echo (issue 12, finding 7).

A real action server (`python -m bot.action_server`) on a free loopback port.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from bot import PROJECT_ROOT
from bot.action_server.serve import Unsafe, check_settings
from bot.tools.model import rasa_env
from bot.tools.servers import free_port

SECRET = "s3cret-" + "x" * 30
HEALTH_TEXT = "I am pregnant and my face is swollen"


def test_an_exposed_action_server_needs_a_secret():
    check_settings("127.0.0.1", "")
    check_settings("0.0.0.0", SECRET)
    with pytest.raises(Unsafe, match="ACTION_SERVER_SECRET"):
        check_settings("0.0.0.0", "")
    with pytest.raises(Unsafe, match="too short"):
        check_settings("127.0.0.1", "short")


def test_it_refuses_to_start_on_every_interface_without_a_secret():
    env = {**rasa_env(), "ACTION_SERVER_HOST": "0.0.0.0", "ACTION_SERVER_SECRET": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot.action_server", "--port", str(free_port())],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "without a secret" in done.stderr


def _call(port, body, secret=None, path="/webhook"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        **({"Authorization": f"Bearer {secret}"} if secret else {}),
    }
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _action_call(text, intent="ask_pain"):
    return {
        "next_action": "action_answer",
        "sender_id": "t-1",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": "t-1",
            "slots": {},
            "latest_message": {"text": text, "intent": intent, "entities": []},
            "events": [{"event": "user", "text": text}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("actions") / "actions.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot.action_server",
                "--port",
                str(port),
                "--actions",
                "tests.e2e.failing_actions",
            ],
            cwd=PROJECT_ROOT,
            env={**rasa_env(), "ACTION_SERVER_SECRET": SECRET},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.3)
        yield port, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_it_listens_on_loopback_only(action_server):
    port, _ = action_server
    with open("/proc/net/tcp") as tcp:
        listening = [line.split()[1] for line in tcp.readlines()[1:] if line.split()[3] == "0A"]
    ours = [address for address in listening if int(address.split(":")[1], 16) == port]
    assert ours == ["0100007F:%04X" % port], "bound to 127.0.0.1, not 0.0.0.0"


def test_without_the_secret_nothing_runs(action_server):
    port, _ = action_server
    for secret in (None, "wrong-" + SECRET):
        status, body = _call(port, _action_call(HEALTH_TEXT), secret)
        assert status == 401 and json.loads(body)["code"] == "unauthorized"
        assert HEALTH_TEXT not in body
    request = urllib.request.Request(f"http://127.0.0.1:{port}/actions")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_errors_never_echo_the_request(action_server):
    port, log = action_server
    status, body = _call(port, _action_call(HEALTH_TEXT), SECRET)  # the action raises, quoting the text
    assert status == 500 and json.loads(body) == {"error": "the action failed", "code": "action_failed"}
    for bad in (b"{not json", b"[]", json.dumps({"next_action": 5}).encode(), b"[" * 5000 + b"]" * 5000):
        status, body = _call(port, bad, SECRET)
        assert status == 400 and json.loads(body)["code"] == "invalid_body" and "request_body" not in body
    time.sleep(0.5)
    logged = log.read_text(encoding="utf-8")
    assert "ValueError" in logged, "the failure itself is logged"
    assert HEALTH_TEXT not in logged and "pregnant" not in logged, "but not what the person wrote"
