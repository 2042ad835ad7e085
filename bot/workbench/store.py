"""Reading the conversations the bot writes, without ever getting in its way.

The tracker store is Rasa's `events` table: SQLite (`var/tracker.db`, `make run`) or
PostgreSQL (endpoints.production.yml). The workbench only reads it:

- SQLite is opened read-only (`mode=ro`) with a busy timeout, and read in batches of a few
  thousand rows, each its own short read, so the bot's writes never wait on the workbench
  for more than milliseconds (Rasa's SQLite store uses the default rollback journal, where
  a long reader would block its commits and fail them after 5 s);
- PostgreSQL is read in read-only transactions (`default_transaction_read_only`).

Only new events are read (`id` above the last one seen, with a margin for PostgreSQL ids
committed out of order by several servers). A store that does not exist yet, has no
`events` table yet, or is busy for a moment is not an error: the workbench shows what it
has and says why there is nothing more.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bot.core._yaml import read_yaml
from bot.core.settings import is_sql_tracker_store

Row = Tuple[
    int, str, str, Optional[str], Optional[float], Optional[str]
]  # id, sender, type, action, ts, data
_COLUMNS = "id, sender_id, type_name, action_name, timestamp, data"
BUSY_TIMEOUT_MS = 2000
BATCH = 5000


class StoreUnavailable(Exception):
    """The store cannot be read now (missing, unreachable, busy); the message says which."""


class EventSource:
    """Rasa's `events` table, read only."""

    description = ""

    def fetch(self, after_id: int, limit: int = BATCH) -> List[Row]:
        raise NotImplementedError

    def max_id(self) -> int:
        raise NotImplementedError

    def identity(self) -> str:
        """Changes when the store is replaced by another one (a new file): start again.
        The first event (its id, conversation and time) tells, even when a new file gets the
        old one's inode."""
        rows = self._query("SELECT id, sender_id, timestamp FROM events ORDER BY id LIMIT 1")
        return repr(tuple(rows[0])) if rows else ""

    def _query(self, sql: str, *args, **kwargs) -> list:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLiteEvents(EventSource):
    def __init__(self, path: Path):
        self.path = Path(path)
        self.description = f"SQLite {self.path}"

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise StoreUnavailable(
                f"there is no tracker store at {self.path} yet (the bot creates it when it "
                "starts; DB=... names another)"
            )
        try:
            connection = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
            )
        except sqlite3.Error as err:
            raise StoreUnavailable(f"cannot open {self.path}: {err}") from err
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return connection

    def _query(self, sql: str, args: Sequence = ()) -> list:
        connection = self._connect()
        try:
            return connection.execute(sql, args).fetchall()
        except sqlite3.OperationalError as err:
            if "no such table" in str(err):
                return []  # the bot has not stored a conversation yet
            raise StoreUnavailable(
                f"{self.path} is busy or unreadable ({err}); trying again shortly"
            ) from err
        except sqlite3.DatabaseError as err:
            raise StoreUnavailable(f"{self.path} is not a tracker store ({err})") from err
        finally:
            connection.close()

    def fetch(self, after_id: int, limit: int = BATCH) -> List[Row]:
        return self._query(
            f"SELECT {_COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
        )

    def max_id(self) -> int:
        rows = self._query("SELECT MAX(id) FROM events")
        return int(rows[0][0] or 0) if rows else 0

    def identity(self) -> str:
        try:
            stat = os.stat(self.path)
        except OSError:
            return ""
        return f"{stat.st_dev}:{stat.st_ino}:" + super().identity()


class SQLEvents(EventSource):
    """Any SQLAlchemy URL (PostgreSQL in production), in read-only transactions."""

    def __init__(self, url: str):
        import sqlalchemy as sa

        self._sa = sa
        url_obj = sa.engine.make_url(url)
        self.description = (
            f"{url_obj.get_backend_name()} {url_obj.host or ''}:{url_obj.port or ''}/{url_obj.database}"
        )
        connect_args = {}
        if url_obj.get_backend_name() == "postgresql":
            connect_args = {"options": "-c default_transaction_read_only=on", "connect_timeout": 5}
        self.engine = sa.create_engine(
            url, connect_args=connect_args, pool_pre_ping=True, pool_size=2, max_overflow=0
        )

    def _query(self, sql: str, **args) -> list:
        try:
            with self.engine.connect() as connection:
                return [tuple(row) for row in connection.execute(self._sa.text(sql), args)]
        except self._sa.exc.ProgrammingError as err:
            if "events" in str(err) and ("does not exist" in str(err) or "no such table" in str(err)):
                return []
            raise StoreUnavailable(f"cannot read {self.description}: {err.orig}") from err
        except self._sa.exc.SQLAlchemyError as err:
            raise StoreUnavailable(f"cannot reach {self.description}: {getattr(err, 'orig', err)}") from err

    def fetch(self, after_id: int, limit: int = BATCH) -> List[Row]:
        return self._query(
            f"SELECT {_COLUMNS} FROM events WHERE id > :after ORDER BY id LIMIT :limit",
            after=after_id,
            limit=limit,
        )

    def max_id(self) -> int:
        rows = self._query("SELECT MAX(id) FROM events")
        return int(rows[0][0] or 0) if rows else 0

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class StoreSettings:
    """Where the conversations are: a SQLite file, or a database URL."""

    sqlite: Optional[Path] = None
    url: Optional[str] = None

    def open(self) -> EventSource:
        return SQLiteEvents(self.sqlite) if self.url is None else SQLEvents(self.url)


def from_endpoints(path: Path, environ: Dict[str, str] = os.environ) -> StoreSettings:
    """The tracker store of an endpoints file (endpoints.production.yml: PostgreSQL from
    DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD), with ${NAME} filled in as Rasa does."""
    import re

    from sqlalchemy.engine import URL

    raw = read_yaml(path) or {}

    def fill(match):
        name = match.group(1)
        if name not in environ:
            raise ValueError(f"{path} needs {name} in the environment (docs/deploy.md)")
        return environ[name]

    store = {
        key: re.sub(r"\$\{(\w+)\}", fill, value) if isinstance(value, str) else value
        for key, value in (raw.get("tracker_store") or {}).items()
    }
    if not is_sql_tracker_store(store):
        raise ValueError(
            f"{path}: the workbench reads an SQL tracker store (type: SQL or bot.rasa_server.tracker_store.CachedSQLTrackerStore), not {store.get('type')!r}"
        )
    dialect = str(store.get("dialect") or "sqlite")
    if dialect == "sqlite":
        return StoreSettings(sqlite=Path(str(store.get("db") or "rasa.db")))
    port = store.get("port")
    url = URL.create(
        dialect,
        username=str(store.get("username") or "") or None,
        password=str(store.get("password") or "") or None,
        host=str(store.get("url") or "") or None,
        port=int(port) if port not in (None, "") else None,
        database=str(store.get("db") or "rasa"),
    )
    return StoreSettings(url=url.render_as_string(hide_password=False))
