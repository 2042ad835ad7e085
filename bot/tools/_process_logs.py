"""The servers' log files: private to their owner, scrubbed, and rotated by size.

Each server's standard output and error go into a pipe read by the supervisor, which
runs every line through `bot.core.log_privacy.redact` (the servers already scrub their own
log records; this also covers what bypasses `logging`) and writes it with a
`RotatingFileHandler`: `<name>.log` up to `BOT_LOG_MAX_BYTES` (default 5 MB), then
`<name>.log.1` ... `<name>.log.<BOT_LOG_BACKUPS>` (default 5), oldest dropped.

`make_private()` gives `var/` (or a test's run directory) mode 0700 and every file in
it 0600; the supervisor also runs with umask 077, so the servers' files (the tracker
database, logs) are created private.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
import threading
from pathlib import Path
from typing import Mapping, Optional

from bot.core.log_privacy import redact

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_BACKUPS = 5
PRIVATE_UMASK = 0o077


def make_private(root: Path) -> None:
    """`root` and every directory under it 0700, every file 0600 (created if missing)."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    for current, dirs, files in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(current, name), 0o700)
        for name in files:
            path = os.path.join(current, name)
            try:
                if stat.S_ISREG(os.lstat(path).st_mode):
                    os.chmod(path, 0o600)
            except FileNotFoundError:  # a server removed it meanwhile
                pass


def log_limits(env: Mapping[str, str]) -> tuple:
    """(max bytes per file, number of old files kept), from BOT_LOG_MAX_BYTES / BOT_LOG_BACKUPS."""

    def number(name: str, default: int, low: int) -> int:
        try:
            return max(low, int(env.get(name, "") or default))
        except ValueError:
            return default

    return number("BOT_LOG_MAX_BYTES", DEFAULT_MAX_BYTES, 1024), number("BOT_LOG_BACKUPS", DEFAULT_BACKUPS, 1)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Every file it opens (the current one after each rotation too) is 0600."""

    def _open(self):  # noqa: ANN202 - logging's own signature
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream


class RotatingLog:
    """A log file fed by a pipe: `write_fd` goes to the child as its stdout and stderr."""

    def __init__(
        self, path: Path, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handler = PrivateRotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self._read_fd, self.write_fd = os.pipe()
        self._thread = threading.Thread(target=self._pump, name=f"log-{path.name}", daemon=True)
        self._thread.start()

    def write_line(self, line: str) -> None:
        self._handler.emit(logging.makeLogRecord({"msg": redact(line), "levelno": logging.INFO}))

    def _pump(self) -> None:
        with os.fdopen(self._read_fd, "rb", buffering=0) as pipe:
            pending = b""
            while True:
                try:
                    chunk = pipe.read(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    self.write_line(raw.decode("utf-8", "replace").rstrip("\r"))
                if len(pending) > 65536:  # a line without an end: write it in pieces
                    self.write_line(pending.decode("utf-8", "replace"))
                    pending = b""
            if pending:
                self.write_line(pending.decode("utf-8", "replace"))
        self._handler.close()

    def child_started(self) -> None:
        """The child holds the write end now; ours must close so the pump sees the child's exit."""
        try:
            os.close(self.write_fd)
        except OSError:
            pass

    def wait_closed(self, timeout: Optional[float] = 5.0) -> None:
        self._thread.join(timeout)
