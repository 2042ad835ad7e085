"""A sampling profile of a running server (py-spy), summarised as its top functions.

`Profile(pid, target)` records the process (and its Sanic workers) with py-spy while the
`with` block runs, writes py-spy's collapsed stacks to `target` and `top()` gives the
functions holding most samples: inclusive (the function or anything it calls) and self.
py-spy is a development requirement; without it (or without the right to trace another
process) `Profile` records nothing and says why.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot import PROJECT_ROOT


def py_spy() -> Optional[str]:
    here = Path(sys.executable).with_name("py-spy")
    return str(here) if here.exists() else shutil.which("py-spy")


class Profile:
    def __init__(self, pid: Optional[int], target: Path, rate: int = 200) -> None:
        self.pid, self.target, self.rate = pid, target, rate
        self.problem: Optional[str] = None
        self._proc: Optional[subprocess.Popen] = None

    def __enter__(self) -> "Profile":
        binary = py_spy()
        if not binary or not self.pid:
            self.problem = "py-spy is not installed" if not binary else "no process to profile"
            return self
        self.target.parent.mkdir(parents=True, exist_ok=True)
        cmd = [binary, "record", "--pid", str(self.pid), "--subprocesses", "--rate", str(self.rate)]
        cmd += ["--format", "raw", "--output", str(self.target), "--nonblocking"]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def __exit__(self, *exc) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            _, err = self._proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, err = self._proc.communicate()
        if not self.target.exists():
            self.problem = (err or b"").decode("utf-8", "replace").strip()[-300:] or "py-spy wrote nothing"

    def top(self, n: int = 15) -> Dict[str, List[Tuple[str, float]]]:
        """The `n` functions with most samples answering messages, as shares (inclusive, self)."""
        if self.problem or not self.target.exists():
            return {"inclusive": [], "self": []}
        return top_functions(self.target.read_text(encoding="utf-8", errors="replace"), n)


_PROJECT = f"{PROJECT_ROOT}/"


def _frame_name(frame: str) -> str:
    # py-spy's raw frames read "function (path/to/module.py:line)"; keep function and file.
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    if "site-packages/" in where:
        where = where.split("site-packages/", 1)[1]
    elif where.startswith(_PROJECT):
        where = where[len(_PROJECT) :]
    return f"{name} ({where})" if where else name


def top_functions(
    collapsed: str, n: int = 15, within: str = "handle_request"
) -> Dict[str, List[Tuple[str, float]]]:
    """Shares of the samples whose stack passes through `within` (Sanic's request handler:
    the time spent answering messages, not the event loop waiting or idle threads)."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [_frame_name(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames or not any(f.startswith(within) for f in frames):
            continue
        total += samples
        for name in set(frames):
            inclusive[name] += samples
        own[frames[-1]] += samples
    if not total:
        return {"inclusive": [], "self": []}
    share = lambda counter: [(name, round(c / total, 3)) for name, c in counter.most_common(n)]  # noqa: E731
    return {"inclusive": share(inclusive), "self": share(own)}
