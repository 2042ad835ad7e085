"""credentials.yml read the way the Rasa server reads it, so a mistake shows before it starts.

Rasa reads the file with ruamel.yaml, which is stricter than PyYAML (what `make run`
rewrites it with): an origin list written on one line, `[https://a.example, https://b.example]`,
is a scanner error for Rasa ("found unexpected ':'") and stops `rasa run`, although
PyYAML accepts it. `make validate` and `make run` therefore check the file with Rasa's
own reader and the channel's own rules, and say which line to change and how.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from bot import PROJECT_ROOT
from bot.core.imports import moved_to, names_class
from bot.core.problems import Problem

CREDENTIALS_FILE = PROJECT_ROOT / "credentials.yml"
WEBCHAT = "bot.rasa_server.channels.webchat.WebchatInput"
ONE_PER_LINE = (
    "write the list one entry per line (`cors_origins:` then `- https://www.clinic.example` "
    "on the next lines), or quote each address"
)


def check_credentials(path: Path = CREDENTIALS_FILE) -> List[Problem]:
    """Problems Rasa or the web channel would stop on, as `file:line: message`."""
    from rasa.shared.utils.io import read_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        return [Problem(path, 1, f"cannot read the file: {err.strerror}")]
    try:
        config = read_yaml(text) or {}
    except Exception as err:  # noqa: BLE001 - ruamel's scanner and parser errors, and others
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = str(getattr(err, "problem", None) or err).strip()
        lines = text.splitlines()
        offending = lines[line - 1] if 0 < line <= len(lines) else ""
        hint = f"; {ONE_PER_LINE}" if "://" in offending else ""
        return [Problem(path, line, f"Rasa cannot read this file ({problem}){hint}")]
    if not isinstance(config, dict):
        return [Problem(path, 1, "the file must map channel names to their settings")]
    unknown = [p for p in (_unknown_channel(path, text, str(name)) for name in config) if p]
    if unknown:
        return unknown
    webchat = config.get(WEBCHAT)
    if isinstance(webchat, dict) and webchat.get("cors_origins") not in (None, ""):
        from bot.rasa_server.channels._widget_routes import OriginPolicy

        try:
            OriginPolicy.from_credentials(webchat["cors_origins"])
        except ValueError as err:
            return [Problem(path, _line_of(text, "cors_origins"), str(err))]
    return []


def _unknown_channel(path: Path, text: str, name: str) -> Optional[Problem]:
    """A channel of ours (`bot.`...) that this code does not have (Rasa would stop on it)."""
    if not name.startswith("bot.") or names_class(name):
        return None
    now = moved_to(name)
    hint = (
        f"it is now `{now}`: write that name instead"
        if now
        else "check the name against bot/rasa_server/channels/"
    )
    return Problem(path, _line_of(text, name), f"no channel `{name}` in this version of the bot; {hint}")


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(key + ":"):
            return number
    return 1
