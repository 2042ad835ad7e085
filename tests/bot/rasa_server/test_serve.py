"""The Rasa server's entry point: the API token from a file, never from the command line (finding 3)."""

import json

import pytest

from bot.core.settings import is_loopback
from bot.rasa_server.serve import rasa_arguments, read_token

TOKEN = "t0ken-" + "y" * 30


def test_the_token_comes_from_a_file_and_is_handed_to_rasa_in_process(tmp_path):
    token_file = tmp_path / "rasa-api.json"
    token_file.write_text(json.dumps({"url": "http://127.0.0.1:5005", "token": TOKEN}))
    args = rasa_arguments(
        ["--model", "m.tar.gz", "--interface", "127.0.0.1", "--api-token-file", str(token_file)]
    )
    assert args[:3] == ["run", "--interface", "127.0.0.1"]
    assert args[-2:] == ["--enable-api", f"--auth-token={TOKEN}"]
    assert "--api-token-file" not in args


@pytest.mark.parametrize("token", [TOKEN, "-" + "x" * 31, "--" + "y" * 30])
def test_rasa_reads_the_token_it_is_given_even_one_that_starts_with_a_dash(tmp_path, token):
    """`make run` makes a random URL-safe token: 1 in 64 starts with "-" (it stopped Rasa)."""
    from rasa.__main__ import create_argument_parser

    token_file = tmp_path / "rasa-api.json"
    token_file.write_text(json.dumps({"token": token}))
    args = rasa_arguments(
        ["--model", "m.tar.gz", "--interface", "127.0.0.1", "--api-token-file", str(token_file)]
    )
    parsed = create_argument_parser().parse_args(args)
    assert parsed.auth_token == token and parsed.enable_api and parsed.model == "m.tar.gz"


def test_without_a_token_file_the_api_is_off():
    args = rasa_arguments(["--model", "m.tar.gz", "--interface", "127.0.0.1"])
    assert "--enable-api" not in args and "--auth-token" not in args


def test_the_api_is_never_enabled_beyond_loopback(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    assert read_token(token_file) == TOKEN
    with pytest.raises(SystemExit, match="non-loopback"):
        rasa_arguments(["--interface", "0.0.0.0", "--api-token-file", str(token_file)])
    token_file.write_text("short")
    with pytest.raises(SystemExit, match="no usable API token"):
        rasa_arguments(["--interface", "127.0.0.1", "--api-token-file", str(token_file)])


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("example.org", False),
    ],
)
def test_loopback(host, loopback):
    assert is_loopback(host) is loopback
