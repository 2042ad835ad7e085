"""YAML loading that remembers line numbers, so errors can say `file:line`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Tuple

import yaml


class LineDict(dict):
    """A mapping that knows the line (1-based) it started on, and each key's line."""

    line: int = 0
    key_lines: dict


class LineList(list):
    line: int = 0


# libyaml's parser when PyYAML was built with it (the wheels are): the same safe loading,
# ten times faster than the pure-Python one on the NLU files and the safety lexicon.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
# Dates stay strings: a review date is shown and compared as text ("2026-11-20").
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    """A UTF-8 YAML file's content, loaded safely (None when the file is empty)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SAFE_LOADER)  # noqa: S506


class YamlFileError(ValueError):
    """A YAML file that cannot be read, with the place of the problem."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def read_text(path: Path) -> str:
    """A content file's text; raises `YamlFileError` when it is not UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise YamlFileError(path, 1, f"not UTF-8 text ({err.reason}); save the file as UTF-8") from err


def load_yaml_with_lines(path: Path) -> Tuple[Any, str]:
    """Load one YAML file; mappings are `LineDict`s. Raises `YamlFileError`."""
    text = read_text(path)
    return parse_with_lines(text, path), text


def parse_with_lines(text: str, path: Path) -> Any:
    """`text` (the content of `path`) parsed; mappings are `LineDict`s. Raises `YamlFileError`."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlFileError(path, line, f"YAML syntax: {err.problem or err}") from err
