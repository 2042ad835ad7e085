"""What `make redteam` and `make answer-eval` share: messages sent through the web channel of
a running bot (or of one started for the run), and a JSON report beside the printed one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Dict, TypeVar

Report = TypeVar("Report")

WEBHOOK = "/webhooks/webchat/webhook"


def through_web_channel(send: Callable[[str], Report], url: str, tracker_db: Path) -> Report:
    """`send(webhook URL)` on the web channel of the bot at `url`; without one, on a bot
    started here (trained first if stale, conversations kept in `tracker_db`) whose rate
    limit is lifted for the one client address that sends every message."""
    if url:
        return send(url.rstrip("/") + WEBHOOK)
    from bot.rasa_server.channels._ratelimit import ONE_ADDRESS_FOR_MANY
    from bot.tools.model import train
    from bot.tools.servers import BotServers, free_port

    train()
    with BotServers(
        rasa_port=free_port(),
        action_port=free_port(),
        tracker_db=tracker_db,
        webchat_settings={"rate_limits": ONE_ADDRESS_FOR_MANY},
    ) as servers:
        return send(servers.webhook)


def save_report(report: Dict[str, dict], out: Path, show: Callable[[Dict[str, dict]], None]) -> int:
    """Write the report to `out` (JSON), print it with `show`, and say where the details are."""
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    show(report)
    print(f"details: {out}")
    return 0
