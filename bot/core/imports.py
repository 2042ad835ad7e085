"""Whether an import path in a configuration file still names a class of this code.

config.yml, credentials.yml and every trained model name our classes by import path
(`bot.rasa_server.channels.webchat.WebchatInput`). A path written for an older layout
makes Rasa stop at start-up; the tools check it first, without importing the module
(no Rasa or TensorFlow start for a check)."""

from __future__ import annotations

import importlib.util
import os
from typing import Optional


def names_class(path: str) -> bool:
    """Whether `package.module.Class` is a module of this code that defines `Class`."""
    module, _, name = path.rpartition(".")
    if not module or not name:
        return False
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.origin or not os.path.isfile(spec.origin):
        return False
    with open(spec.origin, encoding="utf-8") as source:
        return f"class {name}(" in source.read()


def moved_to(path: str) -> Optional[str]:
    """Where a class of the flat `bot.` layout (before 2026-12-05) lives now, if it still does."""
    if not path.startswith("bot."):
        return None
    rest = path[len("bot.") :]
    for folder in ("rasa_server", "core", "tools", "action_server"):
        candidate = f"bot.{folder}.{rest}"
        if names_class(candidate):
            return candidate
    return None
