"""Starting, watching and stopping the action server and the Rasa server as real processes.

Used by `make run` (through `python -m bot run`), the end-to-end tests, the benchmark
and the scale-out test, so all of them run the bot the same way:

- `python -m bot.action_server` and `python -m bot.rasa_server` (our entry points;
  no secret on either command line: the Rasa API token is read from a 0600 file, the
  action server's shared secret and the web channel's key come in the environment);
- each server's output goes through a pipe to a size-rotated, scrubbed log file
  (`bot.tools._process_logs`), in a directory only the owner can read;
- both servers stop by themselves if the supervisor disappears (`bot.core._lifeline`);
- `keep_alive()` restarts a server that died, with back-off (`make run` calls it
  twice a second): the Rasa server keeps answering, urgent messages with its built-in
  reply, while the action server is down or restarting.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import yaml

from bot import PROJECT_ROOT
from bot.core import _lifeline
from bot.core._yaml import read_yaml
from bot.core.files import write_text_atomically
from bot.core.settings import is_sql_tracker_store
from bot.rasa_server.channels.whatsapp_config import runtime_credentials, whatsapp_credentials
from bot.tools._process_logs import (
    PRIVATE_UMASK,
    PrivateRotatingFileHandler,
    RotatingLog,
    log_limits,
    make_private,
)
from bot.tools.model import model_path, rasa_env

VAR_DIR = PROJECT_ROOT / "var"
WEBCHAT_KEY_FILE = "webchat-secret"  # in the state directory (var/): the web channel's server key
API_FILE = "rasa-api.json"  # in the state directory: the Rasa API URL and token (bot.tools.content.retrain)
HANDOFF_DB_FILE = "handoff.db"  # in the state directory: requests to be contacted by staff (0600)
WEBCHAT_CHANNEL = "bot.rasa_server.channels.webchat.WebchatInput"
# Seconds before restarting a server that died, by the number of deaths in a row; a
# server that ran STABLE_SECONDS before dying starts the count again.
RESTART_BACKOFF = (1, 2, 4, 8, 15, 30)
STABLE_SECONDS = 60.0

SUPERVISOR_LOGGER = "bot.supervisor"
# Several Sanic workers of one Rasa server must share the conversations' lock (Rasa refuses
# more than one worker with its in-memory lock store): our atomic Redis lock store on a
# local redis-server (bot/rasa_server/lockstore.py, bot/tools/services.py).
LOCAL_REDIS_LOCK_STORE = {
    "type": "bot.rasa_server.lockstore.AtomicRedisLockStore",
    "url": "127.0.0.1",
    "db": 1,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def runtime_endpoints(
    action_port: int,
    tracker_db: Path,
    target: Path,
    source: Path = PROJECT_ROOT / "endpoints.yml",
    action_secret: Optional[str] = None,
    redis_lock_port: Optional[int] = None,
) -> Path:
    """endpoints.yml with this run's action server port, its secret and the tracker database
    (and, with `redis_lock_port`, the Redis lock store that several Sanic workers share).

    Written 0600: it holds the action server's secret.
    """
    config = read_yaml(source) or {}
    endpoint = {**(config.get("action_endpoint") or {}), "url": f"http://127.0.0.1:{action_port}/webhook"}
    if action_secret:
        endpoint["headers"] = {**(endpoint.get("headers") or {}), "Authorization": f"Bearer {action_secret}"}
    config["action_endpoint"] = endpoint
    store = config.get("tracker_store") or {}
    if is_sql_tracker_store(store) and store.get("dialect") == "sqlite":
        store["db"] = str(tracker_db)
    config["tracker_store"] = store
    if redis_lock_port:
        config["lock_store"] = {**LOCAL_REDIS_LOCK_STORE, "port": redis_lock_port}
    _write_private(target, yaml.safe_dump(config, sort_keys=False))
    return target


def _write_private(path: Path, text: str) -> None:
    write_text_atomically(path, text, mode=0o600)


def persistent_secret(path: Path) -> str:
    """A random secret kept in `path` (0600), created on first use (by one process only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process is writing it
            existing = path.read_text(encoding="utf-8").strip()
            if len(existing) >= 32:
                return existing
            time.sleep(0.02)
        raise RuntimeError(f"{path} does not hold a usable secret; remove it to make a new one")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def _get(url: str, timeout: float = 2.0) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status
    except (urllib.error.URLError, OSError):
        return None


def describe_exit(status: Optional[int]) -> str:
    if status is None:
        return "running"
    if status < 0:
        try:
            return f"killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exit status {status}"


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
    # Web channel settings that replace those of `credentials` (e.g. higher rate limits for
    # a load test that sends everything from one address).
    webchat_settings: dict = field(default_factory=dict)
    model: Path = field(default_factory=model_path)
    endpoints_source: Path = PROJECT_ROOT / "endpoints.yml"
    # The action server's shared secret (default: a new random one per run).
    action_secret: str = ""
    # The package of actions the action server serves (tests swap in failing ones).
    actions_package: str = "actions"
    # Sanic workers of the Rasa server (one per core); more than one needs `redis_lock_port`.
    workers: int = 1
    redis_lock_port: Optional[int] = None
    # Seconds the Rasa server took from start to answering (model load; the benchmark reports it).
    rasa_ready_seconds: Optional[float] = None
    processes: List[subprocess.Popen] = field(default_factory=list)

    @classmethod
    def in_folder(cls, run_dir: Path, **options) -> "BotServers":
        """Servers on free ports keeping conversations and logs in `run_dir` (tests, benchmarks)."""
        defaults = {
            "rasa_port": free_port(),
            "action_port": free_port(),
            "tracker_db": run_dir / "tracker.db",
            "logs_dir": run_dir / "logs",
        }
        return cls(**{**defaults, **options})

    def __post_init__(self) -> None:
        self.action_secret = (
            self.action_secret or self.extra_env.get("ACTION_SERVER_SECRET") or secrets.token_urlsafe(32)
        )
        self._logs: Dict[str, RotatingLog] = {}
        self._restart_at: Dict[str, float] = {}
        self._deaths: Dict[str, int] = {}
        self._stopping = False
        # this run's supervisor messages: logs_dir/supervisor.log, and whatever handlers
        # "bot.supervisor" has (make run adds the terminal)
        self._log = logging.getLogger(f"bot.supervisor.{self.rasa_port}")

    # -- where things are ----------------------------------------------------------------------

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
    def state_dir(self) -> Path:
        """The run's private directory: var/ for `make run` (logs, secrets, the API file)."""
        return self.logs_dir.parent

    @property
    def api_file(self) -> Path:
        return self.state_dir / API_FILE

    @property
    def env(self) -> dict:
        """The environment both servers run with."""
        env = {**rasa_env(), **self.extra_env, "ACTION_SERVER_SECRET": self.action_secret}
        if not env.get("WEBCHAT_SECRET"):
            env["WEBCHAT_SECRET"] = persistent_secret(self.state_dir / WEBCHAT_KEY_FILE)
        # requests to be contacted by staff, kept with the run's other private files
        env.setdefault("HANDOFF_DB", str(self.state_dir / HANDOFF_DB_FILE))
        env.setdefault("ACTION_SERVER_HOST", "127.0.0.1")
        return env

    @property
    def whatsapp_enabled(self) -> bool:
        """Whether the WhatsApp variables are set; raises naming the missing ones if only some are."""
        return whatsapp_credentials({**os.environ, **self.extra_env}) is not None

    def pid(self, name: str) -> Optional[int]:
        return next((p.pid for p in self.processes if p.name == name and p.poll() is None), None)

    # -- starting ----------------------------------------------------------------------------------

    def _prepare_dirs(self) -> None:
        for directory in {self.state_dir, self.logs_dir, self.tracker_db.parent}:
            make_private(directory)
        if not self._log.handlers:
            max_bytes, backups = log_limits(os.environ)
            handler = PrivateRotatingFileHandler(
                self.logs_dir / "supervisor.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
            )
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(message)s"))
            self._log.addHandler(handler)
            self._log.setLevel(logging.INFO)

    def env_for(self, name: str) -> dict:
        """The environment of the server `name` ("rasa" or "actions")."""
        env = dict(self.env)
        if name == "rasa" and self.workers > 1:  # the action server needs a fraction of a core
            env["SANIC_WORKERS"] = str(self.workers)
        return env

    def _spawn(self, name: str, cmd: List[str]) -> subprocess.Popen:
        env = {**self.env_for(name), **_lifeline.child_env()}
        max_bytes, backups = log_limits(env)
        log = RotatingLog(self.logs_dir / f"{name}.log", max_bytes, backups)
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=PROJECT_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log.write_fd,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=PRIVATE_UMASK,
                pass_fds=(_lifeline.parent_end(),),
            )
        finally:
            log.child_started()
        proc.name = name  # type: ignore[attr-defined]
        proc.started = time.monotonic()  # type: ignore[attr-defined]
        self._logs[name] = log
        self.processes.append(proc)
        return proc

    def _actions_command(self) -> List[str]:
        return [
            sys.executable,
            "-m",
            "bot.action_server",
            "--port",
            str(self.action_port),
            "--actions",
            self.actions_package,
        ]

    def _rasa_command(self) -> List[str]:
        if self.endpoints_source.resolve() == (PROJECT_ROOT / "endpoints.yml").resolve():
            endpoints = runtime_endpoints(
                self.action_port,
                self.tracker_db,
                self.logs_dir / f"endpoints-{self.rasa_port}.yml",
                action_secret=self.action_secret,
                redis_lock_port=self.redis_lock_port if self.workers > 1 else None,
            )
        else:  # e.g. endpoints.production.yml: as deployed, every value from the environment
            endpoints = self.endpoints_source
        source = self.credentials
        if self.webchat_settings:
            config = read_yaml(source) or {}
            config[WEBCHAT_CHANNEL] = {**(config.get(WEBCHAT_CHANNEL) or {}), **self.webchat_settings}
            source = self.logs_dir / f"credentials-source-{self.rasa_port}.yml"
            _write_private(source, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        # credentials.yml plus the WhatsApp section when its variables are set (secrets stay
        # `${NAME}` references, filled in by Rasa from the environment).
        credentials = runtime_credentials(
            source, self.logs_dir / f"credentials-{self.rasa_port}.yml", {**os.environ, **self.extra_env}
        )
        os.chmod(credentials, 0o600)
        cmd = [
            sys.executable,
            "-m",
            "bot.rasa_server",
            "--model",
            str(self.model),
            "--port",
            str(self.rasa_port),
            "--interface",
            self.host,
            "--credentials",
            str(credentials),
            "--endpoints",
            str(endpoints),
        ]
        if self.api_token:
            _write_private(self.api_file, json.dumps({"url": self.url, "token": self.api_token}))
            cmd += ["--api-token-file", str(self.api_file)]
        return cmd

    def start_actions(self, timeout: float = 60, wait: bool = True) -> None:
        self._prepare_dirs()
        self._spawn("actions", self._actions_command())
        if wait:
            self._wait_for(f"http://127.0.0.1:{self.action_port}/health", "action server", timeout)

    def start_rasa(self, timeout: float = 180, wait: bool = True) -> None:
        self._prepare_dirs()
        started = time.monotonic()
        self._spawn("rasa", self._rasa_command())
        if wait:
            self._wait_for(f"{self.url}/webhooks/webchat/", "Rasa server", timeout)
            self.rasa_ready_seconds = time.monotonic() - started

    def check_settings(self) -> None:
        """Stop before anything starts on settings a server would refuse: a half-configured
        WhatsApp number or staff webhook, or a credentials file Rasa cannot read."""
        from bot.rasa_server.channels._handoff import HandoffSettings
        from bot.rasa_server.credentials import check_credentials

        if self.workers > 1 and not self.redis_lock_port:
            raise ValueError(f"{self.workers} Rasa workers need a Redis lock store (redis_lock_port)")
        self.whatsapp_enabled
        HandoffSettings.from_environment({**os.environ, **self.extra_env})
        problems = check_credentials(self.credentials)
        if problems:
            raise ValueError("\n".join(str(p) for p in problems))

    def start(self) -> "BotServers":
        self.check_settings()
        self._stopping = False
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
                    raise RuntimeError(
                        f"the {proc.name} process stopped ({describe_exit(proc.returncode)}); "
                        f"see {self.logs_dir / (proc.name + '.log')}"
                    )
            if _get(url) == 200:
                return
            time.sleep(0.5)
        raise TimeoutError(f"the {what} did not answer at {url} within {timeout:.0f} s")

    # -- keeping them up ------------------------------------------------------------------------------

    def keep_alive(self) -> None:
        """Restart any server that died, after a back-off; call it regularly (make run: every 0.5 s)."""
        if self._stopping:
            return
        now = time.monotonic()
        for proc in [p for p in self.processes if p.poll() is not None]:
            ran = now - proc.started
            deaths = 1 if ran >= STABLE_SECONDS else self._deaths.get(proc.name, 0) + 1
            self._deaths[proc.name] = deaths
            delay = RESTART_BACKOFF[min(deaths, len(RESTART_BACKOFF)) - 1]
            self._forget(proc)
            self._restart_at[proc.name] = now + delay
            self._log.warning(
                "the %s server stopped (%s) after %.0f s; restarting it in %d s " "(%d stop(s) in a row)",
                proc.name,
                describe_exit(proc.returncode),
                ran,
                delay,
                deaths,
            )
        for name, due in list(self._restart_at.items()):
            if now >= due:
                del self._restart_at[name]
                try:
                    (self.start_actions if name == "actions" else self.start_rasa)(wait=False)
                    self._log.warning("restarted the %s server (pid %s)", name, self.pid(name))
                except OSError as err:
                    self._restart_at[name] = now + RESTART_BACKOFF[-1]
                    self._log.error("could not restart the %s server: %s", name, err)

    # -- stopping -----------------------------------------------------------------------------------

    def _forget(self, proc: subprocess.Popen) -> None:
        if proc in self.processes:
            self.processes.remove(proc)
        log = self._logs.pop(proc.name, None)
        if log is not None:
            log.wait_closed()

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
            self._forget(proc)

    def stop(self) -> None:
        self._stopping = True
        self._restart_at.clear()
        for name in ("rasa", "actions"):
            self.stop_process(name)

    def __enter__(self) -> "BotServers":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- a web client ---------------------------------------------------------------------------------

# The conversation key the web channel gave each conversation (X-Conversation-Key), as the
# widget keeps it in sessionStorage: sent with every later message of that conversation.
_conversation_keys: Dict[tuple, str] = {}
KEY_HEADER = "X-Conversation-Key"
_UNSET = object()


def conversation_key(webhook: str, sender: str) -> Optional[str]:
    return _conversation_keys.get((webhook.rsplit("/webhooks/", 1)[0], sender))


def say(
    webhook: str,
    sender: str,
    message: str,
    metadata: Optional[dict] = None,
    timeout: float = 30,
    key: object = _UNSET,
    headers: Optional[dict] = None,
) -> tuple:
    """POST one message to the web channel; returns (status, decoded JSON body).

    Sends the conversation's key when this process was given one for it (or `key`, if
    given; None sends none) and remembers the key a reply carries.
    """
    server = webhook.rsplit("/webhooks/", 1)[0]
    key = _conversation_keys.get((server, sender)) if key is _UNSET else key
    payload: Dict[str, object] = {"sender": sender, "message": message, "metadata": metadata or {}}
    if key:
        payload["conversation_key"] = key
    request = urllib.request.Request(
        webhook,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - loopback only
            issued = resp.headers.get(KEY_HEADER)
            if issued:
                _conversation_keys[(server, sender)] = issued
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")
