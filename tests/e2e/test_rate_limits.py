"""One client cannot slow the others down (issue 12, finding 6).

A bot of its own with the committed credentials.yml (so the committed limits). The
issue's floods, with bench/flood.py: 200 requests a second for 10 s from one
conversation, then from 1,000 conversations on one address, while a neighbour on
another address asks a question every second. `make`-independent figures: `python -m
bench.flood` prints the same measurement (README "Measured").
"""

import json
import sqlite3
import urllib.error
import urllib.request
import uuid

import pytest

from bench.flood import run_scenario
from bot.core.i18n import SLOW_DOWN, interface_text
from bot.tools.model import train
from bot.tools.servers import BotServers, say

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def limited_bot(tmp_path_factory):
    train()
    run_dir = tmp_path_factory.mktemp("rate-limits")
    with BotServers.in_folder(run_dir) as servers:
        yield servers


def _stored_user_messages(servers, sender):
    with sqlite3.connect(servers.tracker_db) as db:
        return db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
        ).fetchone()[0]


@pytest.mark.parametrize("one_sender", [True, False], ids=["one sender", "one address, 1000 senders"])
def test_a_flooder_gets_429s_and_a_neighbour_is_not_slowed(limited_bot, one_sender):
    result = run_scenario(limited_bot.webhook, one_sender=one_sender, rate=200, seconds=10)
    print("\n" + result.line())
    refused = result.flood_statuses.get("429", 0)
    assert refused >= 1800, result.flood_statuses
    assert result.flood_429_with_retry_after == refused, "every 429 says when to come back"
    assert set(result.flood_statuses) <= {"200", "429"}, "no 503, no reset"
    # the neighbour is never refused and never waits like before (31 s in the issue); the
    # p95 target (1 s) is measured and reported by `python -m bench.flood`, not asserted here
    assert result.neighbour_failures == 0 and result.neighbour_messages >= 8, result.neighbour_statuses
    assert result.neighbour_max_ms < 5000, result.line()
    if one_sender:  # a refused message is not stored; every accepted one is
        sender = result.flooder_replies[0][0]
        accepted = sum(1 for s, status in result.flooder_replies if status == 200)
        assert _stored_user_messages(limited_bot, sender) == accepted


@pytest.mark.parametrize(
    "locale, accept, lang", [("ar-SA", None, "ar"), (None, "ur-PK,ur;q=0.9", "ur"), (None, None, "en")]
)
def test_429_in_the_requests_language_with_retry_after(limited_bot, locale, accept, lang):
    sender, headers = f"web-{uuid.uuid4().hex}", {"Accept-Language": accept} if accept else {}
    answers = [
        say(limited_bot.webhook, sender, "ok", {"locale": locale} if locale else {}, headers=headers)
        for _ in range(15)
    ]
    refused = [body for status, body in answers if status == 429]
    assert refused, "over the conversation's burst"
    assert refused[0]["code"] == "rate_limited" and refused[0]["error"] == interface_text(lang, SLOW_DOWN)
    request = urllib.request.Request(
        limited_bot.webhook,
        data=json.dumps({"sender": sender, "message": "ok"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 429 and int(err.value.headers["Retry-After"]) >= 1
