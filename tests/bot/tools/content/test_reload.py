"""The running bot loads a promoted model without losing its conversations (Rasa's model reload)."""

import json
import shutil
import urllib.error
import urllib.request
import uuid

import pytest

from bot.tools.content.retrain import announce_running_bot, reload_model, reload_running_bot
from bot.tools.model import model_path, train
from bot.tools.servers import BotServers, say

pytestmark = pytest.mark.e2e


def _get_json(url):
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def test_a_new_model_is_loaded_while_the_conversation_carries_on(tmp_path):
    train()
    token = uuid.uuid4().hex
    servers = BotServers.in_folder(
        tmp_path,
        api_token=token,
    )
    new_model = tmp_path / "promoted-model.tar.gz"
    shutil.copy(model_path(), new_model)
    sender = f"reload-{uuid.uuid4().hex[:8]}"
    with servers:
        status, body = say(servers.webhook, sender, "هل الميزوثيرابي مؤلم؟")
        assert status == 200 and body[0]["lang"] == "ar"
        before = _get_json(f"{servers.url}/status?token={token}")

        # without the token Rasa's API refuses: the model cannot be swapped by anyone else
        with pytest.raises(urllib.error.HTTPError) as refused:
            reload_model(servers.url, "wrong-token", new_model)
        assert refused.value.code in (401, 403)

        announce_running_bot(servers.url, token, var_dir=tmp_path / "var")
        assert (tmp_path / "var" / "rasa-api.json").stat().st_mode & 0o077 == 0  # only this user reads it
        message = reload_running_bot(new_model, var_dir=tmp_path / "var")
        assert "now uses the new model" in message
        after = _get_json(f"{servers.url}/status?token={token}")
        assert before["model_file"] != after["model_file"] and after["model_file"].endswith(
            "promoted-model.tar.gz"
        )

        # the same conversation goes on: "ok" has no language of its own and keeps Arabic
        status, body = say(servers.webhook, sender, "ok")
        assert status == 200 and body[0]["lang"] == "ar"
        tracker = _get_json(f"{servers.url}/conversations/{sender}/tracker?token={token}")
        texts = [e.get("text") for e in tracker["events"] if e["event"] == "user"]
        assert texts == ["هل الميزوثيرابي مؤلم؟", "ok"]


def test_without_a_running_bot_retrain_says_so(tmp_path):
    message = reload_running_bot(model_path(), var_dir=tmp_path)
    assert "no running bot found" in message
