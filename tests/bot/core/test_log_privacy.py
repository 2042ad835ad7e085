"""No message text, tracker or phone number in a log line (issue 12, finding 5), without a server."""

import asyncio
import io
import json
import logging
import subprocess
import sys
import textwrap

import pytest

from bot import PROJECT_ROOT
from bot.core.log_privacy import MESSAGE, NUMBER, WITHHELD, handling, redact, scrub
from bot.tools.model import rasa_env

SECRET_TEXT = "my face is swollen and hot since the injections"


@pytest.mark.parametrize(
    "line",
    [
        # Rasa's warning for a message starting with "/" (quotes the whole message)
        f"UserWarning: Failed to parse arguments in line '/ask_topic{{{SECRET_TEXT}'. Failed to interpret some parts. "
        f"Continuing without {{{SECRET_TEXT}.",
        # an action server's error as Rasa logs it: the body echoes the tracker
        f'ClientResponseError: 500, message=\'Internal Server Error\', body=\'{{"error": "x", "request_body": '
        f'{{"tracker": {{"latest_message": {{"text": "{SECRET_TEXT}"}}}}}}}}\'',
        # trackers and messages dumped as JSON or as Python dicts
        json.dumps({"event": "user", "text": SECRET_TEXT}),
        f"{{'user_text': '{SECRET_TEXT}', 'intent': None}}",
        f"message.parsing.failed user_text={json.dumps(SECRET_TEXT)} "
        + json.dumps({"user_text": SECRET_TEXT}),
    ],
)
def test_the_ways_rasa_quotes_a_conversation_are_withheld(line):
    cleaned = redact(line)
    assert "swollen" not in cleaned and WITHHELD in cleaned


@pytest.mark.parametrize(
    "number", ["+44 7911 123456", "00966501234567", "0300-1234567", "+92 300 1234567", "٠٣٠٠١٢٣٤٥٦٧"]
)
def test_phone_numbers_are_withheld(number):
    assert redact(f"call me on {number} please") == f"call me on {NUMBER} please"


@pytest.mark.parametrize(
    "line",
    [
        "2026-12-04 23:07:40 INFO     rasa.core.processor  - Loading model models/current.tar.gz...",
        "Starting Rasa server on http://127.0.0.1:5005",
        "the actions server stopped (killed by SIGKILL) after 12 s; restarting it in 1 s",
        "whatsapp: answered wa-0123456789abcdef0123456789abcdef with procedure.pain",
    ],
)
def test_ordinary_log_lines_are_kept(line):
    assert redact(line) == line


def test_the_message_being_handled_is_replaced_wherever_it_appears():
    with handling("وجهي منتفخ وحار", "/mY Payload {x"):
        assert scrub("could not answer 'وجهي منتفخ وحار' now") == f"could not answer '{MESSAGE}' now"
        assert "منتفخ" not in scrub("folded: وجهي منتفخ وحار".replace("ح", "ح"))
        assert scrub("intent name my payload {x unknown") == f"intent name {MESSAGE} unknown"
    assert scrub("وجهي منتفخ وحار") == "وجهي منتفخ وحار", "only while it is being handled"


def test_each_task_marks_only_its_own_message():
    async def one(text, seen):
        from bot.core.log_privacy import mark_handling

        mark_handling(text)
        await asyncio.sleep(0.01)
        seen[text] = scrub("a: first secret message / b: second secret message")

    async def both():
        seen = {}
        await asyncio.gather(one("first secret message", seen), one("second secret message", seen))
        return seen

    seen = asyncio.run(both())
    assert seen["first secret message"] == f"a: {MESSAGE} / b: second secret message"
    assert seen["second secret message"] == f"a: first secret message / b: {MESSAGE}"


def test_installed_in_a_process_every_record_and_warning_is_scrubbed():
    """Log records (with tracebacks), warnings, Rasa's own warning helper: in a fresh process."""
    script = textwrap.dedent(f"""
        import logging, sys, warnings
        from bot.core import log_privacy
        log_privacy.install()
        logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(levelname)s %(message)s")
        log = logging.getLogger("t")
        text = {SECRET_TEXT!r}
        with log_privacy.handling(text):
            log.info("got %s", text)
            try:
                raise ValueError("cannot answer " + repr(text))
            except ValueError:
                log.exception("failed")
            warnings.warn("about " + text)
            import rasa.shared.utils.io
            rasa.shared.utils.io.raise_warning("Failed to parse arguments in line '/" + text + "'. Continuing")
        log.warning("number +44 7911 123456, " + '{{"text": "' + text + '"}}')
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "got [message]" in output and "ValueError: cannot answer '[message]'" in output
    assert "swollen" not in output and "7911" not in output


def test_a_broken_format_string_is_still_logged():
    from bot.core.log_privacy import _scrub_record

    record = logging.LogRecord("t", logging.INFO, __file__, 1, "%d apples", ("many",), None)
    _scrub_record(record)
    assert record.getMessage() == "%d apples"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.emit(record)
    assert "apples" in stream.getvalue()
