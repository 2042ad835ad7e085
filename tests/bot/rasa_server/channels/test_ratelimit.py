"""The web channel's rate limits without a server: buckets, settings, addresses, the 429 (finding 6)."""

import json

import pytest

from bot import LANGUAGES
from bot.core.i18n import SLOW_DOWN, interface_text
from bot.rasa_server.channels._ratelimit import (
    DEFAULT_CLIENT_ADDRESS,
    DEFAULT_CONVERSATION,
    Limit,
    LocalBuckets,
    RateLimits,
    client_address,
    request_language,
    too_many_requests,
)


def test_a_bucket_allows_its_burst_then_its_rate():
    buckets, limit = LocalBuckets(), Limit(burst=3, per_minute=60)
    assert [buckets.take([("c", limit)], now=0.0) for _ in range(3)] == [0, 0, 0]
    wait = buckets.take([("c", limit)], now=0.0)
    assert wait == pytest.approx(1.0), "one token a second: the next in 1 s"
    assert buckets.take([("c", limit)], now=0.5) == pytest.approx(0.5), "a refused request takes nothing"
    assert buckets.take([("c", limit)], now=1.0) == 0
    assert buckets.take([("other", limit)], now=1.0) == 0, "each key has its own bucket"


def test_both_buckets_or_neither():
    buckets = LocalBuckets()
    address, conversation = Limit(burst=2, per_minute=60), Limit(burst=5, per_minute=60)
    assert buckets.take([("a", address), ("c1", conversation)], now=0) == 0
    assert buckets.take([("a", address), ("c2", conversation)], now=0) == 0
    assert buckets.take([("a", address), ("c3", conversation)], now=0) > 0, "the address is spent"
    # c3 was refused, so its own bucket is still full: it gets its whole burst later
    assert [buckets.take([("c3", conversation)], now=0) for _ in range(5)] == [0] * 5


def test_the_number_of_buckets_is_bounded():
    buckets = LocalBuckets(max_buckets=100)
    for i in range(1000):
        buckets.take([(f"c{i}", DEFAULT_CONVERSATION)], now=0)
    assert len(buckets._buckets) == 100


def test_settings_from_credentials():
    assert RateLimits.from_credentials(None) == RateLimits()
    assert (RateLimits().conversation, RateLimits().client_address) == (
        DEFAULT_CONVERSATION,
        DEFAULT_CLIENT_ADDRESS,
    )
    limits = RateLimits.from_credentials(
        {"conversation": {"burst": 3, "per_minute": 10}, "trusted_proxies": 1}
    )
    assert limits.conversation == Limit(3, 10.0) and limits.client_address == DEFAULT_CLIENT_ADDRESS
    assert limits.trusted_proxies == 1
    assert RateLimits.from_credentials(False).enabled is False


def test_the_committed_limits_are_the_documented_defaults():
    import yaml

    from bot import PROJECT_ROOT

    raw = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text())[
        "bot.rasa_server.channels.webchat.WebchatInput"
    ]
    assert RateLimits.from_credentials(raw["rate_limits"]) == RateLimits()


@pytest.mark.parametrize(
    "raw",
    [
        {"conversation": {"burst": 0, "per_minute": 1}},
        {"conversation": {"burst": 2, "per_minute": -1}},
        {"client_address": "lots"},
        {"trusted_proxies": 9},
        "yes",
    ],
)
def test_wrong_settings_stop_the_channel_at_start(raw):
    with pytest.raises(ValueError, match="rate_limits"):
        RateLimits.from_credentials(raw)


@pytest.mark.parametrize(
    "peer, forwarded, proxies, expected",
    [
        ("203.0.113.7", None, 0, "203.0.113.7"),
        ("127.0.0.1", "198.51.100.2", 0, "127.0.0.1"),  # not behind a proxy: the header is the client's word
        ("127.0.0.1", "198.51.100.2", 1, "198.51.100.2"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.2", 1, "198.51.100.2"),  # a forged entry on the left is ignored
        ("127.0.0.1", "6.6.6.6", 2, "127.0.0.1"),  # fewer entries than proxies: something is wrong
        ("127.0.0.1", "garbage", 1, "127.0.0.1"),
        ("2001:db8:1:2:3:4:5:6", None, 0, "2001:db8:1:2::/64"),  # one household's IPv6 prefix
        ("::ffff:203.0.113.7", None, 0, "203.0.113.7"),
    ],
)
def test_the_client_address(peer, forwarded, proxies, expected):
    assert client_address(peer, forwarded, proxies) == expected


@pytest.mark.parametrize(
    "locale, accept, lang",
    [
        ("ar-SA", None, "ar"),
        ("ur_PK", "en", "ur"),
        (None, "fr-FR, ur;q=0.8, en;q=0.5", "ur"),
        (None, "en;q=0.2, ar;q=0.9", "ar"),
        (None, None, "en"),
        ("fr", "de", "en"),
    ],
)
def test_the_language_of_the_error(locale, accept, lang):
    assert request_language(locale, accept) == lang


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_429_says_slow_down_in_the_requests_language(lang):
    answer = too_many_requests(2.3, lang)
    body = json.loads(answer.body)
    assert answer.status == 429 and answer.headers["Retry-After"] == "3"
    assert body["code"] == "rate_limited" and body["error"] == interface_text(lang, SLOW_DOWN)
    if lang != "en":
        assert body["error"] != SLOW_DOWN, "translated in the catalog"


def test_one_address_gets_a_bounded_share_of_the_servers_attention():
    from bot.rasa_server.channels._ratelimit import RateLimiter

    limiter = RateLimiter(RateLimits(in_flight_per_address=2))
    with limiter.in_flight("a") as first, limiter.in_flight("a") as second:
        with limiter.in_flight("a") as third, limiter.in_flight("b") as other:
            assert (first, second, third, other) == (True, True, False, True)
    with limiter.in_flight("a") as again:
        assert again, "the share is given back when a message is answered"
    assert limiter._in_flight == {}
    assert RateLimits.from_credentials({"in_flight_per_address": 7}).in_flight_per_address == 7
    with pytest.raises(ValueError, match="in_flight_per_address"):
        RateLimits.from_credentials({"in_flight_per_address": 0})
