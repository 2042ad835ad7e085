"""The supervisor without Rasa: restarts with back-off, private files, secrets (issue 12, findings 2-4)."""

import os
import signal
import stat
import sys
import time

import pytest
import yaml

from bot.tools import servers as servers_module
from bot.tools.servers import BotServers, describe_exit, persistent_secret, runtime_endpoints


class SleepyServers(BotServers):
    """BotServers whose "servers" are tiny Python processes, so the supervision itself is tested."""

    def _actions_command(self):
        return [sys.executable, "-c", "import time; time.sleep(120)"]

    def _rasa_command(self):
        return [sys.executable, "-c", "import time; time.sleep(120)"]


def test_a_dead_server_is_restarted_with_back_off_and_logged(tmp_path, monkeypatch):
    monkeypatch.setattr(servers_module, "RESTART_BACKOFF", (0.2, 0.4, 0.8))
    supervised = SleepyServers(
        rasa_port=1, action_port=2, tracker_db=tmp_path / "tracker.db", logs_dir=tmp_path / "logs"
    )
    try:
        supervised.start_actions(wait=False)
        supervised.start_rasa(wait=False)
        rasa = supervised.pid("rasa")
        first = supervised.pid("actions")
        os.kill(first, signal.SIGKILL)
        time.sleep(0.3)
        supervised.keep_alive()  # notices the death, schedules the restart
        assert supervised.pid("actions") is None
        time.sleep(0.25)
        supervised.keep_alive()  # restarts it
        second = supervised.pid("actions")
        assert second and second != first
        os.kill(second, signal.SIGKILL)  # dies again at once: the next wait is longer
        time.sleep(0.3)
        supervised.keep_alive()
        time.sleep(0.25)
        supervised.keep_alive()
        assert supervised.pid("actions") is None, "the second restart waits 0.4 s"
        time.sleep(0.25)
        supervised.keep_alive()
        assert supervised.pid("actions") not in (None, first, second)
        assert supervised.pid("rasa") == rasa, "the other server was left alone"
        log = (tmp_path / "logs" / "supervisor.log").read_text()
        assert (
            "the actions server stopped (killed by SIGKILL)" in log and "restarted the actions server" in log
        )
        assert "2 stop(s) in a row" in log
    finally:
        supervised.stop()
    assert supervised.processes == []
    supervised.keep_alive()
    assert supervised.processes == [], "nothing is restarted after stop()"


def test_runtime_files_and_secrets_are_private(tmp_path):
    endpoints = runtime_endpoints(
        5055, tmp_path / "tracker.db", tmp_path / "endpoints.yml", action_secret="abc"
    )
    assert stat.S_IMODE(endpoints.stat().st_mode) == 0o600
    config = yaml.safe_load(endpoints.read_text())
    assert config["action_endpoint"] == {
        "url": "http://127.0.0.1:5055/webhook",
        "enable_selective_domain": True,
        "headers": {"Authorization": "Bearer abc"},
    }
    secret = persistent_secret(tmp_path / "secret")
    assert len(secret) >= 32 and persistent_secret(tmp_path / "secret") == secret, "kept across restarts"
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


def test_exit_descriptions():
    assert describe_exit(-9) == "killed by SIGKILL" and describe_exit(1) == "exit status 1"


def test_two_workers_share_a_redis_lock_and_only_the_rasa_server_gets_them(tmp_path):
    target = runtime_endpoints(
        5055, tmp_path / "tracker.db", tmp_path / "endpoints.yml", redis_lock_port=6390
    )
    config = yaml.safe_load(target.read_text())
    assert config["lock_store"] == {
        "type": "bot.rasa_server.lockstore.AtomicRedisLockStore",
        "url": "127.0.0.1",
        "db": 1,
        "port": 6390,
    }
    assert config["tracker_store"]["db"] == str(tmp_path / "tracker.db")
    one = yaml.safe_load(runtime_endpoints(5055, tmp_path / "t.db", tmp_path / "one.yml").read_text())
    assert "lock_store" not in one  # one process: Rasa's in-memory lock

    servers = BotServers(
        logs_dir=tmp_path / "logs", tracker_db=tmp_path / "t.db", workers=2, redis_lock_port=6390
    )
    assert servers.env_for("rasa")["SANIC_WORKERS"] == "2"
    assert "SANIC_WORKERS" not in servers.env_for("actions")


def test_two_workers_without_a_lock_store_refuse_to_start(tmp_path):
    servers = BotServers(logs_dir=tmp_path / "logs", tracker_db=tmp_path / "t.db", workers=2)
    with pytest.raises(ValueError, match="need a Redis lock store"):
        servers.check_settings()
