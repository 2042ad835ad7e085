"""Staff accounts, sign-in sessions, the sign-in throttle and the audit log, in one SQLite file.

`var/workbench.db` (0600, in the 0700 `var/`), apart from the bot's conversations:

- `staff`: name, role (`editor` or `clinician`), a clinician's registration ("GMC 1234567"),
  and the password as an Argon2id hash (argon2-cffi; the library's defaults, about 0.1 s
  and 64 MiB a check, so a stolen file is slow to crack);
- `sessions`: a random token per sign-in, kept only as its SHA-256 (the cookie holds the
  token), with the CSRF token of that session and its expiry;
- `failures`: wrong passwords per name, for the throttle (5 in 15 minutes, then 429 until
  the oldest of them is 15 minutes old);
- `audit`: who did what and when: sign-ins, relabels, text edits, sign-offs, retraining.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

EDITOR, CLINICIAN = "editor", "clinician"
ROLES = (EDITOR, CLINICIAN)
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # Argon2 takes any length; a megabyte "password" is an attack
MAX_NAME = 80
MAX_FAILURES = 5
FAILURE_WINDOW = 15 * 60  # seconds
SESSION_IDLE = 8 * 3600  # a session unused this long ends
SESSION_MAX = 12 * 3600  # and none lasts longer than a working day
_HASHER = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff (
    key TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, registration TEXT NOT NULL DEFAULT '',
    password TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, staff_key TEXT NOT NULL, csrf TEXT NOT NULL,
    created REAL NOT NULL, seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_key ON failures (key, at);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, who TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, details TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS handled (
    item TEXT PRIMARY KEY, action TEXT NOT NULL, who TEXT NOT NULL, at REAL NOT NULL);
"""


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Staff:
    name: str
    role: str
    registration: str = ""

    @property
    def is_clinician(self) -> bool:
        return self.role == CLINICIAN

    @property
    def is_editor(self) -> bool:
        return self.role == EDITOR


@dataclass(frozen=True)
class Session:
    staff: Staff
    csrf: str
    token_hash: str


@dataclass(frozen=True)
class AuditEntry:
    at: float
    who: str
    role: str
    action: str
    details: str


