"""bot/core/safety/_matching.py: whole-word term lists, the way the guard reads a message."""

from bot.core.safety._matching import compile_terms, find, prepare

TERMS = ["swollen", "swollen lips", "can't breathe", "short of breath*", "rash*", "تورم", "sujan"]


def _spans(text: str):
    return [(h.text, h.start, h.end) for h in find(compile_terms(TERMS), prepare(text), "sign")]


def test_whole_words_longest_first():
    assert _spans("my swollen lips hurt") == [("swollen lips", 1, 3)]
    assert _spans("swollen eyes") == [("swollen", 0, 1)]
    assert _spans("unswollen") == [] and _spans("swollenness") == []


def test_a_star_allows_any_ending_of_the_last_word():
    assert _spans("a rashy patch") == [("rashy", 1, 2)]
    assert _spans("I am short of breathing") == [("short of breathing", 2, 5)]
    assert _spans("crash") == []


def test_possessive_proclitic_and_clause_boundaries():
    assert _spans("the swollen's edge") == [("swollen's", 1, 2)]
    assert [s[0] for s in _spans("والتورم شديد")] == ["والتورم"]  # وال + تورم
    assert _spans("I can't, breathe") == []  # a comma ends the phrase


def test_the_same_word_is_read_right_in_every_context():
    """What may start at a word is kept per word: each later message must still be read afresh."""
    matcher = compile_terms(TERMS)
    texts = ["swollen lips", "swollen", "lips swollen", "swollen lips swollen", "sujan hai", "swollen lip"]
    first = [[(h.start, h.end) for h in find(matcher, prepare(t), "sign")] for t in texts]
    again = [[(h.start, h.end) for h in find(matcher, prepare(t), "sign")] for t in reversed(texts)]
    assert first == list(reversed(again))
    assert first == [[(0, 2)], [(0, 1)], [(1, 2)], [(0, 2), (2, 3)], [(0, 1)], [(0, 1)]]
