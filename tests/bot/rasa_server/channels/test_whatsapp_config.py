"""The WhatsApp channel is on, off, or refused, from the environment alone."""

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.rasa_server.channels.whatsapp_config import (
    CHANNEL_KEY,
    REQUIRED_VARIABLES,
    WhatsAppConfigError,
    runtime_credentials,
    whatsapp_credentials,
)

FULL = {
    "WHATSAPP_APP_SECRET": "s3cret",
    "WHATSAPP_VERIFY_TOKEN": "verify",
    "WHATSAPP_ACCESS_TOKEN": "EAAG-token",
    "WHATSAPP_PHONE_NUMBER_ID": "109876543210",
    "WHATSAPP_API_URL": "https://graph.facebook.com/v21.0",
    "PHONE_HASH_KEY": "0123456789abcdef0123456789abcdef",
}


def test_no_whatsapp_variable_means_no_channel():
    assert whatsapp_credentials({}) is None
    assert whatsapp_credentials({"PATH": "/bin", "WHATSAPP_APP_SECRET": "  "}) is None
    assert whatsapp_credentials({"PHONE_HASH_KEY": FULL["PHONE_HASH_KEY"]}) is None


def test_all_variables_give_a_section_of_references_never_the_secrets():
    section = whatsapp_credentials(FULL)
    assert section == {
        "app_secret": "${WHATSAPP_APP_SECRET}",
        "verify_token": "${WHATSAPP_VERIFY_TOKEN}",
        "access_token": "${WHATSAPP_ACCESS_TOKEN}",
        "phone_number_id": "${WHATSAPP_PHONE_NUMBER_ID}",
        "api_url": "${WHATSAPP_API_URL}",
        "phone_hash_key": "${PHONE_HASH_KEY}",
    }


@pytest.mark.parametrize(
    "unset", [["WHATSAPP_APP_SECRET"], ["PHONE_HASH_KEY"], ["WHATSAPP_ACCESS_TOKEN", "WHATSAPP_API_URL"]]
)
def test_some_variables_set_is_refused_naming_the_missing_ones(unset):
    env = {k: v for k, v in FULL.items() if k not in unset}
    with pytest.raises(WhatsAppConfigError) as err:
        whatsapp_credentials(env)
    for name in unset:
        assert name in str(err.value)
    for name in set(REQUIRED_VARIABLES) - set(unset):
        assert name not in str(err.value)


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("PHONE_HASH_KEY", "short", "at least 16"),
        ("WHATSAPP_API_URL", "graph.facebook.com", "http"),
        ("WHATSAPP_PHONE_NUMBER_ID", "+44 7700 900123", "numeric id"),
    ],
)
def test_invalid_values_are_refused_with_the_fix(name, value, words):
    with pytest.raises(WhatsAppConfigError) as err:
        whatsapp_credentials({**FULL, name: value})
    assert words in str(err.value)


def test_the_runtime_credentials_add_the_section_only_when_enabled(tmp_path):
    source = tmp_path / "credentials.yml"
    source.write_text(
        f"rest:\nbot.rasa_server.channels.webchat.WebchatInput:\n  max_message_length: 2000\n"
        f"{CHANNEL_KEY}:\n  text_limit: 1000\n  app_secret: committed-by-mistake\n"
    )
    off = yaml.safe_load(runtime_credentials(source, tmp_path / "off.yml", {}).read_text())
    assert CHANNEL_KEY not in off and off["bot.rasa_server.channels.webchat.WebchatInput"] == {
        "max_message_length": 2000
    }
    on = yaml.safe_load(runtime_credentials(source, tmp_path / "on.yml", FULL).read_text())
    assert on[CHANNEL_KEY]["text_limit"] == 1000
    assert on[CHANNEL_KEY]["app_secret"] == "${WHATSAPP_APP_SECRET}"
    assert "rest" in on


def test_rasa_fills_the_references_from_the_environment(tmp_path, monkeypatch):
    from rasa.shared.utils.io import read_config_file

    for name, value in {**FULL, "WHATSAPP_APP_SECRET": 'a "quoted": #secret'}.items():
        monkeypatch.setenv(name, value)
    target = runtime_credentials(PROJECT_ROOT / "credentials.yml", tmp_path / "c.yml", FULL)
    section = read_config_file(str(target))[CHANNEL_KEY]
    assert section["app_secret"] == 'a "quoted": #secret'
    assert section["phone_number_id"] == "109876543210"
    assert "s3cret" not in target.read_text() and "#secret" not in target.read_text()


def test_the_committed_credentials_have_no_whatsapp_section():
    assert CHANNEL_KEY not in (yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text()) or {})


def test_the_servers_refuse_to_start_half_configured_before_starting_anything(tmp_path):
    from bot.tools.servers import BotServers

    servers = BotServers(
        rasa_port=1,
        action_port=2,
        tracker_db=tmp_path / "t.db",
        logs_dir=tmp_path / "logs",
        extra_env={"WHATSAPP_APP_SECRET": "s3cret"},
    )
    with pytest.raises(WhatsAppConfigError) as err:
        servers.start()
    assert "WHATSAPP_ACCESS_TOKEN" in str(err.value)
    assert servers.processes == [] and not (tmp_path / "logs").exists()


def test_make_run_refuses_to_start_half_configured(monkeypatch, capsys):
    from bot.tools import cli

    for name in REQUIRED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WHATSAPP_VERIFY_TOKEN", "verify")
    monkeypatch.setattr("bot.tools.servers.BotServers.start", lambda self: pytest.fail("started the servers"))
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "WHATSAPP_APP_SECRET" in err and "PHONE_HASH_KEY" in err and "WHATSAPP_VERIFY_TOKEN" not in err
