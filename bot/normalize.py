"""Text normalisation shared by language detection, the safety guard and the NLU pipeline.

Arabic and Urdu users type the same word many ways: with or without hamza and
diacritics, with ه for ة, ى for ي, an Arabic keyboard's ي/ك for Urdu's ی/ک. Folding
those variants onto one form lets a single lexicon or model entry cover them all.
Latin text is only lower-cased.
"""

from __future__ import annotations

import re
import unicodedata

# Harakat, Quranic marks, superscript alef and Urdu diacritics (zer, zabar, pesh...).
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"

# One folded form per letter family. Used for matching only: replies are never folded.
_FOLD = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
        "ة": "ه", "ۃ": "ه", "ہ": "ه", "ۂ": "ه", "ھ": "ه",
        "ى": "ي", "ی": "ي", "ې": "ي", "ئ": "ي", "ۓ": "ے",
        "ک": "ك", "ڪ": "ك",
        "ؤ": "و",
        "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4",
        "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
        "۰": "0", "۱": "1", "۲": "2", "۳": "3", "۴": "4",
        "۵": "5", "۶": "6", "۷": "7", "۸": "8", "۹": "9",
    }
)

_PUNCT = re.compile(r"[^\w\s']|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def fold_arabic_script(text: str) -> str:
    """Unify Arabic-script spelling variants; leaves Latin letters untouched."""
    text = unicodedata.normalize("NFC", text)
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    return text.translate(_FOLD)


def normalise_for_matching(text: str) -> str:
    """Lower-case, fold Arabic script, turn punctuation into spaces, squeeze spaces.

    Apostrophes are kept so that "can't" and "i'm" stay one word.
    """
    text = fold_arabic_script(text.lower()).replace("’", "'")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()
