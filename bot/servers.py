"""Starting and stopping the action server and the Rasa server as real processes.

Used by `make run` and by the end-to-end tests, so both run the bot the same way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import yaml

from bot import PROJECT_ROOT
from bot.channels.whatsapp_config import runtime_credentials, whatsapp_credentials
from bot.model import model_path, rasa_env

VAR_DIR = PROJECT_ROOT / "var"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def runtime_endpoints(action_port: int, tracker_db: Path, target: Path,
                      source: Path = PROJECT_ROOT / "endpoints.yml") -> Path:
    """endpoints.yml with this run's action server port and tracker database."""
    config = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    config["action_endpoint"] = {**(config.get("action_endpoint") or {}),
                                 "url": f"http://127.0.0.1:{action_port}/webhook"}
    store = config.get("tracker_store") or {}
    if store.get("type") == "SQL" and store.get("dialect") == "sqlite":
        store["db"] = str(tracker_db)
    config["tracker_store"] = store
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


def _get(url: str, timeout: float = 2.0) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status
    except (urllib.error.URLError, OSError):
        return None


@dataclass
class BotServers:
    """The action server and the Rasa server, on the given ports."""

    rasa_port: int = 5005
    action_port: int = 5055
    host: str = "127.0.0.1"
    tracker_db: Path = VAR_DIR / "tracker.db"
    logs_dir: Path = VAR_DIR / "logs"
    credentials: Path = PROJECT_ROOT / "credentials.yml"
    extra_env: dict = field(default_factory=dict)
    # Rasa's HTTP API (model reload for `make retrain`), only with this token; None: off.
    api_token: Optional[str] = None
    processes: List[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhooks/webchat/webhook"

    @property
    def whatsapp_webhook(self) -> str:
        return f"{self.url}/webhooks/whatsapp/webhook"

    @property
    def env(self) -> dict:
        """The environment both servers run with."""
        return {**rasa_env(), **self.extra_env}

    @property
    def whatsapp_enabled(self) -> bool:
        """Whether the WhatsApp variables are set; raises naming the missing ones if only some are."""
        return whatsapp_credentials(self.env) is not None

    def _spawn(self, name: str, cmd: List[str]) -> subprocess.Popen:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.logs_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        proc.log_file = log  # type: ignore[attr-defined]
        proc.name = name  # type: ignore[attr-defined]
        self.processes.append(proc)
        return proc

    def start_actions(self, timeout: float = 60) -> None:
        self._spawn("actions", [sys.executable, "-m", "rasa", "run", "actions", "--actions", "actions",
                                "--port", str(self.action_port)])
        self._wait_for(f"http://{self.host}:{self.action_port}/health", "action server", timeout)

    def start_rasa(self, timeout: float = 180) -> None:
        endpoints = runtime_endpoints(self.action_port, self.tracker_db,
                                      self.logs_dir / f"endpoints-{self.rasa_port}.yml")
        # credentials.yml plus the WhatsApp section when its variables are set (secrets stay
        # `${NAME}` references, filled in by Rasa from the environment).
        credentials = runtime_credentials(self.credentials,
                                          self.logs_dir / f"credentials-{self.rasa_port}.yml", self.env)
        self.tracker_db.parent.mkdir(parents=True, exist_ok=True)
        self._spawn("rasa", [sys.executable, "-m", "rasa", "run", "--model", str(model_path()),
                             "--port", str(self.rasa_port), "--interface", self.host,
                             "--credentials", str(credentials), "--endpoints", str(endpoints),
                             *(["--enable-api", "--auth-token", self.api_token] if self.api_token else [])])
        self._wait_for(f"{self.url}/webhooks/webchat/", "Rasa server", timeout)

    def start(self) -> "BotServers":
        self.whatsapp_enabled  # a half-configured WhatsApp channel stops us before anything starts
        try:
            self.start_actions()
            self.start_rasa()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for(self, url: str, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self.processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"the {proc.name} process exited with status {proc.returncode}; "
                                       f"see {self.logs_dir / (proc.name + '.log')}")
            if _get(url) == 200:
                return
            time.sleep(0.5)
        raise TimeoutError(f"the {what} did not answer at {url} within {timeout:.0f} s")

    def stop_process(self, name: str, timeout: float = 15) -> None:
        for proc in [p for p in self.processes if p.name == name]:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                except ProcessLookupError:
                    pass
            proc.log_file.close()
            self.processes.remove(proc)

    def stop(self) -> None:
        for name in ("rasa", "actions"):
            self.stop_process(name)

    def __enter__(self) -> "BotServers":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def say(webhook: str, sender: str, message: str, metadata: Optional[dict] = None,
        timeout: float = 30) -> tuple:
    """POST one message to the web channel; returns (status, decoded JSON body)."""
    body = json.dumps({"sender": sender, "message": message, "metadata": metadata or {}}).encode()
    request = urllib.request.Request(webhook, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
