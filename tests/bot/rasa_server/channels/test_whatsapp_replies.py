"""WhatsApp's limits: splitting long text, cutting titles, buttons, lists and numbered menus."""

import re

import pytest

from bot.core.i18n import NUMBERED_CHOICE_PROMPT, TOPICS_BUTTON, interface_text
from bot.core.replies import topic_payload
from bot.rasa_server.channels._whatsapp_replies import (
    build_messages,
    cut_title,
    number_choice,
    presentation,
    split_text,
    units,
)

SENTENCE_END = re.compile(r"[.!?؟۔]$")


def _flat(text):
    return " ".join(text.split())


def _buttons(n, title="Topic {i}"):
    return [{"title": title.format(i=i), "payload": topic_payload(f"topic.t{i}")} for i in range(1, n + 1)]


def _en(msgid):
    return interface_text("en", msgid)


# -- splitting -----------------------------------------------------------------------------

ENGLISH = "Mesotherapy uses tiny injections. " * 200
ARABIC = "الميزوثيرابي علاج بحقن صغيرة جدًا تحت الجلد. هل يؤلم؟ يشعر معظم الناس بوخز خفيف فقط. " * 80
URDU = "میزوتھراپی میں جلد کے نیچے بہت چھوٹے انجکشن لگائے جاتے ہیں۔ کیا اس میں درد ہوتا ہے؟ " * 80


@pytest.mark.parametrize("text", [ENGLISH, ARABIC, URDU], ids=["en", "ar", "ur"])
def test_long_text_is_split_at_4096_on_sentence_boundaries(text):
    assert units(text) > 4096
    chunks = split_text(text)
    assert len(chunks) >= 2
    assert all(units(c) <= 4096 for c in chunks)
    assert all(SENTENCE_END.search(c) for c in chunks), [c[-20:] for c in chunks]
    assert _flat(" ".join(chunks)) == _flat(text)


def test_a_short_text_is_one_chunk():
    assert split_text("  Hello.  ") == ["Hello."]
    assert split_text("") == []


def test_paragraphs_are_preferred_to_sentences_unless_the_chunk_would_be_short():
    first = "First paragraph, sentence one. Sentence two is here. And three."
    text = first + "\n\n" + "Second paragraph. " * 10
    assert split_text(text, limit=100)[0] == first
    # A paragraph break early in the window would make a needlessly short message.
    assert split_text("Short.\n\n" + "Second paragraph. " * 10, limit=100)[0].startswith("Short.\n\nSecond")


def test_urdu_full_stop_and_arabic_question_mark_end_sentences():
    urdu = "یہ پہلا جملہ ہے۔ " * 12
    assert all(c.endswith("۔") for c in split_text(urdu, limit=60))
    arabic = "هل هذا مؤلم؟ " * 12
    assert all(c.endswith("؟") for c in split_text(arabic, limit=50))


def test_without_sentence_ends_text_is_cut_between_words():
    text = " ".join(["کلمه"] * 100)
    chunks = split_text(text, limit=50)
    assert all(units(c) <= 50 for c in chunks)
    assert all(w == "کلمه" for c in chunks for w in c.split())


def test_a_hard_cut_never_separates_a_letter_from_its_vowel_marks():
    text = "بِسْمِ" * 40  # one "word" with harakat, longer than the limit
    for limit in range(10, 30):
        chunks = split_text(text, limit=limit)
        assert "".join(chunks) == text
        assert all(units(c) <= limit for c in chunks)
        assert not any(c[0] in "\u0650\u0652" for c in chunks), "a chunk starts with a vowel mark"


def test_emoji_count_as_two_units_and_are_not_broken():
    text = "😀" * 3000
    chunks = split_text(text)
    assert all(units(c) <= 4096 for c in chunks) and "".join(chunks) == text


# -- titles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title, limit, expected",
    [
        ("Recovery time", 20, "Recovery time"),
        ("Who should not have it at all", 20, "Who should not have…"),
        ("Who should not have it at all", 24, "Who should not have it…"),
        ("Supercalifragilisticexpialidocious", 20, "Supercalifragilisti…"),
        ("كم جلسة أحتاج للحصول على نتيجة؟", 20, "كم جلسة أحتاج…"),
        ("کتنے سیشن درکار ہوتے ہیں، اور کب تک؟", 24, "کتنے سیشن درکار ہوتے…"),
    ],
)
def test_titles_are_cut_on_a_word_boundary(title, limit, expected):
    cut = cut_title(title, limit)
    assert cut == expected and units(cut) <= limit


# -- buttons, lists, numbered menus ----------------------------------------------------------


