"""Rasa's own `rasa data validate`, its findings reshaped as `file:line: message`.

Rasa prints its warnings without a place; the place is found by looking up the name
each message quotes ('ask_pain', 'utter_x') in domain.yml and the training files.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from bot.content.paths import ContentPaths
from bot.model import TRAINING_DATA, rasa_env
from bot.problems import Problem

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} +(\w+) +(\S+) +- (.*)$")
_QUOTED = re.compile(r"'([^']+)'")
# Rasa findings that the project accepts on purpose, and why.
ACCEPTED = (
    # a button payload (/ask_topic{...}), never typed, so it has no NLU examples
    re.compile(r"The intent 'ask_topic' is listed in the domain file, but is not found in the NLU"),
    # sent by the web channel itself when the action server is down (bot/channels/_offline.py)
    re.compile(r"The utterance 'utter_urgent_offline' is not used in any story or rule"),
)
# Rasa findings our own rules already report with a file and line.
COVERED = (
    re.compile(r"is listed in the domain file, but is not found in the NLU training data"),
    re.compile(r"was found labeled with multiple different intents"),
    re.compile(r"is used in your stories, but it is not listed in the domain"),
    re.compile(r"is used in the (stories|rules|training data).*but is not a valid"),
    re.compile(r"is in the NLU training data, but is not listed in the domain"),
)
ADVICE = (
    (
        re.compile(r"is not used in any story or rule"),
        "add a rule in data/rules/answers.yml that answers it with action_answer",
    ),
    (
        re.compile(r"story structure conflict|conflict", re.I),
        "two stories or rules predict different actions after the same turns; make them agree",
    ),
)
TIMEOUT = 600


def run_rasa_validate(paths: ContentPaths) -> Tuple[int, str]:
    cmd = [
        sys.executable,
        "-m",
        "rasa",
        "data",
        "validate",
        "--domain",
        str(paths.domain),
        "--data",
        *[str(paths.root / d) for d in TRAINING_DATA],
        "--fail-on-warnings",
    ]
    result = subprocess.run(
        cmd, cwd=paths.root, env=rasa_env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    return result.returncode, _ANSI.sub("", result.stdout + "\n" + result.stderr)


def _findings(output: str) -> List[Tuple[str, str]]:
    """(severity, message) pairs in Rasa's output: its UserWarnings, and its WARNING and ERROR
    log lines (a story conflict is logged as a warning over several indented lines)."""
    found: List[Tuple[str, List[str]]] = []
    current: Optional[List[str]] = None
    for line in output.splitlines():
        log = _LOG_LINE.match(line)
        if "UserWarning: " in line:
            current = [line.split("UserWarning: ", 1)[1].strip()]
            found.append(("warning", current))
        elif log and (
            log.group(1) in ("ERROR", "CRITICAL")
            or log.group(1) == "WARNING"
            and log.group(2).startswith("rasa.validator")
        ):
            current = [log.group(3).strip()]
            found.append(("error" if log.group(1) != "WARNING" else "warning", current))
        elif log or not line.strip() or line.startswith("/") or "%|" in line:
            current = None
        elif current is not None:
            current.append(line.strip())
    return [(severity, " ".join(parts)) for severity, parts in found if " ".join(parts)]


def _locate(message: str, paths: ContentPaths) -> Tuple[Path, int]:
    """The first place a name quoted in `message` appears: domain.yml, then the training files."""
    names = _QUOTED.findall(message)
    files = [paths.domain, *paths.training_files()]
    for name in names:
        pattern = re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")
        for path in files:
            try:
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    if pattern.search(line) and not line.lstrip().startswith("#"):
                        return path, number
            except (OSError, UnicodeDecodeError):
                continue
    file_in_message = re.search(r"[\"']?([\w./-]+\.ya?ml)[\"']?(?:, line (\d+)|.*?[Ll]ine (\d+))?", message)
    if file_in_message:
        path = Path(file_in_message.group(1))
        path = path if path.is_absolute() else paths.root / path
        return path, int(file_in_message.group(2) or file_in_message.group(3) or 1)
    return paths.domain, 1


def check_with_rasa(paths: ContentPaths) -> List[Problem]:
    try:
        status, output = run_rasa_validate(paths)
    except subprocess.TimeoutExpired:
        return [
            Problem(
                paths.domain,
                1,
                f"rasa data validate did not finish in {TIMEOUT} s; run it by hand: "
                "make validate again, or ask a developer",
            )
        ]
    problems = []
    findings = _findings(output)
    for severity, message in findings:
        if any(p.search(message) for p in ACCEPTED) or any(p.search(message) for p in COVERED):
            continue
        advice = next((a for p, a in ADVICE if p.search(message)), "")
        path, line = _locate(message, paths)
        text = f"rasa data validate: {message.rstrip('.')}" + (f"; {advice}" if advice else "")
        problems.append(Problem(path, line, text, severity))
    if status != 0 and not findings:  # no finding explains the failure: Rasa itself failed
        tail = [line.strip() for line in output.splitlines() if line.strip()][-3:]
        detail = " ".join(tail)[-400:]
        path, line = _locate(detail, paths)
        problems.append(Problem(path, line, f"rasa data validate failed: {detail}"))
    return problems
