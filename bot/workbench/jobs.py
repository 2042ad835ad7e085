"""Retraining from the page: `make retrain`'s command in a background process, followed live.

The process is the same one content staff run in a terminal (`python -m bot retrain`:
validate, train a candidate, compare it with the model in service, promote it unless it is
worse, tell the running bot). Its output goes to `var/workbench-jobs/<id>.log`; the page reads
the progress bar's lines (bot/tools/content/retrain.py `Progress`) and, at the end, shows the
comparison it printed. One retraining at a time: training takes both cores.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.tools.model import rasa_env

_PROGRESS = re.compile(r"training \[[#.]+\]\s+(\d+)%\s+\S+\s*(.*)")
OUTCOMES = {
    0: "promoted: the new model is in service",
    1: "not promoted: the model in service stays",
    2: "refused: make validate found content errors",
}


@dataclass
class Job:
    id: str
    who: str
    started: float
    log: Path
    process: Optional[subprocess.Popen] = None
    finished: Optional[float] = None
    returncode: Optional[int] = None
    fraction: float = 0.0
    label: str = "starting"
    lines: List[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def outcome(self) -> str:
        if self.running:
            return "running"
        return OUTCOMES.get(self.returncode, f"failed (exit status {self.returncode}); see the log below")

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "running": self.running,
            "fraction": round(self.fraction, 3),
            "label": self.label,
            "outcome": self.outcome,
            "returncode": self.returncode,
            "elapsed": int((self.finished or time.time()) - self.started),
        }


class Jobs:
    def __init__(self, folder: Path, command: List[str], cwd: Path):
        self.folder, self.command, self.cwd = Path(folder), list(command), Path(cwd)
        self.jobs: Dict[str, Job] = {}
        self._lock = threading.Lock()

    def current(self) -> Optional[Job]:
        with self._lock:
            return next((j for j in self.jobs.values() if j.running), None)

    def latest(self) -> Optional[Job]:
        with self._lock:
            return max(self.jobs.values(), key=lambda j: j.started, default=None)

    def get(self, job_id: str) -> Optional[Job]:
        return self.jobs.get(job_id)

    def start(self, who: str, extra_args: Optional[List[str]] = None) -> Job:
        """Start a retraining; raises RuntimeError while one is running."""
        with self._lock:
            if any(j.running for j in self.jobs.values()):
                raise RuntimeError("a retraining is already running; wait for it to finish")
            self.folder.mkdir(parents=True, exist_ok=True)
            os.chmod(self.folder, 0o700)
            job_id = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
            job = Job(job_id, who, time.time(), self.folder / f"retrain-{job_id}.log")
            env = {**rasa_env(), "PYTHONPATH": str(self.cwd), "PYTHONUNBUFFERED": "1"}
            job.process = subprocess.Popen(
                [*self.command, *(extra_args or [])],
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.jobs[job_id] = job
        threading.Thread(target=self._follow, args=(job,), daemon=True, name=f"retrain-{job_id}").start()
        return job

    def _follow(self, job: Job) -> None:
        with open(job.log, "w", encoding="utf-8") as log:
            for raw in iter(job.process.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                for part in line.split("\r"):  # a terminal progress bar redraws with \r
                    log.write(part + "\n")
                    progress = _PROGRESS.search(part)
                    if progress:
                        job.fraction, job.label = int(progress.group(1)) / 100, progress.group(2).strip()
                    elif part.strip():
                        job.lines.append(part)
                log.flush()
        job.returncode = job.process.wait()
        if job.returncode == 0 or job.returncode == 1:
            job.fraction = 1.0
        job.label = "finished"
        job.finished = time.time()

    def stop_all(self) -> None:
        """On shutdown: a retraining started from the page stops with the workbench."""
        import signal

        for job in list(self.jobs.values()):
            if job.running and job.process is not None:
                try:
                    os.killpg(job.process.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
