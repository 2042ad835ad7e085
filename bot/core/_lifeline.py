"""Servers that stop when the supervisor that started them is gone.

The supervisor (`python -m bot run`, or a test's `BotServers`) opens one pipe and keeps
its write end; every server it starts gets the read end (`BOT_LIFELINE_FD`) and watches
it in a thread. When the supervisor exits, however it exits (Ctrl-C, a crash, SIGKILL,
the out-of-memory killer), the kernel closes the write end, the read returns end-of-file,
and the server stops itself (SIGTERM to itself, so Sanic shuts down cleanly; killed
after a grace period if that hangs). Nothing is left running as an orphan.

A pipe rather than `PR_SET_PDEATHSIG`: the latter fires when the *thread* that started
the child ends, and tests start servers from worker threads.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Dict, Optional

ENV = "BOT_LIFELINE_FD"
GRACE_SECONDS = 10.0

_parent: Dict[str, Optional[int]] = {"read": None, "write": None, "pid": None}
_lock = threading.Lock()


def parent_end() -> int:
    """The read end to hand to a child (`pass_fds`), creating the pipe once per process."""
    with _lock:
        if _parent["pid"] != os.getpid():  # a forked copy must not share its parent's lifeline
            read, write = os.pipe()
            os.set_inheritable(read, True)
            _parent.update(read=read, write=write, pid=os.getpid())
        return _parent["read"]  # type: ignore[return-value]


def child_env() -> Dict[str, str]:
    return {ENV: str(parent_end())}


def watch_parent() -> None:
    """In a server: stop when the supervisor's end of the lifeline closes. No-op without one."""
    raw = os.environ.pop(ENV, "")
    if not raw.isdigit():
        return
    fd = int(raw)
    try:
        os.fstat(fd)
    except OSError:
        return

    def wait() -> None:
        try:
            while os.read(fd, 1):  # nothing is ever written: returns b"" only when the supervisor is gone
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(GRACE_SECONDS)
        os._exit(1)

    threading.Thread(target=wait, name="lifeline", daemon=True).start()
