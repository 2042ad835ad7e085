"""bench/profile.py: py-spy's collapsed stacks summarised as the functions holding the time."""

from bench.profile import top_functions
from bot import PROJECT_ROOT

# py-spy --format raw: one line per distinct stack, root first, then the sample count.
COLLAPSED = f"""\
process 1:"python -m bot.rasa_server";thread (0x1);wait (bot/core/_lifeline.py:40) 500
process 1:"python -m bot.rasa_server";thread (0x2);serve (/x/site-packages/sanic/server/runners.py:10);handle_request (handle_request);handle_message (/x/site-packages/rasa/core/processor.py:1);_retrieve (/x/site-packages/rasa/core/tracker_store.py:9) 60
process 1:"python -m bot.rasa_server";thread (0x2);serve (/x/site-packages/sanic/server/runners.py:10);handle_request (handle_request);handle_message (/x/site-packages/rasa/core/processor.py:1);past_states (/x/site-packages/rasa/shared/core/trackers.py:5) 30
process 1:"python -m bot.rasa_server";thread (0x2);serve (/x/site-packages/sanic/server/runners.py:10);handle_request (handle_request);_words ({PROJECT_ROOT}/bot/rasa_server/nlu/unknown_words.py:31) 10
"""


def test_shares_count_only_the_time_spent_answering_messages():
    top = top_functions(COLLAPSED, n=3)
    assert top["self"] == [
        ("_retrieve (rasa/core/tracker_store.py)", 0.6),
        ("past_states (rasa/shared/core/trackers.py)", 0.3),
        ("_words (bot/rasa_server/nlu/unknown_words.py)", 0.1),
    ]
    inclusive = dict(top_functions(COLLAPSED, n=10)["inclusive"])
    assert inclusive["handle_message (rasa/core/processor.py)"] == 0.9
    assert "wait (bot/core/_lifeline.py)" not in inclusive  # an idle thread is not the bot's cost


def test_nothing_sampled_gives_empty_lists():
    assert top_functions("", n=5) == {"inclusive": [], "self": []}
