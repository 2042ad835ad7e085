"""`make run`'s command: starts both servers, answers, and Ctrl-C stops both cleanly."""

import signal
import subprocess
import sys
import time

import pytest

from bot import PROJECT_ROOT
from bot.tools.model import rasa_env, train
from bot.tools.servers import free_port, say

pytestmark = pytest.mark.e2e


def test_run_serves_and_ctrl_c_stops_both_servers(tmp_path):
    train()
    port, action_port = free_port(), free_port()
    # its own var/: conversations, logs and secrets of a test run stay out of the project's
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "run",
            "--port",
            str(port),
            "--action-port",
            str(action_port),
            "--var-dir",
            str(tmp_path / "var"),
        ],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            output.append(line)
            if "Press Ctrl-C" in line or proc.poll() is not None:
                break
        assert "Press Ctrl-C" in "".join(output), "".join(output)
        status, body = say(
            f"http://127.0.0.1:{port}/webhooks/webchat/webhook", f"run-test-{port}", "هل يؤلم؟"
        )
        assert status == 200 and body[0]["lang"] == "ar"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        output.append(proc.stdout.read())
        assert "stopped." in "".join(output)
        for p in (port, action_port):
            with pytest.raises(OSError):
                import socket

                socket.create_connection(("127.0.0.1", p), timeout=2).close()
    finally:
        if proc.poll() is None:
            proc.kill()
