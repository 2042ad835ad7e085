"""The held-out sets stay held out: no test message is also a training example."""

from pathlib import Path

import yaml

from bot import PROJECT_ROOT
from bot.core.normalize import normalise_for_matching


def _examples(path: Path):
    for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
        for line in (block.get("examples") or "").splitlines():
            if line.strip().startswith("- "):
                yield normalise_for_matching(line.strip()[2:])


def test_no_held_out_message_is_trained_on():
    held_out = {
        t for path in (PROJECT_ROOT / "data" / "eval" / "held_out").glob("*.yml") for t in _examples(path)
    }
    trained = {t for path in (PROJECT_ROOT / "data" / "nlu").rglob("*.yml") for t in _examples(path)}
    overlap = held_out & trained
    assert (
        not overlap
    ), f"{len(overlap)} held-out messages are also training examples, e.g. {sorted(overlap)[:5]}"
