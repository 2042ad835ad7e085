"""Conversation keys and id spaces without a server (issue 12, finding 8)."""

import logging

import pytest

from bot.rasa_server.channels._conversation_keys import ConversationKeys, reserved

SECRET = "k" * 40


def test_a_key_belongs_to_one_conversation_and_one_server_secret():
    keys = ConversationKeys(SECRET)
    key = keys.key_for("web-1234")
    assert key == ConversationKeys(SECRET).key_for("web-1234"), "any replica with the secret agrees"
    assert keys.holds("web-1234", key)
    assert not keys.holds("web-1235", key)
    assert not keys.holds("web-1234", ConversationKeys("z" * 40).key_for("web-1234"))
    assert not keys.holds("web-1234", None) and not keys.holds("web-1234", "")
    assert not keys.holds("web-1234", key[:-1])
    assert len(key) >= 40 and key.replace("-", "").replace("_", "").isalnum()


def test_the_secret_comes_from_the_environment(caplog):
    assert ConversationKeys.from_environment({"WEBCHAT_SECRET": SECRET}).key_for("a") == ConversationKeys(
        SECRET
    ).key_for("a")
    with pytest.raises(ValueError, match="at least"):
        ConversationKeys.from_environment({"WEBCHAT_SECRET": "short"})
    with caplog.at_level(logging.WARNING):
        one, two = ConversationKeys.from_environment({}), ConversationKeys.from_environment({})
    assert one.key_for("a") != two.key_for("a"), "without it, a random key per server start"
    assert "WEBCHAT_SECRET is not set" in caplog.text


@pytest.mark.parametrize(
    "sender, is_reserved",
    [("wa-0123abcd", True), ("WA-x", True), ("web-wa-1", False), ("wax", False), ("web-0123", False)],
)
def test_other_channels_id_spaces(sender, is_reserved):
    assert reserved(sender) is is_reserved
