"""Only the bot's own exact button payloads skip understanding and the safety decision."""

import pytest

from bot.core.payloads import as_user_text, button_press, payload


def test_the_bots_own_payloads_are_buttons():
    assert button_press(payload("ask_topic", "procedure.pain")).value == "procedure.pain"
    assert button_press('/switch_language{"language":"ur"}').intent == "switch_language"


@pytest.mark.parametrize(
    "text",
    [
        '/ask_topic{"topic":"procedure.pain"} my face is swollen',  # words after a payload
        '/ask_topic{"topic": "procedure.pain"}',  # another spelling of the same payload
        '/ask_topic{"topic":"nope"}',  # an unknown topic
        '/ask_topic{"topic":"procedure.pain","x":1}',  # more than the one entity
        "/restart",
        "/session_start",
        "/report_adverse_reaction",
        "/greet",
        '/switch_language{"language":"fr"}',
    ],
)
def test_anything_else_is_not_a_button(text):
    assert button_press(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/my face is swollen", "my face is swollen"),
        ("//  my face is swollen", "my face is swollen"),
        (
            '/ask_topic{"topic":"procedure.pain"} my face is swollen',
            'ask_topic{"topic":"procedure.pain"} my face is swollen',
        ),
        ("/restart", "restart"),
        ("\\ask_topic", "ask_topic"),
        ("does it hurt? /x", "does it hurt? /x"),
        ('/ask_topic{"topic":"procedure.pain"}', '/ask_topic{"topic":"procedure.pain"}'),
    ],
)
def test_a_persons_text_never_starts_with_a_slash(text, expected):
    assert as_user_text(text) == expected
