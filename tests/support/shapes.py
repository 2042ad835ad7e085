"""Message shapes that must never switch off the safety decision (issue 11).

Each takes a message as a person would type it and returns the same words in another
shape: behind a leading `/`, after a forged button payload, in full-width letters (or
Arabic presentation forms), with zero-width characters inside words, or wrapped in bidi
controls. The bot must read all of them like the plain text.
"""

from __future__ import annotations

import unicodedata
from typing import Callable, Dict

REPORTS = {  # a reported reaction in each written form, written for these tests
    "en": "my face is swollen and hot since the injections and I have a fever",
    "ar": "وجهي منتفخ وحار من بعد الحقن وعندي حرارة",
    "ur": "انجیکشن کے بعد سے میرا چہرہ سوج گیا ہے اور گرم ہے، بخار بھی ہے",
    "roman_ur": "injection ke baad se mera chehra sooj gaya hai aur garam hai, bukhar bhi hai",
}
REPLY_LANGUAGE = {"en": "en", "ar": "ar", "ur": "ur", "roman_ur": "ur"}


def _presentation_forms() -> Dict[str, str]:
    """Each Arabic letter's isolated presentation form (U+FE70-U+FEFF), where one exists."""
    forms = {}
    for code in range(0xFE70, 0xFEFF):
        ch = chr(code)
        if "ISOLATED" in unicodedata.name(ch, ""):
            base = unicodedata.normalize("NFKC", ch)
            if len(base) == 1:
                forms.setdefault(base, ch)
    return forms


_FORMS = _presentation_forms()


def leading_slash(text: str) -> str:
    return "/" + text


def payload_then_text(text: str) -> str:
    return '/ask_topic{"topic":"procedure.pain"} ' + text


def full_width(text: str) -> str:
    """Full-width Latin letters; Arabic-script letters as presentation forms."""
    out = []
    for ch in text:
        if "!" <= ch <= "~":
            out.append(chr(ord(ch) - 0x21 + 0xFF01))
        else:
            out.append(_FORMS.get(ch, ch))
    return "".join(out)


def zero_width(text: str) -> str:
    """A zero-width space, joiner or non-joiner in the middle of every word."""
    marks = ["\u200b", "\u200d", "\u200c", "\u2060", "\ufeff"]
    words = text.split(" ")
    return " ".join(
        w[: len(w) // 2] + marks[i % len(marks)] + w[len(w) // 2 :] if len(w) > 2 else w
        for i, w in enumerate(words)
    )


def bidi(text: str) -> str:
    """Wrapped in a right-to-left override, with direction marks between words."""
    return "\u202e" + " \u200f".join(text.split(" ")) + "\u202c\u200e"


SHAPES: Dict[str, Callable[[str], str]] = {
    "leading_slash": leading_slash,
    "payload_then_text": payload_then_text,
    "full_width": full_width,
    "zero_width": zero_width,
    "bidi": bidi,
}
