"""Settings read from the environment."""

from __future__ import annotations

import os


def strict_mode() -> bool:
    """Production mode: refuse answer-store entries still pending clinical review."""
    return os.environ.get("BOT_STRICT", "").strip().lower() in ("1", "true", "yes")
