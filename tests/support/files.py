"""Files as tests compare them."""

import hashlib
from pathlib import Path


def folder_digest(folder: Path) -> str:
    """One hash of every file's path and bytes under `folder`: equal means nothing was written."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return digest.hexdigest()
