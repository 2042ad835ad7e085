"""Throw-away Redis and PostgreSQL servers on loopback, from Debian's packages.

Used by `make run WORKERS=2` (Redis for the lock store two Sanic workers share), the
scale-out test (tests/scale) and the benchmark. Each
server runs in its own temporary directory on a free port, with nothing persisted
beyond the run, and is stopped (process group) on exit. PostgreSQL refuses to run as
root, so as root it runs as the `postgres` user the Debian package creates, in a directory
under that user's home: a temporary folder such as /tmp may not be searchable by other users
(CI's is not), and initdb must reach its data directory as `postgres`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from bot.tools.servers import free_port

PG_BIN = Path("/usr/lib/postgresql")


def redis_server_binary() -> Optional[str]:
    return shutil.which("redis-server")


def postgres_bin_dir() -> Optional[Path]:
    versions = sorted(
        (p for p in PG_BIN.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def _wait_port(port: int, proc: subprocess.Popen, what: str, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with status {proc.returncode}: {log.read_text(errors='replace')[-800:]}"
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def _stop(proc: Optional[subprocess.Popen]) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _modes(path: Path) -> str:
    """Owner and mode of each folder down to `path`: what a permission error needs to be read."""
    parts = []
    for folder in [*reversed(path.parents), path]:
        try:
            st = folder.stat()
            parts.append(f"{folder} {oct(st.st_mode & 0o7777)} uid {st.st_uid}")
        except OSError as error:
            parts.append(f"{folder} {error.strerror}")
    return "; ".join(parts)


class RedisServer:
    """`redis-server` on 127.0.0.1:<free port>, in memory only."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="bot-redis-"))
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "RedisServer":
        binary = redis_server_binary()
        if not binary:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        log = self.dir / "redis.log"
        # in memory only: no snapshot, no append-only file
        cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", str(self.dir), "--logfile", str(log)]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_port(self.port, self.proc, "redis-server", log)
        return self

    def stop(self) -> None:
        _stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class PostgresServer:
    """A fresh PostgreSQL cluster on 127.0.0.1:<free port> with database `rasa`, trust auth on loopback."""

    user = "rasa"
    database = "rasa"

    def __init__(self) -> None:
        self.port = free_port()
        self.dir: Optional[Path] = None
        self.bin_dir: Optional[Path] = None  # found by start()
        self.proc: Optional[subprocess.Popen] = None

    @staticmethod
    def _parent() -> Optional[str]:
        """Where the cluster's folder goes: the `postgres` user's home when running as root."""
        if os.geteuid() != 0:
            return None
        try:
            home = Path(pwd.getpwnam("postgres").pw_dir)
        except KeyError:
            raise RuntimeError(
                "running as root, but there is no `postgres` user to run PostgreSQL as"
            ) from None
        return str(home) if home.is_dir() else None

    def _as_owner(self, cmd: List[str]) -> List[str]:
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd

    def start(self) -> "PostgresServer":
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="bot-postgres-", dir=self._parent()))
        data, log = self.dir / "data", self.dir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        self.bin_dir = bin_dir
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-sync"]  # fmt: skip
        init = subprocess.run(
            self._as_owner(initdb),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.dir,
        )
        if init.returncode != 0:
            raise RuntimeError(
                f"initdb failed in {self.dir} ({_modes(self.dir)}): "
                f"{init.stderr.decode(errors='replace')[-800:]}"
            )
        postgres = [
            str(bin_dir / "postgres"), "-D", str(data), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.dir}",
            "-c", "fsync=off",
            "-c", "max_connections=200",
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            self._as_owner(postgres),
            stdout=open(log, "wb"),  # noqa: SIM115 - the server writes it until stop()
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.dir,
        )
        _wait_port(self.port, self.proc, "postgres", log)
        self.create_database(self.database, wait=30)  # listening is not yet accepting: retried
        return self

    def create_database(self, name: str, wait: float = 0) -> None:
        """A new, empty database `name` in this cluster (a test that needs a store of its own)."""
        createdb = [str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user]
        deadline = time.monotonic() + wait
        while True:
            done = subprocess.run(self._as_owner([*createdb, name]), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, cwd=self.dir)  # fmt: skip
            if done.returncode == 0:
                return
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"could not create database {name}: {done.stderr.decode(errors='replace')}"
                )
            time.sleep(0.3)

    def stop(self) -> None:
        _stop(self.proc)
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
