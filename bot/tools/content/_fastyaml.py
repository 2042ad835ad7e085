"""bot.core._yaml's line-numbered loading, remembered per file content.

`make validate` reads about fifty YAML files, several of them more than once (each rule
module reads what it checks), and a change staged by the workbench is validated on a copy
of the project whose files are mostly unchanged. Parsing each distinct content once keeps
that under a second. Same results as `bot.core._yaml.load_yaml_with_lines`; the result is
shared, so callers must not modify it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, NamedTuple, Tuple

from bot.core._yaml import YamlFileError, parse_with_lines, read_text

_cache: Dict[str, Any] = {}  # content digest -> parsed, or (line, message) of its error
_CACHE_SIZE = 256


def load(path: Path) -> Tuple[Any, str]:
    """Like `bot.core._yaml.load_yaml_with_lines`; raises YamlFileError. Do not modify the result."""
    path = Path(path)
    text = read_text(path)
    key = hashlib.sha1(text.encode("utf-8")).hexdigest()
    if key not in _cache:
        try:
            _cache[key] = parse_with_lines(text, path)
        except YamlFileError as err:
            _cache[key] = _Unreadable(err.line, err.message)
        if len(_cache) > _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
    result = _cache[key]
    if isinstance(result, _Unreadable):
        raise YamlFileError(path, result.line, result.message)  # named for this file, wherever it was met
    return result, text


class _Unreadable(NamedTuple):
    line: int
    message: str
