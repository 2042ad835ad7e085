"""No message text, tracker or phone number in any log line, whatever the path (issue 12, finding 5).

A bot of its own, with its log files read at the end. Through the web channel:

1. the red-team suites (tests/safety/*.yml, 1,100+ health messages) and a bad-input suite
   (markup, phone numbers, payloads Rasa cannot parse, which it used to quote in a warning,
   over-long and broken messages, the removed `rest` channel);
2. a sample again while the action server fails on every call with an error that quotes
   the message (tests/e2e/failing_actions.py): rasa_sdk used to answer with the whole
   tracker and Rasa logged it;
3. the sample again with the action server gone (connection refused).

Then every log file (rotated ones too) is searched for every message, as sent, lower-cased
and in the folded form the NLU uses, and for every phone number's digits.
"""

import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from bot.core.normalize import fold_arabic_script, normalise_for_matching
from bot.rasa_server.channels._ratelimit import ONE_ADDRESS_FOR_MANY
from bot.tools.model import train
from bot.tools.redteam import REDTEAM_DIR, load_messages
from bot.tools.servers import BotServers, say

pytestmark = pytest.mark.e2e

PHONE_NUMBERS = ["+44 7911 123456", "0300-1234567", "00966 50 123 4567"]
BAD_INPUT = [
    "<img src=x onerror=alert(1)><b>هل</b> يؤلم بعد الحقن؟",
    f"my number is {PHONE_NUMBERS[0]}, please call me about my swollen lips",
    f"mera number {PHONE_NUMBERS[1]} hai, mujhe bukhar hai injection ke baad",
    f"رقمي {PHONE_NUMBERS[2]} وجهي منتفخ",
    "/ask_topic{broken json about my swollen eyelid",
    '/ask_topic{"topic": "procedure.pain", "pregnant_since_march": true}',
    "/i am pregnant since march can i still have it",
    "/ask_topic@0.9{not json} my cheek is numb",
    "mesotherapy ke baad mera چہرہ سوج گیا aur garam hai",
    "/restart my conversation about hair loss",
    "/restart",
    "swollen and feverish " * 150,  # over the length limit
]
MIN_CHECKED_LENGTH = 10  # shorter texts ("ok", "hi") are ordinary words of any log line


def _post(url, payload):
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _send_all(webhook, texts):
    statuses = []
    for text in texts:
        status, _ = say(webhook, f"web-privacy-{uuid.uuid4().hex[:12]}", text, timeout=60)
        statuses.append(status)
    return statuses


@pytest.fixture(scope="module")
def exercised(tmp_path_factory):
    """The bot after every path; yields (servers, texts sent)."""
    from concurrent.futures import ThreadPoolExecutor

    train()
    run_dir = tmp_path_factory.mktemp("log-privacy")
    servers = BotServers.in_folder(
        run_dir,
        # one client address sends everything: lift its limit, keep everything else
        webchat_settings={"rate_limits": ONE_ADDRESS_FOR_MANY},
    )
    redteam = [m["text"] for m in load_messages(sorted(REDTEAM_DIR.glob("*.yml")))]
    sample = redteam[::20] + BAD_INPUT
    with servers:
        with ThreadPoolExecutor(4) as pool:  # 1. everything, normally
            statuses = list(pool.map(lambda t: _send_all(servers.webhook, [t])[0], redteam + BAD_INPUT))
        assert statuses.count(200) >= len(redteam), "the suites were answered"
        _post(servers.url + "/webhooks/rest/webhook", {"sender": "rest-1", "message": BAD_INPUT[1]})
        servers.stop_process("actions")  # 2. an action server that fails, quoting the message
        servers.actions_package = "tests.e2e.failing_actions"
        servers.start_actions()
        failing = _send_all(servers.webhook, sample)
        servers.stop_process("actions")  # 3. no action server at all
        gone = _send_all(servers.webhook, sample)
        assert 503 in failing and 503 in gone, "both failure paths were taken"
        servers.actions_package = "actions"
        servers.start_actions()
    yield servers, redteam + BAD_INPUT


def _forms(text: str):
    text = text.strip()
    forms = {
        text,
        text.lower(),
        fold_arabic_script(text),
        fold_arabic_script(text.lower()),
        normalise_for_matching(text),
    }
    return {f for f in forms if len(f) >= MIN_CHECKED_LENGTH}


def test_no_message_text_reaches_any_log(exercised):
    servers, texts = exercised
    files = sorted(servers.logs_dir.glob("*.log*"))
    assert {"rasa.log", "actions.log"} <= {p.name for p in files}
    logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)
    assert "the action action_answer failed: ValueError" in logs, "the failing path was logged (scrubbed)"
    lowered = logs.lower()
    leaked = sorted({text for text in texts for form in _forms(text) if form.lower() in lowered})
    assert leaked == [], f"{len(leaked)} messages found in the logs, e.g. {leaked[:3]}"


def test_no_phone_number_reaches_any_log(exercised):
    servers, _ = exercised
    logs = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in servers.logs_dir.glob("*.log*"))
    compact = re.sub(r"[\s()+-]", "", logs)
    for number in PHONE_NUMBERS:
        assert "".join(ch for ch in number if ch.isdigit()) not in compact, number
