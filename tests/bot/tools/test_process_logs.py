"""Log files private, scrubbed and rotated by size (issue 12, finding 4), with a real child process."""

import os
import stat
import subprocess
import sys

from bot.tools._process_logs import RotatingLog, log_limits, make_private


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_childs_output_is_scrubbed_rotated_and_private(tmp_path):
    log = RotatingLog(tmp_path / "logs" / "child.log", max_bytes=4000, backups=2)
    script = (
        "import sys\n"
        "for i in range(400):\n"
        "    print(f'line {i:04d} call +44 7911 123456 ' + 'x' * 40, flush=True)\n"
        "print('no newline at the end', end='', file=sys.stderr)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=log.write_fd, stderr=subprocess.STDOUT)
    log.child_started()
    assert proc.wait(timeout=60) == 0
    log.wait_closed(timeout=30)
    files = sorted((tmp_path / "logs").iterdir())
    assert [f.name for f in files] == [
        "child.log",
        "child.log.1",
        "child.log.2",
    ], "two old files kept, no more"
    for path in files:
        assert path.stat().st_size <= 4000 + 200
        assert _mode(path) == 0o600, path
        text = path.read_text(encoding="utf-8")
        assert "7911" not in text and "[number]" in text
    assert (tmp_path / "logs" / "child.log").read_text().endswith("no newline at the end\n")
    assert (
        "line 0399" in (tmp_path / "logs" / "child.log").read_text()
    ), "the newest lines are in the current file"


def test_make_private_closes_an_old_world_readable_var(tmp_path):
    var = tmp_path / "var"
    (var / "logs").mkdir(parents=True)
    (var / "tracker.db").write_text("x")
    (var / "logs" / "rasa.log").write_text("x")
    os.chmod(var, 0o755)
    os.chmod(var / "logs", 0o755)
    os.chmod(var / "tracker.db", 0o644)
    os.chmod(var / "logs" / "rasa.log", 0o644)
    make_private(var)
    assert _mode(var) == _mode(var / "logs") == 0o700
    assert _mode(var / "tracker.db") == _mode(var / "logs" / "rasa.log") == 0o600


def test_log_limits_come_from_the_environment():
    assert log_limits({}) == (5 * 1024 * 1024, 5)
    assert log_limits({"BOT_LOG_MAX_BYTES": "20000", "BOT_LOG_BACKUPS": "2"}) == (20000, 2)
    assert log_limits({"BOT_LOG_MAX_BYTES": "nonsense"}) == (5 * 1024 * 1024, 5)
