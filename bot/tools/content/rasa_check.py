"""Rasa's own data validation (`rasa data validate`), its findings reshaped as `file:line: message`.

Rasa's `Validator` runs in a child process (`python -m bot.tools.content.rasa_check`), through
the same checks `rasa data validate --fail-on-warnings` makes (`rasa.cli.utils.validate_files`),
and hands back each finding as it was raised: every warning Rasa issues and every warning or
error its loggers record (a story conflict is one), as JSON. Nothing is read back from
Rasa's printed output. A child process, because validation loads Rasa and touches the
process's warning filters and loggers; the workbench and `make retrain` stay untouched.
Rasa says no place for a finding; the place is found by looking up the name each message
quotes ('ask_pain', 'utter_x') in domain.yml and the training files.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from bot.core.problems import Problem
from bot.tools.content.paths import ContentPaths
from bot.tools.model import TRAINING_DATA, rasa_env

_QUOTED = re.compile(r"'([^']+)'")
# Rasa findings that the project accepts on purpose, and why.
ACCEPTED = (
    # a button payload (/ask_topic{...}), never typed, so it has no NLU examples
    re.compile(r"The intent 'ask_topic' is listed in the domain file, but is not found in the NLU"),
    # sent by the web channel itself when the action server is down (bot/rasa_server/channels/_offline.py)
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
Finding = Tuple[str, str]  # (severity, message)


class _Recorded(logging.Handler):
    """Rasa's log records of warning level and up, as findings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.findings: List[Finding] = []

    def emit(self, record: logging.LogRecord) -> None:
        severity = "error" if record.levelno >= logging.ERROR else "warning"
        self.findings.append((severity, record.getMessage()))


def validate_with_rasa(root: Path, domain: Path, data: Sequence[Path]) -> Tuple[bool, List[Finding]]:
    """Rasa's checks of `rasa data validate --fail-on-warnings`, in this process: passed or not,
    and every finding (one line each)."""
    import rasa.cli.utils
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.utils.common import EXPECTED_WARNINGS

    config = root / "config.yml"
    importer = TrainingDataImporter.load_from_config(
        domain_path=str(domain),
        training_data_paths=[str(d) for d in data],
        config_path=str(config) if config.exists() else None,
    )
    recorded = _Recorded()
    raised: List[Finding] = []

    def show(
        message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        if issubclass(category, UserWarning):
            # Rasa's own formatter (set while it warns) adds the page of its docs that explains.
            formatted = warnings.formatwarning(message, category, filename, lineno, line)
            docs = [
                part.strip() for part in formatted.splitlines()[1:] if part.strip().startswith("More info")
            ]
            raised.append(("warning", " ".join([str(message), *docs])))

    rasa_logger = logging.getLogger("rasa")
    rasa_logger.addHandler(recorded)
    passed = True
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        for category, text in EXPECTED_WARNINGS:  # what `rasa data validate` itself keeps quiet
            warnings.filterwarnings("ignore", message=f".*{text}", category=category)
        warnings.showwarning = show
        try:
            rasa.cli.utils.validate_files(fail_on_warnings=True, max_history=None, importer=importer)
        except SystemExit as stop:  # Rasa's verdict: "Project validation completed with errors."
            passed = stop.code in (0, None)
        finally:
            rasa_logger.removeHandler(recorded)
    found = raised + recorded.findings
    # One line each (a story conflict spans several), each said once.
    lines = [(severity, " ".join(message.split())) for severity, message in found]
    return passed, list(dict.fromkeys(line for line in lines if line[1]))


def run_rasa_validate(paths: ContentPaths) -> Tuple[int, List[Finding], str]:
    """`validate_with_rasa` in a child process: its exit status, findings and any other output."""
    cmd = [
        sys.executable, "-m", "bot.tools.content.rasa_check", str(paths.root), str(paths.domain),
        *[str(paths.root / d) for d in TRAINING_DATA],
    ]  # fmt: skip
    result = subprocess.run(
        cmd, cwd=paths.root, env=rasa_env(), capture_output=True, text=True, timeout=TIMEOUT
    )
    last = (result.stdout.strip().splitlines() or [""])[-1]
    try:
        report = json.loads(last)
        findings = [(str(s), str(m)) for s, m in report["findings"]]
    except (ValueError, KeyError, TypeError):  # the child failed before reporting
        return result.returncode or 1, [], result.stdout + "\n" + result.stderr
    return result.returncode, findings, result.stderr


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
        status, findings, output = run_rasa_validate(paths)
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


def main(argv: Optional[List[str]] = None) -> int:
    """`python -m bot.tools.content.rasa_check ROOT DOMAIN DATA...`: one JSON line of findings."""
    root, domain, *data = sys.argv[1:] if argv is None else argv
    passed, findings = validate_with_rasa(Path(root), Path(domain), [Path(d) for d in data])
    print(json.dumps({"passed": passed, "findings": findings}, ensure_ascii=False))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
