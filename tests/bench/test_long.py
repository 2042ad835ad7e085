"""bench/long.py: the windows of one long conversation that the target compares."""

from bench.long import LongConversation


def test_first_and_last_twenty_turns_and_their_ratio():
    latency = [10.0] * 20 + [99.0] * 260 + [12.0] * 20
    result = LongConversation(turns=300, errors=0, latency_ms=latency, rasa_cpu_ms=8.04, actions_cpu_ms=1.0)
    summary = result.summary()
    assert summary["median_turns_1_20_ms"] == 10.0
    assert summary["median_turns_281_300_ms"] == 12.0
    assert summary["last_over_first"] == 1.2
    assert summary["rasa_cpu_ms_per_message"] == 8.0
