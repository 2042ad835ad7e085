"""The website widget's server side, without a server: origins, strings, feedback, files."""

import json
import re

import pytest

from bot import LANGUAGES
from bot.core.i18n import WIDGET_STRINGS
from bot.rasa_server.channels._widget_routes import (
    ASSETS,
    FEEDBACK_SLOT,
    WIDGET_DIR,
    OriginPolicy,
    Refused,
    parse_feedback,
    wants_html,
    widget_strings,
)
from bot.rasa_server.channels.webchat import WebchatInput

WIDGET_JS = (WIDGET_DIR / "widget.js").read_text(encoding="utf-8")
WIDGET_CSS = (WIDGET_DIR / "widget.css").read_text(encoding="utf-8")
BOT_HOST = "bot.clinic.example:5005"


# ---- who may call -----------------------------------------------------------------------


def test_by_default_only_the_bots_own_pages_may_call():
    policy = OriginPolicy()
    assert policy.allows(None, BOT_HOST), "curl and servers send no Origin"
    assert policy.allows(f"http://{BOT_HOST}", BOT_HOST), "the demo page the bot serves"
    assert not policy.allows("https://evil.example", BOT_HOST)
    assert not policy.allows("null", BOT_HOST), "sandboxed frames and local files"
    assert "Access-Control-Allow-Origin" not in policy.cors_headers("https://evil.example", BOT_HOST)


def test_listed_origins_may_call_and_read_the_answer():
    policy = OriginPolicy.from_credentials(["https://www.Clinic.example/", "http://localhost:8080"])
    assert policy.allows("https://www.clinic.example", BOT_HOST)
    assert policy.allows("http://localhost:8080", BOT_HOST)
    assert not policy.allows("https://clinic.example", BOT_HOST), "a different host is a different origin"
    assert not policy.allows("http://www.clinic.example", BOT_HOST), "so is a different scheme"
    assert not policy.allows("https://www.clinic.example.evil.example", BOT_HOST)
    headers = policy.cors_headers("https://www.clinic.example", BOT_HOST)
    assert headers == {
        "Access-Control-Allow-Origin": "https://www.clinic.example",
        "Vary": "Origin",
        # the widget reads the conversation's key and a 429's wait from these
        "Access-Control-Expose-Headers": "X-Conversation-Key, Retry-After",
    }
    assert OriginPolicy.from_credentials("*").allows("https://anyone.example", BOT_HOST)


@pytest.mark.parametrize(
    "raw",
    [
        ["www.clinic.example"],
        ["https://clinic.example/page"],
        [42],
        {"a": 1},
        ["javascript:alert(1)"],
        ["https://user@clinic.example"],
    ],
)
def test_a_wrong_origin_in_the_configuration_is_refused_at_start(raw):
    with pytest.raises(ValueError):
        OriginPolicy.from_credentials(raw)


def test_the_channel_reads_its_origins_from_credentials():
    channel = WebchatInput.from_credentials({"cors_origins": ["https://www.clinic.example"]})
    assert channel.origins.allows("https://www.clinic.example", BOT_HOST)
    assert not WebchatInput.from_credentials({}).origins.allows("https://www.clinic.example", BOT_HOST)
    nobody = WebchatInput.from_credentials({"cors_origins": []})
    assert not nobody.origins.allows("https://x.example", BOT_HOST)


# ---- the page or the health check ------------------------------------------------------


@pytest.mark.parametrize(
    "accept, html",
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8", True),  # Chromium
        ("text/html", True),
        ("application/json", False),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0.5, application/json", False),
        ("*/*", False),  # curl: the health check stays JSON
        ("", False),
        (None, False),  # urllib (bot/tools/servers.py polls this)
        ("text/html;q=0", False),
        ("text/html;q=abc", False),
    ],
)
def test_browsers_get_the_demo_page_and_everything_else_the_health_check(accept, html):
    assert wants_html(accept) is html


# ---- the widget's strings ----------------------------------------------------------------


def test_the_widgets_strings_come_from_the_catalogs_in_every_language():
    languages = widget_strings()["languages"]
    assert set(languages) == set(LANGUAGES)
    for lang, entry in languages.items():
        assert set(entry["strings"]) == set(WIDGET_STRINGS)
        assert all(text.strip() for text in entry["strings"].values())
        assert entry["dir"] == ("rtl" if lang in ("ar", "ur") else "ltr")
    for key in WIDGET_STRINGS:
        en, ar, ur = (languages[lang]["strings"][key] for lang in ("en", "ar", "ur"))
        assert en != ar and en != ur and ar != ur, key
        assert re.search(r"[\u0600-\u06FF]", ar) and re.search(r"[\u0600-\u06FF]", ur), key
    # the language switch names each language in that language
    names = [languages[lang]["name"] for lang in ("en", "ar", "ur")]
    assert names == ["English", "العربية", "اردو"]


