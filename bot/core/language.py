"""Which language a message is written in, and which language the bot replies in.

The detector works on one chat message, however short: script first (Latin or
Arabic), then letters only one language uses (ٹ ڈ ڑ ں ے for Urdu, ة ى أ for Arabic),
then function words. Digits, emoji and punctuation carry no vote. Roman Urdu (Urdu in
Latin letters) is told apart from English by its function words, and is answered in Urdu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

from bot import LANGUAGES, RTL_LANGUAGES
from bot.core._yaml import read_yaml
from bot.core.normalize import ARABIC_PROCLITICS, fold_arabic_script, fold_unicode, normalise_for_matching

MARKERS_FILE = Path(__file__).with_name("language_markers.yml")

# Below this confidence a message does not change the conversation's language.
CONFIDENCE_THRESHOLD = 0.6

_ARABIC_LETTER = re.compile("[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile("[a-zA-Z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


@dataclass(frozen=True)
class Detection:
    """A detected language: `en`, `ar`, `ur`, `roman_ur`, or None (no language of its own)."""

    language: Optional[str]
    confidence: float

    @property
    def reply_language(self) -> Optional[str]:
        """The language to answer in: Roman Urdu is answered in Urdu script."""
        return "ur" if self.language == "roman_ur" else self.language

    @property
    def is_confident(self) -> bool:
        return self.language is not None and self.confidence >= CONFIDENCE_THRESHOLD


@dataclass(frozen=True)
class _Markers:
    roman_ur: frozenset
    en: frozenset
    en_loanwords: frozenset
    neutral: frozenset
    ambiguous: frozenset
    ar_words: frozenset
    ur_words: frozenset
    urdu_letters: dict
    arabic_letters: dict
    requests: dict


@lru_cache(maxsize=1)
def _markers() -> _Markers:
    raw = read_yaml(MARKERS_FILE)
    latin, arabic = raw["latin"], raw["arabic_script"]
    fold = lambda words: frozenset(normalise_for_matching(str(w)) for w in words)  # noqa: E731
    ur_words, ar_words = fold(arabic["ur"]), fold(arabic["ar"])
    return _Markers(
        roman_ur=fold(latin["roman_ur"]),
        en=fold(latin["en"]),
        en_loanwords=fold(latin["en_loanwords"]),
        neutral=fold(latin["neutral"]),
        ambiguous=fold(latin["ambiguous"]),
        # After folding some Urdu and Arabic words coincide (میں/مين); they vote for neither.
        ar_words=ar_words - ur_words,
        ur_words=ur_words - ar_words,
        urdu_letters=arabic["urdu_letters"],
        arabic_letters=arabic["arabic_letters"],
        requests={lang: fold(words) for lang, words in raw["requests"].items()},
    )


def _confidence(winner: float, loser: float) -> float:
    return round((winner - loser + 1) / (winner + loser + 2), 3)


def _detect_arabic_script(text: str, words: list) -> Detection:
    markers = _markers()
    ur = sum(markers.urdu_letters.get(ch, 0) for ch in text)
    ar = sum(markers.arabic_letters.get(ch, 0) for ch in text)
    for word in words:
        folded = fold_arabic_script(word)
        if folded in markers.ur_words:
            ur += 2
        # A word typed with Urdu-keyboard letters (علیکم) is an Urdu speaker's, even
        # when it is an Arabic word.
        elif any(markers.urdu_letters.get(ch, 0) >= 2 for ch in word):
            continue
        elif folded in markers.ar_words:
            ar += 2
        elif folded.startswith("ال") and len(folded) > 3:
            ar += 1  # the Arabic article on a longer word: common in Arabic, rare in Urdu
    if ur == ar:
        # Arabic script with no telling mark: Arabic is the likelier, but only just.
        return Detection("ar", 0.5)
    lang = "ur" if ur > ar else "ar"
    return Detection(lang, max(_confidence(max(ur, ar), min(ur, ar)), 0.55))


def _detect_latin(words: list) -> Detection:
    markers = _markers()
    lowered = [normalise_for_matching(w) for w in words]
    meaningful = [w for w in lowered if w not in markers.neutral]
    if not meaningful:
        return Detection(None, 0.0)
    ur = sum(w in markers.roman_ur and w not in markers.ambiguous for w in meaningful)
    en = sum(w in markers.en and w not in markers.ambiguous for w in meaningful)
    en += 0.3 * sum(w in markers.en_loanwords and w not in markers.en for w in meaningful)
    if ur == en == 0:
        if all(w in markers.ambiguous for w in meaningful):
            return Detection(None, 0.0)
        # Latin words we do not know: most likely English, but not sure enough to switch.
        return Detection("en", 0.5)
    if ur == en:
        return Detection("roman_ur", 0.5)
    lang = "roman_ur" if ur > en else "en"
    return Detection(lang, _confidence(max(ur, en), min(ur, en)))


def detect_language(text: str) -> Detection:
    """Detect the language of one message; see `Detection`."""
    text = fold_unicode(text or "")
    arabic_letters = len(_ARABIC_LETTER.findall(text))
    latin_letters = len(_LATIN_LETTER.findall(text))
    if arabic_letters == 0 and latin_letters == 0:
        return Detection(None, 0.0)
    if arabic_letters >= latin_letters:
        words = [w for w in _WORD.findall(text) if _ARABIC_LETTER.search(w)]
        return _detect_arabic_script(text, words)
    return _detect_latin(_WORD.findall(text))


def requested_language(text: str) -> Optional[str]:
    """The language a person asks for by name ("English please", "عربي", "urdu mein"), if any."""
    words = set(normalise_for_matching(text).split())
    # Arabic attaches "with/in the" to the word: بالانجليزي, بالعربي.
    words |= {
        w[len(p) :] for w in words for p in ARABIC_PROCLITICS if w.startswith(p) and len(w) > len(p) + 2
    }
    asked = [lang for lang, names in _markers().requests.items() if words & names]
    return asked[0] if len(asked) == 1 else None


def language_from_locale(locale: Optional[str]) -> Optional[str]:
    """The supported language of a BCP 47 locale such as `ar-SA`, or None."""
    if not locale or not isinstance(locale, str):
        return None
    lang = locale.replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else None


def choose_reply_language(
    text: str,
    current: Optional[str],
    locale_hint: Optional[str] = None,
    detection: Optional[Detection] = None,
) -> str:
    """The language to reply in.

    What the person writes decides. A message with no language of its own ("ok", "👍")
    or a low-confidence one keeps the conversation's language, except that a message in
    the other script always moves the reply to that script: an Arabic-script message is
    never answered in English, nor a Latin one in Arabic-script text unless it is Roman Urdu.
    """
    detection = detection if detection is not None else detect_language(text)
    current = current if current in LANGUAGES else None
    if detection.is_confident:
        return detection.reply_language
    if detection.language is not None:
        if current is None:
            return detection.reply_language
        if direction(current) != direction(detection.reply_language) and detection.language != "en":
            return detection.reply_language
    return current or language_from_locale(locale_hint) or detection.reply_language or "en"


def direction(lang: str) -> str:
    """`rtl` for Arabic and Urdu, `ltr` otherwise."""
    return "rtl" if lang in RTL_LANGUAGES else "ltr"
