"""Text normalisation shared by language detection, the safety guard and the NLU pipeline.

Arabic and Urdu users type the same word many ways: with or without hamza and
diacritics, with ه for ة, ى for ي, an Arabic keyboard's ي/ك for Urdu's ی/ک. Folding
those variants onto one form lets a single lexicon or model entry cover them all.
Latin text is only lower-cased.
"""

from __future__ import annotations

import re
import unicodedata

# The Arabic script's blocks: Arabic, Arabic Supplement, Presentation Forms A and B.
# Arabic and Urdu are both written in it; which of the two a text is, bot/core/language.py decides.
ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
# What Arabic attaches to the next word (and, so, with, for, like, the...), longest first.
ARABIC_PROCLITICS = ("وال", "بال", "فال", "لل", "ال", "و", "ف", "ب", "ل", "ك")

# Harakat, Quranic marks, superscript alef and Urdu diacritics (zer, zabar, pesh...).
_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"

# One folded form per letter family. Used for matching only: replies are never folded.
_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ة": "ه",
        "ۃ": "ه",
        "ہ": "ه",
        "ۂ": "ه",
        "ھ": "ه",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ئ": "ي",
        "ۓ": "ے",
        "ک": "ك",
        "ڪ": "ك",
        "ؤ": "و",
        "٠": "0",
        "١": "1",
        "٢": "2",
        "٣": "3",
        "٤": "4",
        "٥": "5",
        "٦": "6",
        "٧": "7",
        "٨": "8",
        "٩": "9",
        "۰": "0",
        "۱": "1",
        "۲": "2",
        "۳": "3",
        "۴": "4",
        "۵": "5",
        "۶": "6",
        "۷": "7",
        "۸": "8",
        "۹": "9",
    }
)

# Characters that change nothing a reader sees but split or disguise words: zero-width
# spaces and joiners, the BOM, soft hyphens, word joiners, variation selectors, and the
# bidi controls (LRM, RLM, ALM, embeddings, overrides, isolates).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufe00-\ufe0f\ufeff]")
# Latin combining accents (not Arabic-script marks): "não" and "nao" match alike.
_LATIN_ACCENTS = re.compile("[\u0300-\u036f]")
# Cyrillic and Greek letters that look like Latin ones, as used to slip past word lists.
_LOOKALIKES = str.maketrans(
    "аеорсухіјѕԁɡАЕОРСХІЈЅΑΒΕΖΗΙΚΜΝΟΡΤΥΧаονι", "aeopcyxijsdgAEOPCXIJSABEZHIKMNOPTYXaovi"
)

_PUNCT = re.compile(r"[^\w\s']|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def fold_unicode(text: str) -> str:
    """The text a person meant, whatever the keyboard or a forger did to its code points.

    NFKC turns full-width letters (ｍｙ ｆａｃｅ), Arabic presentation forms (ﻻ, ﺑ) and other
    compatibility characters into the ordinary ones; invisible characters go; Cyrillic and
    Greek look-alikes become the Latin letters they imitate. Applied before anything reads
    a message: language detection, the safety decision and the NLU model.
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = _INVISIBLE.sub("", text)
    return text.translate(_LOOKALIKES)


def fold_arabic_script(text: str) -> str:
    """Unify Arabic-script spelling variants; leaves Latin letters untouched."""
    text = unicodedata.normalize("NFC", text)
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    return text.translate(_FOLD)


def normalise_for_matching(text: str) -> str:
    """Lower-case, fold Arabic script, turn punctuation into spaces, squeeze spaces.

    Apostrophes are kept so that "can't" and "i'm" stay one word.
    """
    text = fold_unicode(text)
    text = unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", unicodedata.normalize("NFD", text)))
    text = fold_arabic_script(text.lower()).replace("’", "'")
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()
