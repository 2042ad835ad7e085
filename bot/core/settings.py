"""Settings read from the environment."""

from __future__ import annotations

import ipaddress
import os
from typing import Mapping

_YES = ("1", "true", "yes", "on")


def env_flag(name: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment switches `name` on (1, true, yes or on, in any case)."""
    return environ.get(name, "").strip().lower() in _YES


def strict_mode() -> bool:
    """Production mode: refuse answer-store entries still pending clinical review."""
    return env_flag("BOT_STRICT")


# endpoints.yml tracker store types that keep conversations in an SQL database: Rasa's own
# and ours on top of it (bot/rasa_server/tracker_store.py), as written in endpoints files.
SQL_TRACKER_STORES = ("sql", "bot.rasa_server.tracker_store.cachedsqltrackerstore")


def is_sql_tracker_store(store: Mapping) -> bool:
    """Whether an endpoints.yml `tracker_store` section keeps conversations in SQL."""
    return str(store.get("type") or "").strip().lower() in SQL_TRACKER_STORES


def is_loopback(host: str) -> bool:
    """Whether a server listening on `host` is reachable from this machine only."""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
