"""Settings read from the environment."""

from __future__ import annotations

import os
from typing import Mapping

_YES = ("1", "true", "yes", "on")


def env_flag(name: str, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment switches `name` on (1, true, yes or on, in any case)."""
    return environ.get(name, "").strip().lower() in _YES


def strict_mode() -> bool:
    """Production mode: refuse answer-store entries still pending clinical review."""
    return env_flag("BOT_STRICT")
