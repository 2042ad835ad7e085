"""Writing a file so that a reader sees the old content or the new, never half of either.

Content staff's YAML, the model registry, runtime endpoints and secrets are all written
this way: to a temporary file beside the target, then renamed over it (atomic on POSIX).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional


def write_text_atomically(target: Path, text: str, mode: Optional[int] = None) -> None:
    """Replace `target` with `text` (UTF-8, newlines as given).

    `mode` sets the file's permissions (0o600 for anything holding a secret); without it an
    existing file keeps its own and a new one is readable by all, written by the owner.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")  # created 0o600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        _set_mode(Path(tmp), target, mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_atomically(source: Path, target: Path) -> None:
    """Replace `target` with a copy of `source` (a model archive of many megabytes, say)."""
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".incoming")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        _set_mode(Path(tmp), target, None)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _set_mode(tmp: Path, target: Path, mode: Optional[int]) -> None:
    if mode is None:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
    os.chmod(tmp, mode)