@pytest.mark.parametrize(
    "count, shown",
    [
        (0, "none"),
        (1, "buttons"),
        (3, "buttons"),
        (4, "list"),
        (10, "list"),
        (11, "numbered"),
        (25, "numbered"),
    ],
)
def test_how_many_choices_decides_how_they_are_shown(count, shown):
    assert presentation(_buttons(count)) == shown


def test_up_to_three_choices_are_reply_buttons():
    buttons = _buttons(2) + [{"title": "A title far longer than twenty", "payload": topic_payload("x.y")}]
    [message] = build_messages("Does it hurt? A little.", buttons, _en)
    interactive = message["interactive"]
    assert message["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["body"]["text"] == "Does it hurt? A little."
    replies = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [r["id"] for r in replies] == [b["payload"] for b in buttons]
    assert [r["title"] for r in replies] == ["Topic 1", "Topic 2", "A title far longer…"]


def test_four_to_ten_choices_are_a_list_with_the_full_title_as_description():
    long_title = {"title": "A really long topic title for a list row", "payload": topic_payload("x.y")}
    buttons = _buttons(9) + [long_title]
    [message] = build_messages("Pick one.", buttons, lambda m: interface_text("ar", m))
    interactive = message["interactive"]
    assert interactive["type"] == "list" and interactive["body"]["text"] == "Pick one."
    assert interactive["action"]["button"] == interface_text("ar", TOPICS_BUTTON)
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [b["payload"] for b in buttons]
    assert rows[-1] == {
        "id": topic_payload("x.y"),
        "title": "A really long topic…",
        "description": "A really long topic title for a list row",
    }
    assert all(units(r["title"]) <= 24 and "description" not in r for r in rows[:-1])


def test_more_than_ten_choices_are_a_numbered_menu_in_the_message_language():
    messages = build_messages("Topics we cover.", _buttons(12), lambda m: interface_text("ur", m))
    assert [m["type"] for m in messages] == ["text"]
    body = messages[0]["text"]["body"]
    assert body.startswith("Topics we cover.\n\n" + interface_text("ur", NUMBERED_CHOICE_PROMPT))
    assert "\n1. Topic 1\n" in body and body.endswith("\n12. Topic 12")


def test_titles_that_would_be_the_same_once_cut_fall_back_to_a_form_that_keeps_them_apart():
    buttons = [
        {"title": "Side effects of mesotherapy on the face", "payload": topic_payload("a")},
        {"title": "Side effects of mesotherapy on the scalp", "payload": topic_payload("b")},
    ]
    assert cut_title(buttons[0]["title"], 24) == cut_title(buttons[1]["title"], 24)
    assert presentation(buttons) == "numbered"
    [message] = build_messages("Which one?", buttons, _en)
    assert (
        "1. Side effects of mesotherapy on the face\n2. Side effects of mesotherapy on the scalp"
        in message["text"]["body"]
    )
    assert number_choice("2", buttons) == topic_payload("b")


def test_a_long_answer_with_buttons_puts_the_buttons_on_the_last_part():
    text = "A sentence of the answer. " * 300  # about 7800 characters
    messages = build_messages(text, _buttons(2), _en)
    assert [m["type"] for m in messages[:-1]] == ["text"] * (len(messages) - 1)
    last = messages[-1]["interactive"]
    assert last["type"] == "button" and units(last["body"]["text"]) <= 1024
    bodies = [m["text"]["body"] for m in messages[:-1]] + [last["body"]["text"]]
    assert all(units(b) <= 4096 for b in bodies) and _flat(" ".join(bodies)) == _flat(text)


def test_a_lower_text_limit_is_respected():
    messages = build_messages("Short sentence here. " * 40, _buttons(5), _en, text_limit=200)
    bodies = [
        m["text"]["body"] if m["type"] == "text" else m["interactive"]["body"]["text"] for m in messages
    ]
    assert len(bodies) > 1 and all(units(b) <= 200 for b in bodies)


def test_no_text_and_no_buttons_sends_nothing():
    assert build_messages("   ", [], _en) == []


@pytest.mark.parametrize("typed, index", [("3", 3), (" 12 ", 12), ("3.", 3), ("٣", 3), ("۱۲", 12), ("1)", 1)])
def test_a_number_picks_from_a_numbered_menu(typed, index):
    buttons = _buttons(12)
    assert number_choice(typed, buttons) == buttons[index - 1]["payload"]


@pytest.mark.parametrize("typed", ["0", "13", "-1", "3 sessions", "three", "", "1234"])
def test_anything_else_is_not_a_choice(typed):
    assert number_choice(typed, _buttons(12)) is None


def test_a_number_is_only_a_choice_after_a_numbered_menu():
    assert number_choice("2", _buttons(3)) is None and number_choice("2", []) is None
