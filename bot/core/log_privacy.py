"""Keeping health information out of the logs.

People tell the bot about their health; none of it may reach a log file, at any level
and on any error path. Three layers, installed in both servers (`install()`) and, for
everything a server prints, in the supervisor that writes the log files (`redact()`):

1. **The message being handled.** A channel marks the text it is handling
   (`handling(text)`); any log record or warning created while it is handled has every
   occurrence of that text (and of its matching form: lower case, folded Arabic
   script, without the leading `/` of a payload) replaced by `[message]`.
2. **Rasa's and the action server's own ways of quoting a conversation**: the
   "Failed to parse arguments in line '...'" warning for a message starting with `/`,
   an action-server error's body (`body='...'`, `request_body`), a tracker or message
   dumped as JSON or as a Python dict (`"text": ...`, `'user_text': ...`, `"events": ...`).
   The quoted part is replaced by `[withheld]`.
3. **Phone numbers**: 9 to 15 digits, with optional spaces or dashes between them,
   become `[number]`.

Layer 1 works inside the server process only (it knows what is being handled); layers 2
and 3 also run over every line a server prints, so output that bypasses `logging`
(a traceback printed by a library, a C extension's message) is covered too.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import traceback
import warnings
from contextlib import contextmanager
from typing import Iterable, Iterator, Tuple

from bot.core.payloads import reads_as_intent

MESSAGE = "[message]"
WITHHELD = "[withheld]"
NUMBER = "[number]"

# Texts being handled by this task (a tuple: contextvars values must not be mutated).
_handling: contextvars.ContextVar[Tuple[str, ...]] = contextvars.ContextVar(
    "bot_log_privacy_texts", default=()
)

# Shorter texts ("ok", "hi") are not worth redacting and would mangle ordinary log words.
MIN_REDACTED_LENGTH = 4

# Rasa's warnings for a message starting with "/" quote the whole message, the intent
# name typed after the slash and the part it could not read.
_RASA_PARSE_WARNING = re.compile(r"Failed to parse arguments in line .*?(?=\x1b\[|\n*\Z)", re.DOTALL)
_RASA_PARSE_WARNING_TEXT = (
    "Failed to parse the arguments of a message starting with '/' " f"(its text is {WITHHELD})"
)
# An action server's error reply as Rasa quotes it: ClientResponseError(..., body='...').
_BODY = re.compile(r"(body=)(['\"]).*", re.DOTALL)
# Keys under which Rasa, rasa_sdk or a channel put conversation content in JSON or dict
# dumps, or in structlog's key=value lines; everything after such a key on the line is withheld.
_CONTENT_KEYS = (
    "text",
    "user_text",
    "message",
    "request_body",
    "tracker",
    "events",
    "latest_message",
    "slots",
    "parse_data",
    "entities",
    "metadata",
    "response_text",
    "json_message",
    "user_message",
    "rasa_event",
    "rasa_events",
    "tracker_states",
    "prediction_events",
    "tracker_latest_message",
    "parse_data_text",
    "parse_data_entities",
    "buttons",
)
_CONTENT = re.compile(
    r"""((?:["'](?:{0})["']\s*[:=]|(?<![\w.-])(?:{0})=)\s*).*""".format("|".join(_CONTENT_KEYS))
)
# 9-15 digits, single spaces or dashes allowed between them, not part of a longer word,
# a time (12:30) or a version; an optional leading +.
_PHONE = re.compile(r"(?<![\w:.+-])\+?\d(?:[ -]?\d){8,14}(?![\w:])")


def redact(text: str) -> str:
    """`text` without the conversation content layers 2 and 3 recognise."""
    if not text:
        return text
    text = _RASA_PARSE_WARNING.sub(_RASA_PARSE_WARNING_TEXT, text)
    lines = []
    for line in text.split("\n"):
        line = _BODY.sub(lambda m: m.group(1) + WITHHELD, line)
        line = _CONTENT.sub(lambda m: m.group(1) + WITHHELD, line)
        lines.append(line)
    return _PHONE.sub(NUMBER, "\n".join(lines))


def _variants(text: str) -> Iterable[str]:
    """The forms in which Rasa or our NLU may repeat a message."""
    from bot.core.normalize import fold_arabic_script, normalise_for_matching

    stripped = text.strip()
    forms = {
        stripped,
        stripped.lower(),
        fold_arabic_script(stripped),
        fold_arabic_script(stripped.lower()),
        normalise_for_matching(stripped),
    }
    if reads_as_intent(stripped):  # logged as the intent Rasa reads, without its slash
        forms |= {f[1:].strip() for f in list(forms)}
    return sorted((f for f in forms if len(f) >= MIN_REDACTED_LENGTH), key=len, reverse=True)


def scrub(text: str) -> str:
    """`redact()`, plus the texts this task is handling (layer 1)."""
    for handled in _handling.get():
        if handled and handled in text:
            text = text.replace(handled, MESSAGE)
    return redact(text)


@contextmanager
def handling(*texts: str) -> Iterator[None]:
    """Mark the texts this task is handling, for as long as the block runs."""
    forms = set(_handling.get())
    for text in texts:
        if text:
            forms.update(_variants(text))
    token = _handling.set(tuple(sorted(forms, key=len, reverse=True)))
    try:
        yield
    finally:
        _handling.reset(token)


def mark_handling(*texts: str) -> None:
    """Like `handling()`, for the rest of the current task (a request handler's own task)."""
    forms = set(_handling.get())
    for text in texts:
        if text:
            forms.update(_variants(text))
    _handling.set(tuple(sorted(forms, key=len, reverse=True)))


# ---- installing it in a process -------------------------------------------------------------

_installed = {"done": False}


def _scrub_record(record: logging.LogRecord) -> None:
    """Render the record's message and traceback now, scrubbed, so no handler sees the raw ones."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string must not stop logging
        message = str(record.msg)
    record.msg, record.args = scrub(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        rendered = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = scrub(rendered)
        record.exc_info = None  # formatters would render the raw traceback again
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def install() -> None:
    """Scrub every log record and every warning this process creates (both servers call this)."""
    if _installed["done"]:
        return
    make_record = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _scrub_record(record)
        return record

    logging.setLogRecordFactory(factory)

    # Warnings not routed to logging are written by this function; Rasa's `raise_warning`
    # swaps `warnings.formatwarning` around each call, so the formatted text is scrubbed here.
    original = warnings._showwarnmsg_impl  # type: ignore[attr-defined]

    def show(msg: warnings.WarningMessage) -> None:
        try:
            text = warnings._formatwarnmsg(msg)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            return original(msg)
        stream = msg.file or sys.stderr
        try:
            stream.write(scrub(text))
        except (OSError, AttributeError):
            pass

    warnings._showwarnmsg_impl = show  # type: ignore[attr-defined]
    _installed["done"] = True
