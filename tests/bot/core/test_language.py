"""Which language a message is in, and which language the bot answers in."""

from collections import Counter

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.core.language import choose_reply_language, detect_language, direction, requested_language

LABELLED = PROJECT_ROOT / "data" / "eval" / "language_id.yml"


@pytest.mark.parametrize(
    "text, lang",
    [
        ("does it hurt?", "en"),
        ("How many sessions will I need for hair loss", "en"),
        ("kya dard hota hai", "roman_ur"),
        ("mesotherapy se baal wapas aa jatay hain?", "roman_ur"),
        ("هل الميزوثيرابي مؤلم؟", "ar"),
        ("شكد سعر الجلسه", "ar"),
        ("کیا میزوتھراپی میں درد ہوتا ہے؟", "ur"),
        ("كيا يه محفوظ هے", "ur"),  # Urdu typed on an Arabic keyboard
    ],
)
def test_detects_the_language(text, lang):
    assert detect_language(text).language == lang


@pytest.mark.parametrize("text", ["ok", "👍", "?", "123", "...", "  "])
def test_no_language_of_its_own(text):
    assert detect_language(text).language is None


def test_accuracy_on_the_labelled_set():
    messages = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))["messages"]
    assert len(messages) >= 200
    right = Counter(
        m["lang"] for m in messages if (detect_language(m["text"]).language or "none") == m["lang"]
    )
    total = Counter(m["lang"] for m in messages)
    accuracy = sum(right.values()) / sum(total.values())
    print({lang: f"{right[lang]}/{n}" for lang, n in total.items()}, f"overall {accuracy:.3f}")
    assert accuracy >= 0.9


def test_roman_urdu_is_answered_in_urdu():
    assert choose_reply_language("dard hota hai kya", None) == "ur"


def test_a_message_with_no_language_keeps_the_conversation_language():
    for text in ("ok", "👍", "?"):
        assert choose_reply_language(text, "ar") == "ar"
        assert choose_reply_language(text, "ur") == "ur"


def test_an_arabic_script_message_is_never_answered_in_english():
    assert choose_reply_language("ميزو", "en") in ("ar", "ur")
    assert choose_reply_language("هل يؤلم", "en") == "ar"


def test_the_locale_hint_only_helps_when_nothing_else_does():
    assert choose_reply_language("ok", None, "ar-SA") == "ar"
    assert choose_reply_language("does it hurt?", None, "ar-SA") == "en"
    assert choose_reply_language("👍", None, "fr-FR") == "en"


@pytest.mark.parametrize(
    "text, lang",
    [
        ("English please", "en"),
        ("عربي", "ar"),
        ("اردو", "ur"),
        ("urdu mein baat karo", "ur"),
        ("بالانجليزي لو سمحت", "en"),
        ("can you speak arabic", "ar"),
        ("انگریزی میں", "en"),
        ("does it hurt?", None),
    ],
)
def test_requested_language(text, lang):
    assert requested_language(text) == lang


def test_direction():
    assert [direction(x) for x in ("en", "ar", "ur")] == ["ltr", "rtl", "rtl"]
