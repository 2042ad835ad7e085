"""credentials.yml as the Rasa server reads it (bot/rasa_server/credentials.py; issue 14, finding 2)."""

import re

from bot import PROJECT_ROOT
from bot.rasa_server.credentials import check_credentials


def _documented_block() -> str:
    """The credentials.yml lines the README tells a clinic to write for its web site."""
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    return next(block for block in blocks if "cors_origins" in block)


def test_the_committed_file_and_the_documented_origins_are_read_by_rasa(tmp_path):
    assert check_credentials() == []
    documented = tmp_path / "credentials.yml"
    documented.write_text(_documented_block(), encoding="utf-8")
    assert check_credentials(documented) == []


def test_an_origin_list_on_one_line_is_refused_with_its_line_and_the_fix(tmp_path):
    path = tmp_path / "credentials.yml"
    path.write_text(
        "bot.rasa_server.channels.webchat.WebchatInput:\n  max_message_length: 2000\n"
        "  cors_origins: [https://www.clinic.example, https://clinic.example]\n",
        encoding="utf-8",
    )
    [problem] = check_credentials(path)
    assert problem.line == 3 and "Rasa cannot read this file" in problem.message
    assert "one entry per line" in problem.message


def test_a_wrong_origin_and_a_missing_file_are_reported(tmp_path):
    path = tmp_path / "credentials.yml"
    path.write_text(
        "bot.rasa_server.channels.webchat.WebchatInput:\n  cors_origins:\n    - www.clinic.example\n",
        encoding="utf-8",
    )
    [problem] = check_credentials(path)
    assert problem.line == 2 and "is not an origin" in problem.message
    assert "cannot read" in check_credentials(tmp_path / "missing.yml")[0].message


def test_a_channel_named_as_before_the_folders_by_process_is_refused_with_its_new_name(tmp_path):
    """A clinic's own credentials.yml from before 2026-12-05 would stop Rasa at start-up."""
    path = tmp_path / "credentials.yml"
    path.write_text(
        "rest:\nbot.channels.webchat.WebchatInput:\n  max_message_length: 2000\n"
        "bot.channels.telegram.TelegramInput:\n  token: x\n",
        encoding="utf-8",
    )
    moved, unknown = check_credentials(path)
    assert moved.line == 2 and "`bot.rasa_server.channels.webchat.WebchatInput`" in moved.message
    assert unknown.line == 4 and "no channel `bot.channels.telegram.TelegramInput`" in unknown.message
