"""bot._yaml's line-numbered loading, parsed by libyaml and remembered per file content.

`make validate` reads about fifty YAML files, several of them more than once; the
pure-Python parser made that take seconds. Same results: mappings are LineDicts, dates
stay strings, a duplicate key is an error.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, Tuple

import yaml

from bot._yaml import (YamlFileError, _construct_mapping, _construct_sequence, _LineLoader,
                       load_yaml_with_lines)

_Base = getattr(yaml, "CSafeLoader", None)
_cache: Dict[Tuple[str, str], Any] = {}
_CACHE_SIZE = 256

if _Base is not None:
    class _FastLineLoader(_Base):  # type: ignore[misc, valid-type]
        pass

    _FastLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _FastLineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    _FastLineLoader.yaml_implicit_resolvers = _LineLoader.yaml_implicit_resolvers


def load(path: Path) -> Tuple[Any, str]:
    """Like `bot._yaml.load_yaml_with_lines`; raises YamlFileError. Do not modify the result."""
    path = Path(path)
    if _Base is None:
        return load_yaml_with_lines(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise YamlFileError(path, 1, f"not UTF-8 text ({err.reason}); save the file as UTF-8") from err
    key = (str(path), hashlib.sha1(text.encode("utf-8")).hexdigest())
    if key not in _cache:
        try:
            _cache[key] = (yaml.load(text, Loader=_FastLineLoader), text)  # noqa: S506 - SafeLoader
        except yaml.MarkedYAMLError as err:
            mark = err.problem_mark or err.context_mark
            _cache[key] = YamlFileError(path, mark.line + 1 if mark else 1,
                                        f"YAML syntax: {err.problem or err}")
        if len(_cache) > _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
    result = _cache[key]
    if isinstance(result, YamlFileError):
        raise result
    return result
