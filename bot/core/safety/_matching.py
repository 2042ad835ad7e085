"""How the guard reads a message and its lexicon: one normal form, whole-word term lists.

A message is normalised the way every term is (bot.core.normalize), with clause boundaries
kept as tokens so that a negation does not reach across a full stop or a "but", and a
multi-word term never matches across a comma.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, List, Optional, Tuple

from bot.core.normalize import ARABIC_PROCLITICS, ARABIC_SCRIPT, fold_unicode, normalise_for_matching

# Clause boundaries survive normalisation as these tokens (punctuation itself does not).
COMMA, STOP = "zzcomma", "zzstop"
_STOPS = re.compile(r"[.?!؟۔;:\n…]+")
_COMMAS = re.compile(r"[,،]+")


def prepare(text: str) -> str:
    """The message in the lexicon's normal form, with `zzcomma` / `zzstop` boundaries."""
    text = fold_unicode(text or "")
    text = _STOPS.sub(f" {STOP} ", text)
    text = _COMMAS.sub(f" {COMMA} ", text)
    # Quotes around a word ("my eye feels 'funny'") are not part of it; "can't" keeps its own.
    return " ".join(w.strip("'") or w for w in normalise_for_matching(text).split(" ")).strip()


@lru_cache(maxsize=1 << 16)
def first_forms(word: str) -> Tuple[str, ...]:
    """The forms a term's first word may take in `word`: itself, without "'s", without an
    Arabic proclitic. Worked out once per word: the guard's ~40 term lists ask for every word."""
    forms = [word]
    if word.endswith("'s"):
        forms.append(word[:-2])
    if ARABIC_SCRIPT.match(word):
        forms += [word[len(p) :] for p in ARABIC_PROCLITICS if word.startswith(p) and len(word) > len(p) + 1]
    return tuple(forms)


_WORDS_KEPT = 1 << 16  # per term list: plenty for every word the bot sees in a day


class TermMatcher:
    """Whole-word matching of a term list, word by word: a trie keyed on the first word.

    Same meaning as one big regular expression of the terms (whole words, `*` = any ending
    of the last word, an Arabic proclitic allowed on the first word, an English possessive
    "'s" allowed), but it costs a few dictionary lookups per word of the message instead of
    trying every term at every position: a message is read in well under a millisecond
    however long the lexicon grows.
    """

    def __init__(self, terms: Iterable) -> None:
        self._exact: dict = {}  # first word -> [(rest words, wildcard last, term)]
        self._prefix: dict = {}  # one-word wildcard terms: prefix -> term
        self._prefix_lengths: set = set()
        self._by_word: dict = {}  # word -> what may start there (`_starts`)
        for term in terms:
            norm = normalise_for_matching(str(term).rstrip("*"))
            if not norm:
                continue
            words = tuple(norm.split(" "))
            wildcard = str(term).rstrip().endswith("*")
            if wildcard and len(words) == 1:
                self._prefix[words[0]] = norm
                self._prefix_lengths.add(len(words[0]))
            else:
                self._exact.setdefault(words[0], []).append((words[1:], wildcard, norm))
        for entries in self._exact.values():
            entries.sort(key=lambda e: -len(e[0]))  # longest first

    def _starts(self, word: str) -> Tuple[tuple, bool]:
        """What may start at `word`: the multi-word entries of all its first forms, and whether
        a one-word term (or a `*` prefix) matches it. Worked out once per word and list."""
        found = self._by_word.get(word)
        if found is None:
            entries, whole = [], False
            for form in first_forms(word):
                for rest, wildcard, _ in self._exact.get(form, ()):
                    if rest:
                        entries.append((rest, wildcard))
                    else:
                        whole = True
                if not whole and any(
                    form[:n] in self._prefix for n in self._prefix_lengths if len(form) >= n
                ):
                    whole = True
            found = (tuple(entries), whole)
            if len(self._by_word) < _WORDS_KEPT:
                self._by_word[word] = found
        return found

    @staticmethod
    def _last_ok(word: str, want: str, wildcard: bool) -> bool:
        if wildcard:
            return word.startswith(want)
        return word == want or word == want + "'s"

    def match_at(self, words: List[str], i: int) -> int:
        """The end index of the longest term starting at word i, or -1."""
        entries, whole = self._starts(words[i])
        best = i + 1 if whole else -1
        for rest, wildcard in entries:
            end = i + 1 + len(rest)
            if end > len(words) or end <= best:
                continue
            if all(words[i + 1 + k] == rest[k] for k in range(len(rest) - 1)) and self._last_ok(
                words[end - 1], rest[-1], wildcard
            ):
                best = end
        return best

    def spans(self, words: List[str]) -> List[tuple]:
        """Leftmost-longest, non-overlapping matches as (start, end) word spans."""
        out, i = [], 0
        while i < len(words):
            end = self.match_at(words, i)
            if end > i:
                out.append((i, end))
                i = end
            else:
                i += 1
        return out


def compile_terms(terms: Iterable) -> Optional[TermMatcher]:
    """A matcher for a term list, or None when it is empty."""
    matcher = TermMatcher(terms)
    return matcher if (matcher._exact or matcher._prefix) else None


def flatten(by_language: Optional[dict]) -> List[str]:
    """Every term of a `{language: [terms]}` mapping (all languages are matched everywhere)."""
    return [str(t) for terms in (by_language or {}).values() for t in (terms or [])]


def word_set(by_language: Optional[dict]) -> frozenset:
    return frozenset(normalise_for_matching(t) for t in flatten(by_language))


@dataclass(frozen=True)
class Hit:
    """One term found in a message: its text, word span and the list it came from."""

    text: str
    start: int  # index of the first word
    end: int  # index after the last word
    kind: str
    concept: str = ""


def find(matcher: Optional[TermMatcher], text: str, kind: str, concept: str = "") -> List[Hit]:
    """The hits of a term list in a prepared text, with their word positions."""
    if matcher is None or not text:
        return []
    words = text.split(" ")
    return [Hit(" ".join(words[a:b]), a, b, kind, concept) for a, b in matcher.spans(words)]


def blank(matcher: Optional[TermMatcher], text: str, replace) -> str:
    """The text with each match replaced by `replace(matched words)`."""
    if matcher is None or not text:
        return text
    words = text.split(" ")
    out, last = [], 0
    for a, b in matcher.spans(words):
        out += words[last:a] + [replace(words[a:b])]
        last = b
    return " ".join(out + words[last:])
