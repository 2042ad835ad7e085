"""What the benchmark measures of the servers `bot.tools.servers.BotServers` starts.

`ProcessMemory` samples the resident memory of each process (and its Sanic workers);
`cpu_seconds` reads the CPU time a process and its workers have used.
"""

from __future__ import annotations

import os
import threading
from typing import Dict, List, Optional


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> List[int]:
    out: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def _tree(pid: int) -> List[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


class ProcessMemory:
    """Peak resident memory (MiB) of named processes and their children, sampled in a thread.

    `peak[name]` is the largest single process of that tree (the figure the 1.5 GB target is
    about); `peak_total[name]` the largest sum over the tree (Sanic master plus workers).
    """

    def __init__(self, pids: Dict[str, int], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak: Dict[str, float] = {name: 0.0 for name in pids}
        self.peak_total: Dict[str, float] = {name: 0.0 for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for name, pid in self.pids.items():
            sizes = [_rss_kib(p) / 1024 for p in _tree(pid)]
            if sizes:
                self.peak[name] = max(self.peak[name], max(sizes))
                self.peak_total[name] = max(self.peak_total[name], sum(sizes))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "ProcessMemory":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def cpu_now(pids: Dict[str, Optional[int]]) -> Dict[str, float]:
    """CPU seconds used so far by each named process tree, to take `cpu_ms_per_message` from."""
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_ms_per_message(
    before: Dict[str, float], pids: Dict[str, Optional[int]], messages: int
) -> Dict[str, float]:
    """CPU milliseconds each named process tree spent per message since `before` (`cpu_now`)."""
    return {name: (cpu_seconds(pid) - before[name]) * 1000 / max(1, messages) for name, pid in pids.items()}


def cpu_seconds(pid: Optional[int]) -> float:
    """User + system CPU seconds used so far by `pid` and its children (Sanic workers)."""
    if not pid:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / ticks
