"""Which English text each Arabic and Urdu translation was made from.

`make translations-import` writes, in every entry it imports, the fingerprint of the
English title and text the translator saw:

    translated_from:
      ar: {title: 1a2b3c4d, text: 5e6f7a8b}
      ur: {title: 1a2b3c4d, text: 5e6f7a8b}

When the English is edited afterwards its fingerprint no longer matches, so
`make validate` reports "translation out of date" and `make translations-export`
marks the entry fuzzy for the translators.
"""

from __future__ import annotations

import hashlib
from typing import Dict, List, Mapping, Optional, Tuple

TRANSLATED = ("ar", "ur")  # the languages translated from English
FIELDS = ("title", "text")
KEY = "translated_from"


def fingerprint(english: str) -> str:
    """A short fingerprint of an English text; re-wrapping lines does not change it."""
    return hashlib.sha1(" ".join(english.split()).encode("utf-8")).hexdigest()[:8]


def read_record(raw_entry: Mapping) -> Dict[str, Dict[str, str]]:
    """The `translated_from` record of a raw entry: {lang: {field: fingerprint}}; bad parts dropped."""
    record = raw_entry.get(KEY) if hasattr(raw_entry, "get") else None
    out: Dict[str, Dict[str, str]] = {}
    if not isinstance(record, dict):
        return out
    for lang in TRANSLATED:
        fields = record.get(lang)
        if isinstance(fields, dict):
            out[lang] = {f: str(fields[f]) for f in FIELDS if isinstance(fields.get(f), (str, int))}
    return out


def stale_fields(
    record: Mapping[str, Mapping[str, str]], english: Mapping[str, str], lang: str
) -> Tuple[Optional[List[str]], bool]:
    """(fields whose English changed since the `lang` translation, whether there is a record).

    `english` maps field -> current English text.
    """
    fields = record.get(lang)
    if not fields:
        return None, False
    changed = [f for f in FIELDS if f in english and fields.get(f) != fingerprint(english[f])]
    return changed, True
