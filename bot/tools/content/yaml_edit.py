"""Changing one value in a content YAML file while keeping everything else as it was.

Content staff's files carry comments, blank lines and a layout they chose; rewriting a
whole file through a YAML library would lose them. These edits replace only the lines
of the value that changes, and every rewritten value is parsed back and compared, so
a text always survives byte for byte (Arabic and Urdu included).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional, Tuple

import yaml

from bot.core.files import write_text_atomically

WIDTH = 100  # where folded texts are wrapped (the files' own layout)


class CannotEdit(ValueError):
    """A value written in a form these edits do not rewrite (an inline {..} mapping)."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


def _key_line(key: str) -> re.Pattern:
    return re.compile(r"^(?P<indent> *)(?P<q>['\"]?)" + re.escape(key) + r"(?P=q) *:(?: |$)")


def _parses_to(lines: List[str], key: str, value) -> bool:
    try:
        parsed = yaml.safe_load("\n".join(lines) + "\n")
    except yaml.YAMLError:
        return False
    return isinstance(parsed, dict) and list(parsed) == [key] and parsed[key] == value


def _wrap(text: str, width: int) -> List[str]:
    """`text` cut into lines of about `width` at single spaces, which a folded scalar
    turns back into spaces (a double space or a space before a tab is never cut)."""
    breaks = [
        i
        for i in range(1, len(text) - 1)
        if text[i] == " " and text[i - 1] not in " \t" and text[i + 1] not in " \t"
    ]
    lines, start, previous = [], 0, None
    for i in breaks + [len(text)]:
        if i - start > width and previous is not None:
            lines.append(text[start:previous])
            start = previous + 1
        previous = i if i < len(text) else previous
    lines.append(text[start:])
    return lines


def render(key: str, value: str, column: int, block: bool) -> List[str]:
    """`key: value` at `column`, as a folded/literal block (`block`) or a one-line scalar.

    The first form that parses back to exactly `value` is used; a double-quoted
    scalar (which can hold anything) is the last resort.
    """
    pad = " " * column
    candidates = []
    if block and value and value == value.strip():
        body = " " * (column + 2)
        if "\n" in value:
            lines = [(body + line) if line else "" for line in value.split("\n")]
            candidates.append([f"{pad}{key}: |-", *lines])
        else:
            wrapped = _wrap(value, max(40, WIDTH - column - 2))
            candidates.append([f"{pad}{key}: >-", *[body + line for line in wrapped]])
    if "\n" not in value:
        candidates.append([f"{pad}{key}: {value}"])
    quoted = yaml.safe_dump(value, default_style='"', allow_unicode=True, width=10**9).strip()
    quoted = quoted[:-3].rstrip() if quoted.endswith("\n...") else quoted
    candidates.append([f"{pad}{key}: {quoted}"])
    for lines in candidates:
        # parsed without the indentation: the value is the same either way
        if _parses_to([line[column:] if line.startswith(pad) else line for line in lines], key, value):
            return lines
    raise ValueError(f"cannot write {value!r} as YAML")  # not reached: double quotes hold any text


class YamlEditor:
    """Line edits of one file, applied together by `save()`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lines = self.path.read_text(encoding="utf-8").split("\n")
        self._edits: List[Tuple[int, int, List[str]]] = []

    def _locate(self, mapping, key: str) -> Tuple[int, int, int]:
        """(first index, end index, key column) of `key`'s lines in `mapping`."""
        line = getattr(mapping, "key_lines", {}).get(key)
        match = _key_line(key).match(self.lines[line - 1]) if line else None
        if not match:
            raise CannotEdit(
                self.path,
                line or getattr(mapping, "line", 1),
                f"'{key}' is written inline; put each language on its own line (ar: ...)",
            )
        start, column = line - 1, len(match.group("indent"))
        return start, self._block_end(start, column), column

    def _block_end(self, start: int, column: int) -> int:
        end = last = start + 1
        while end < len(self.lines):
            line = self.lines[end]
            if line.strip():
                if len(line) - len(line.lstrip(" ")) <= column:
                    break
                last = end + 1
            end += 1
        return last

    def set_text(self, mapping, key: str, value: str, block: bool, order: Tuple[str, ...] = ()) -> None:
        """Replace the value of `key` (a key of `mapping`, read with bot.core._yaml); a missing key
        is added after the keys that come before it in `order` (en before ar before ur)."""
        if key in getattr(mapping, "key_lines", {}):
            start, end, column = self._locate(mapping, key)
            self._edits.append((start, end, render(key, value, column, block)))
            return
        before = [k for k in order[: order.index(key)] if k in mapping] if key in order else []
        last = next(reversed(list(mapping)), None) if isinstance(mapping, dict) else None
        anchor = before[-1] if before else last
        if anchor is None:
            raise CannotEdit(self.path, getattr(mapping, "line", 1), f"there is no place to add '{key}'")
        _, end, column = self._locate(mapping, anchor)
        self._edits.append((end, end, render(key, value, column, block)))

    def set_lines(self, mapping, key: str, body: List[str], after: str) -> None:
        """Replace `key:`'s block with `key:` followed by `body` (lines relative to the key's
        column), or add it after the block of `after` when the mapping has no `key`."""
        if key in mapping:
            start, end, column = self._locate(mapping, key)
        else:
            _, end, column = self._locate(mapping, after)
            start = end
        pad = " " * column
        self._edits.append((start, end, [f"{pad}{key}:", *[pad + line for line in body]]))

    def block_indent(self, mapping, key: str) -> Optional[int]:
        """The indentation of the first line inside `key`'s block (None when it is empty)."""
        start, end, _ = self._locate(mapping, key)
        inner = next((line for line in self.lines[start + 1 : end] if line.strip()), None)
        return None if inner is None else len(inner) - len(inner.lstrip(" "))

    def append_to_block(self, mapping, key: str, lines: List[str]) -> None:
        """Add `lines` (already indented) after the last line of `key`'s block: a new example
        at the end of an intent's `examples: |`, a new item at the end of a list."""
        _, end, _ = self._locate(mapping, key)
        self._edits.append((end, end, list(lines)))

    def append_at_end(self, lines: List[str]) -> None:
        """Add `lines` after the file's last non-blank line (a new item of a top-level list
        written at column 0, such as a new `- intent:` block of an NLU file)."""
        end = len(self.lines)
        while end > 0 and not self.lines[end - 1].strip():
            end -= 1
        self._edits.append((end, end, list(lines)))

    def text(self) -> str:
        lines = list(self.lines)
        # Bottom up, so earlier line numbers stay valid; two additions at one place end up
        # in the order they were asked for.
        edits = sorted(((s, e, i, new) for i, (s, e, new) in enumerate(self._edits)), reverse=True)
        for (start, end, _, _), (next_start, _, _, _) in zip(edits[1:], edits):
            if end > next_start:
                raise ValueError(f"{self.path}: overlapping edits at line {next_start + 1}")
        for start, end, _, new in edits:
            lines[start:end] = new
        return "\n".join(lines)

    @property
    def changed(self) -> bool:
        return bool(self._edits)

    def save(self, target: Optional[Path] = None) -> None:
        """Write atomically: a reader never sees a half-written file."""
        target = Path(target or self.path)
        write_text_atomically(target, self.text())