class Throttled(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many wrong passwords; try again in {retry_after} s")
        self.retry_after = retry_after


def name_key(name: str) -> str:
    """Names compare without case or surrounding spaces ("Sara" and "sara " are one account)."""
    return " ".join(str(name).split()).casefold()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Accounts:
    """The workbench's own database. Thread-safe (one connection, a lock; all calls are short)."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.chmod(self.path.parent, 0o700)
        except OSError:
            pass
        old_umask = os.umask(0o077)
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        self._lock = threading.Lock()
        with self._tx() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            with self._db:
                yield self._db

    def close(self) -> None:
        self._db.close()

    # -- accounts -----------------------------------------------------------------------
    def set_staff(self, name: str, role: str, password: str, registration: str = "") -> Tuple[Staff, bool]:
        """Create or update an account; (the account, True if it is new). Its sessions end."""
        name = " ".join(str(name).split())
        registration = " ".join(str(registration or "").split())
        problems = []
        if not name or len(name) > MAX_NAME:
            problems.append(f"give a name of 1 to {MAX_NAME} characters (NAME=...)")
        if role not in ROLES:
            problems.append(f"the role is {role!r}; use ROLE=editor or ROLE=clinician")
        if role == CLINICIAN:
            from bot.core.answer_store import APPROVED, Review

            review = Review(APPROVED, name or "x", CLINICIAN, registration, "2000-01-01")
            problems += [p + " (REG=...)" for p in review.problems() if "registration" in p]
        elif registration:
            problems.append("only a clinician account has a registration; leave REG out for an editor")
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            problems.append(f"the password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
        if problems:
            raise AccountError("; ".join(problems))
        now = self.clock()
        hashed = _HASHER.hash(password)
        key = name_key(name)
        with self._tx() as db:
            new = db.execute("SELECT 1 FROM staff WHERE key = ?", (key,)).fetchone() is None
            db.execute(
                "INSERT INTO staff (key, name, role, registration, password, created, updated, active) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT(key) DO UPDATE SET name = excluded.name, "
                "role = excluded.role, registration = excluded.registration, "
                "password = excluded.password, updated = excluded.updated, active = 1",
                (key, name, role, registration, hashed, now, now),
            )
            db.execute("DELETE FROM sessions WHERE staff_key = ?", (key,))
            db.execute("DELETE FROM failures WHERE key = ?", (key,))
        self.audit(
            Staff(name, role, registration),
            "account created" if new else "account updated",
            "from the command line (make staff-user)",
        )
        return Staff(name, role, registration), new

    def disable(self, name: str) -> bool:
        key = name_key(name)
        with self._tx() as db:
            changed = db.execute(
                "UPDATE staff SET active = 0, updated = ? WHERE key = ?", (self.clock(), key)
            ).rowcount
            db.execute("DELETE FROM sessions WHERE staff_key = ?", (key,))
        if changed:
            self.audit(Staff(name, "-"), "account disabled", "from the command line (make staff-user)")
        return bool(changed)

    def staff(self) -> List[Staff]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT name, role, registration FROM staff WHERE active = 1 ORDER BY key"
            ).fetchall()
        return [Staff(*row) for row in rows]

    # -- signing in -------------------------------------------------------------------------
    def retry_after(self, name: str) -> int:
        """Seconds until `name` may try again (0: now)."""
        now = self.clock()
        with self._tx() as db:
            db.execute("DELETE FROM failures WHERE at < ?", (now - FAILURE_WINDOW,))
            times = [
                row[0]
                for row in db.execute(
                    "SELECT at FROM failures WHERE key = ? ORDER BY at DESC LIMIT ?",
                    (name_key(name), MAX_FAILURES),
                )
            ]
        if len(times) < MAX_FAILURES:
            return 0
        return max(1, int(min(times) + FAILURE_WINDOW - now + 0.999))

    def sign_in(self, name: str, password: str) -> Optional[Tuple[str, Session]]:
        """(cookie token, session) for the right password, None for a wrong one.

        Raises Throttled while the name has had MAX_FAILURES wrong passwords within
        FAILURE_WINDOW; the password is then not even checked, and the try not counted.
        """
        name, password = str(name)[: MAX_NAME * 4], str(password)[:MAX_PASSWORD]
        wait = self.retry_after(name)
        if wait:
            raise Throttled(wait)
        key = name_key(name)
        with self._tx() as db:
            row = db.execute(
                "SELECT name, role, registration, password FROM staff WHERE key = ? AND active = 1", (key,)
            ).fetchone()
        try:
            _HASHER.verify(row[3] if row else _DUMMY_HASH, password)
            ok = row is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            with self._tx() as db:
                db.execute("INSERT INTO failures (key, at) VALUES (?, ?)", (key, self.clock()))
            return None
        staff = Staff(row[0], row[1], row[2])
        if _HASHER.check_needs_rehash(row[3]):
            with self._tx() as db:
                db.execute("UPDATE staff SET password = ? WHERE key = ?", (_HASHER.hash(password), key))
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        with self._tx() as db:
            db.execute("DELETE FROM failures WHERE key = ?", (key,))
            db.execute(
                "DELETE FROM sessions WHERE seen < ? OR created < ?", (now - SESSION_IDLE, now - SESSION_MAX)
            )
            db.execute(
                "INSERT INTO sessions (token_hash, staff_key, csrf, created, seen) VALUES (?, ?, ?, ?, ?)",
                (_token_hash(token), key, csrf, now, now),
            )
        return token, Session(staff, csrf, _token_hash(token))

    def session(self, token: Optional[str]) -> Optional[Session]:
        """The live session of a cookie token, or None."""
        if not token or len(token) > 200:
            return None
        now, digest = self.clock(), _token_hash(token)
        with self._tx() as db:
            row = db.execute(
                "SELECT s.name, s.role, s.registration, x.csrf, x.created, x.seen FROM sessions x "
                "JOIN staff s ON s.key = x.staff_key WHERE x.token_hash = ? AND s.active = 1",
                (digest,),
            ).fetchone()
            if row is None:
                return None
            if row[5] < now - SESSION_IDLE or row[4] < now - SESSION_MAX:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (digest,))
                return None
            if now - row[5] > 60:  # "last seen" to the minute is enough
                db.execute("UPDATE sessions SET seen = ? WHERE token_hash = ?", (now, digest))
        return Session(Staff(row[0], row[1], row[2]), row[3], digest)

    def sign_out(self, session: Session) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (session.token_hash,))

    @staticmethod
    def csrf_ok(session: Session, given: Optional[str]) -> bool:
        return bool(given) and hmac.compare_digest(
            session.csrf.encode(), str(given).encode("utf-8", "replace")
        )

    # -- audit ----------------------------------------------------------------------------
    def audit(self, staff: Staff, action: str, details: str = "") -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO audit (at, who, role, action, details) VALUES (?, ?, ?, ?, ?)",
                (self.clock(), staff.name, staff.role, action, details[:4000]),
            )

    def audit_attempt(self, name: str, action: str) -> None:
        """A sign-in that did not succeed, under the name that was tried (cut short: anyone can type)."""
        shown = " ".join(str(name).split())[:MAX_NAME] or "(no name)"
        with self._tx() as db:
            row = db.execute("SELECT role FROM staff WHERE key = ?", (name_key(shown),)).fetchone()
        self.audit(Staff(shown, row[0] if row else "unknown name"), action)

    def audit_log(self, limit: int = 200, offset: int = 0) -> List[AuditEntry]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT at, who, role, action, details FROM audit ORDER BY id DESC LIMIT ? OFFSET ?",
                (limit, offset),
            ).fetchall()
        return [AuditEntry(*row) for row in rows]

    # -- inbox items already dealt with -------------------------------------------------------
    def mark_handled(self, item: str, action: str, staff: Staff) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO handled (item, action, who, at) VALUES (?, ?, ?, ?)",
                (item, action, staff.name, self.clock()),
            )

    def handled(self) -> dict:
        with self._tx() as db:
            return {
                row[0]: (row[1], row[2], row[3])
                for row in db.execute("SELECT item, action, who, at FROM handled")
            }