def test_the_widget_uses_every_catalog_string_and_no_other():
    looked_up = set(re.findall(r"\b(?:t|fail|showError)\('([a-z_]+)'", WIDGET_JS))
    assert looked_up and looked_up <= set(WIDGET_STRINGS), looked_up - set(WIDGET_STRINGS)
    unused = [key for key in WIDGET_STRINGS if f"'{key}'" not in WIDGET_JS]
    assert unused == []


# ---- what the files may and may not do ----------------------------------------------------


def test_the_widget_never_inserts_html():
    for sink in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "setAttribute('style'",
        "javascript:",
    ):
        assert sink not in WIDGET_JS, sink


def test_no_font_or_anything_else_is_downloaded_from_the_internet():
    assert "@font-face" not in WIDGET_CSS and "@import" not in WIDGET_CSS
    assert not re.search(r"url\(", WIDGET_CSS)
    assert "Noto Nastaliq Urdu" in WIDGET_CSS and "Noto Naskh Arabic" in WIDGET_CSS
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg|bot\.clinic\.example)", WIDGET_JS)


def test_every_served_file_exists_and_nothing_else_is_served():
    assert set(ASSETS) == {"widget.js", "widget.css", "demo.html", "demo.css"}
    for name in ASSETS:
        assert (WIDGET_DIR / name).is_file()
    demo = (WIDGET_DIR / "demo.html").read_text(encoding="utf-8")
    assert "<style" not in demo and re.search(r"<script[^>]*>\s*</script>", demo), "nothing inline (CSP)"


# ---- feedback --------------------------------------------------------------------------


def _body(**payload) -> bytes:
    return json.dumps(payload).encode()


def test_good_feedback():
    parsed = parse_feedback(
        _body(
            sender="web-1a2b",
            answer_id="procedure.pain",
            helpful=False,
            version="2026-11-20",
            lang="ar",
            extra="<dropped>",
        )
    )
    assert parsed == {
        "sender": "web-1a2b",
        "feedback": {"answer_id": "procedure.pain", "helpful": False, "version": "2026-11-20", "lang": "ar"},
        "conversation_key": None,
    }
    parsed = parse_feedback(_body(sender="s", answer_id="a.b", helpful=True, version="<script>", lang="fr"))
    assert parsed["feedback"] == {"answer_id": "a.b", "helpful": True}


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", "invalid_json"),
        (b"\xff\xfe", "invalid_json"),
        (b"[]", "invalid_json"),
        (_body(answer_id="procedure.pain", helpful=True), "invalid_sender"),
        (_body(sender="a b", answer_id="procedure.pain", helpful=True), "invalid_sender"),
        (_body(sender="s", helpful=True), "invalid_answer_id"),
        (_body(sender="s", answer_id="<img src=x>", helpful=True), "invalid_answer_id"),
        (_body(sender="s", answer_id="nodot", helpful=True), "invalid_answer_id"),
        (_body(sender="s", answer_id="procedure.pain"), "invalid_feedback"),
        (_body(sender="s", answer_id="procedure.pain", helpful="yes"), "invalid_feedback"),
        (_body(sender="s", answer_id="procedure.pain", helpful=1), "invalid_feedback"),
        (b"{" + b" " * 5000 + b"}", "body_too_large"),
        (b'{"a":' + b"[" * 1010 + b"]" * 1010 + b"}", "invalid_json"),  # nested too deep: was a 503
        (
            _body(sender="s", answer_id="procedure.pain", helpful=True, conversation_key="<x>"),
            "invalid_conversation_key",
        ),
    ],
)
def test_bad_feedback_is_refused_with_a_reason(body, code):
    with pytest.raises(Refused) as err:
        parse_feedback(body)
    assert err.value.code == code and err.value.status == 400 and str(err.value)


def test_the_feedback_slot_is_declared_and_never_steers_the_dialogue():
    import yaml

    from bot import PROJECT_ROOT

    slot = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"][FEEDBACK_SLOT]
    assert slot["type"] == "any" and slot["influence_conversation"] is False


@pytest.mark.parametrize(
    "header, gzip",
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8", True),
        ("*", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        (None, False),
    ],
)
def test_files_are_compressed_for_browsers_that_accept_it(header, gzip):
    from bot.rasa_server.channels._widget_routes import accepts_gzip

    assert accepts_gzip(header) is gzip
