"""A server stops when its supervisor dies, even by SIGKILL (issue 12, finding 2), with real processes."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from bot import PROJECT_ROOT
from bot.tools.model import rasa_env

SUPERVISOR = textwrap.dedent("""
    import subprocess, sys, time
    from bot.core import _lifeline
    server = "from bot.core import _lifeline; _lifeline.watch_parent(); import time; time.sleep(120)"
    with_lifeline = subprocess.Popen([sys.executable, "-c", server], env={**_lifeline.child_env(), "PYTHONPATH": "."},
                                     pass_fds=(_lifeline.parent_end(),), start_new_session=True)
    without = subprocess.Popen([sys.executable, "-c", server], env={"PYTHONPATH": "."}, start_new_session=True)
    print(with_lifeline.pid, without.pid, flush=True)
    time.sleep(120)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_server_with_a_lifeline_stops_when_its_supervisor_is_killed():
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    watched, unwatched = map(int, supervisor.stdout.readline().split())
    try:
        time.sleep(1.0)  # both servers are up and watching
        assert _alive(watched) and _alive(unwatched)
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(watched) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(watched), "the server outlived its supervisor"
        assert _alive(unwatched), "without a lifeline a server is orphaned (the old behaviour)"
    finally:
        for pid in (watched, unwatched):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
