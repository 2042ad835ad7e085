"""The website widget on the web channel: its files, its strings, feedback, and who may call.

Registered on the `webchat` channel's blueprint by `register_widget_routes`, so a clinic
needs nothing but the Rasa server:

- `GET  /webhooks/webchat/`              the demo page for a browser (`Accept: text/html`);
                                        any other client still gets the JSON health check
- `GET  /webhooks/webchat/widget.js`     the widget, plain JavaScript (no build step)
- `GET  /webhooks/webchat/widget.css`    its styles
- `GET  /webhooks/webchat/strings.json`  its interface strings in en/ar/ur, read from the
                                        gettext catalogs (locales/) so every string has
                                        one home and is checked by tests/bot/core/test_i18n.py
- `OPTIONS` on any of them              a CORS preflight answer (204), for a listed origin
                                        with what it may send; Rasa's own would be a bare
                                        200 with `content-type: None`

Files and strings are served gzip-compressed to browsers that accept it, with an ETag
and `Vary: Accept-Encoding, Origin`, and answer `HEAD` like `GET` without the body.
- `POST /webhooks/webchat/feedback`      "was this helpful?" for an answer the
                                        conversation was shown, kept in its tracker;
                                        only with the conversation's key, checked
                                        (with the rate limits) before anything is read

Browsers on another origin may call the channel only from the origins listed under
`cors_origins` in credentials.yml; with none listed, only pages served by the bot itself
(the demo page) can. A POST from any other origin is refused with 403, so a page not on
the list cannot talk to the bot even where the browser would not read the answer.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Tuple
from urllib.parse import urlsplit

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import LANGUAGES, RTL_LANGUAGES
from bot.core.i18n import LANGUAGE_NAMES, WIDGET_STRINGS, interface_text
from bot.rasa_server.channels._sanitize import SENDER_ID

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent / "widget"
# Only these files are served: a name is looked up, never joined to a path.
ASSETS = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.html": "text/html; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
}
# The demo page runs nothing inline and loads nothing from elsewhere; the widget needs
# exactly this on a clinic's own page too (script, stylesheet and calls to the bot).
DEMO_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}

# Feedback is kept as a `SlotSet("feedback", {...})` event in the conversation's tracker,
# for the `feedback` slot domain.yml declares (type any, influence_conversation: false).
# Why this event: Rasa has no free-form event, and the alternatives change the dialogue.
# An `ActionExecuted("feedback")` would become the conversation's previous action, so the
# next message would no longer match the rules (`intent` after `action_listen`); a
# `UserUttered` would be a turn the person never wrote. The slot has no effect on the
# next prediction. Content staff find it with
#   SELECT sender_id, data FROM events WHERE type_name = 'slot' AND action_name = 'feedback'
FEEDBACK_SLOT = "feedback"
FEEDBACK_KINDS = frozenset({"answer", "safety", "fallback", "handoff"})
MAX_FEEDBACK_BYTES = 2048
_ANSWER_ID = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+")
_VERSION = re.compile(r"[A-Za-z0-9_.:-]{1,40}")
_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")
# Paths a browser may send a CORS preflight to (every route of the channel).
PREFLIGHT_PATHS = (
    "/",
    "/webhook",
    "/feedback",
    "/handoff",
    "/strings.json",
    *(f"/{name}" for name in ASSETS),
)
# What a browser on a listed origin may read of an answer besides the body: the
# conversation's key (bot/rasa_server/channels/_conversation_keys.py) and a 429's wait.
EXPOSED_HEADERS = "X-Conversation-Key, Retry-After"
# admit(request, sender, conversation_key) -> None, or the refusal to answer with
Admission = Callable[[Request, str, Optional[str]], Awaitable[Optional[HTTPResponse]]]


class Refused(ValueError):
    """A widget request the channel refuses: HTTP status, machine code and reason."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code

    def as_response(self) -> HTTPResponse:
        return response.json(
            {"error": str(self), "code": self.code},
            status=self.status,
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
        )


# ---- who may call ---------------------------------------------------------------------


def _origin(value: str) -> str:
    """`scheme://host[:port]`, lower case, as browsers send it in the `Origin` header."""
    parts = urlsplit(value.strip())
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(f"{value!r} is not an origin such as https://www.clinic.example")
    return f"{parts.scheme}://{parts.netloc}".lower()


class OriginPolicy:
    """The web origins whose pages may use the channel, from `cors_origins` in credentials.yml."""

    def __init__(self, origins: Iterable[str] = ()):
        origins = list(origins)
        self.any_origin = "*" in origins
        self.origins = frozenset(_origin(o) for o in origins if o != "*")

    @classmethod
    def from_credentials(cls, raw: Any) -> "OriginPolicy":
        """`cors_origins: [https://www.clinic.example, ...]`; a single string is one origin."""
        if raw is None or raw == "":
            return cls()
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, (list, tuple)) or not all(isinstance(o, str) for o in raw):
            raise ValueError(
                "webchat: cors_origins must be a list of origins " "such as https://www.clinic.example"
            )
        return cls(raw)

    @staticmethod
    def same_origin(origin: str, host: Optional[str]) -> bool:
        """A page the bot itself served (the demo page): its origin names the bot's own host."""
        return bool(host) and urlsplit(origin).netloc.lower() == host.lower()

    def allows(self, origin: Optional[str], host: Optional[str]) -> bool:
        """No `Origin` header means no web page is asking (curl, a server): always allowed."""
        if not origin:
            return True
        if self.same_origin(origin, host) or self.any_origin:
            return True
        try:
            return _origin(origin) in self.origins
        except ValueError:  # "null" (sandboxed frames, files) or garbage
            return False

    def cors_headers(self, origin: Optional[str], host: Optional[str]) -> Dict[str, str]:
        """Headers that let a listed origin's page read the answer."""
        if not origin or self.same_origin(origin, host) or not self.allows(origin, host):
            return {"Vary": "Origin"}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": EXPOSED_HEADERS,
            "Vary": "Origin",
        }


# ---- what a browser gets ----------------------------------------------------------------


def wants_html(accept: Optional[str]) -> bool:
    """True for a browser opening the page; False for health checks and API clients."""
    quality: Dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    html = quality.get("text/html", 0.0)
    return html > 0 and html > quality.get("application/json", 0.0)


def widget_strings() -> Dict[str, Any]:
    """Every interface string of the widget, in every language, from the catalogs."""
    return {
        "languages": {
            lang: {
                "name": interface_text(lang, LANGUAGE_NAMES[lang]),  # each language in itself
                "dir": "rtl" if lang in RTL_LANGUAGES else "ltr",
                "strings": {key: interface_text(lang, msgid) for key, msgid in WIDGET_STRINGS.items()},
            }
            for lang in LANGUAGES
        }
    }


def _asset(name: str) -> Tuple[bytes, str]:
    body = (WIDGET_DIR / name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@lru_cache(maxsize=32)
def _gzipped(body: bytes) -> bytes:
    """The body gzip-compressed, once per content (mtime 0: the same bytes every time)."""
    return gzip.compress(body, compresslevel=9, mtime=0)


def accepts_gzip(accept_encoding: Optional[str]) -> bool:
    for part in (accept_encoding or "").split(","):
        coding, *params = [p.strip().lower() for p in part.split(";")]
        if coding in ("gzip", "*"):
            return not any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
    return False


def file_response(
    request: Request, body: bytes, etag: str, content_type: str, headers: Dict[str, str]
) -> HTTPResponse:
    """`body` (304 when the client has it), gzip-compressed for a client that accepts it."""
    headers = {**headers, "Vary": "Accept-Encoding, Origin"}
    if len(body) > 512 and accepts_gzip(request.headers.get("accept-encoding")):
        body, etag = _gzipped(body), etag[:-1] + '-gz"'  # another representation, another ETag
        headers["Content-Encoding"] = "gzip"
    headers["ETag"] = etag
    if etag in (request.headers.get("if-none-match") or ""):
        headers.pop("Content-Encoding", None)
        return HTTPResponse(status=304, headers=headers)
    return HTTPResponse(body=body, status=200, headers=headers, content_type=content_type)  # HEAD: no body


def asset_response(request: Request, name: str) -> HTTPResponse:
    """One of the widget's files, with headers fit for embedding on other sites."""
    body, etag = _asset(name)
    headers = {
        **SECURITY_HEADERS,
        # revalidated each time (cheap with the ETag), so clinics get fixes at once
        "Cache-Control": "no-cache",
        # widget.js and widget.css are meant to be loaded by clinics' pages
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if name.endswith(".html"):
        headers.update(
            {
                "Content-Security-Policy": DEMO_PAGE_CSP,
                "X-Frame-Options": "DENY",
                "Cross-Origin-Resource-Policy": "same-origin",
                "Referrer-Policy": "no-referrer",
            }
        )
    return file_response(request, body, etag, ASSETS[name], headers)


@lru_cache(maxsize=1)
def _strings_file() -> Tuple[bytes, str]:
    body = json.dumps(widget_strings(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def preflight(request: Request, origins: "OriginPolicy") -> HTTPResponse:
    """The answer to a browser's CORS preflight (`OPTIONS`): 204, and for a listed origin what its
    page may send. The widget itself needs none (it posts text/plain); a clinic's own script
    posting `application/json` does."""
    origin, host = request.headers.get("origin"), request.headers.get("host")
    headers = {
        **SECURITY_HEADERS,
        "Allow": "GET, HEAD, POST, OPTIONS",
        "Vary": "Origin",
        "Cache-Control": "no-store",
    }
    if origin and not origins.same_origin(origin, host) and origins.allows(origin, host):
        headers.update(
            {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET, HEAD, POST",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
    return HTTPResponse(status=204, headers=headers)


def demo_page(request: Request) -> HTTPResponse:
    return asset_response(request, "demo.html")


# ---- feedback ---------------------------------------------------------------------------


def parse_feedback(body: bytes) -> Dict[str, Any]:
    """`{"sender", "answer_id", "helpful", "version"?, "lang"?}`, checked; raises `Refused`."""
    if len(body) > MAX_FEEDBACK_BYTES:
        raise Refused(400, "body_too_large", f"the request body is larger than {MAX_FEEDBACK_BYTES} bytes")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
        raise Refused(400, "invalid_json", 'the body is not JSON; send {"sender", "answer_id", "helpful"}')
    if not isinstance(payload, dict):
        raise Refused(400, "invalid_json", "the body must be a JSON object")
    sender, answer_id, helpful = payload.get("sender"), payload.get("answer_id"), payload.get("helpful")
    if not isinstance(sender, str) or not SENDER_ID.fullmatch(sender):
        raise Refused(400, "invalid_sender", "'sender' is missing or invalid: 1-128 letters, digits or _.:@-")
    if not isinstance(answer_id, str) or len(answer_id) > 100 or not _ANSWER_ID.fullmatch(answer_id):
        raise Refused(400, "invalid_answer_id", "'answer_id' is missing or is not an answer id")
    if not isinstance(helpful, bool):
        raise Refused(400, "invalid_feedback", "'helpful' must be true or false")
    key = payload.get("conversation_key")
    if key is not None and (not isinstance(key, str) or not _KEY.fullmatch(key)):
        raise Refused(400, "invalid_conversation_key", "'conversation_key' is not a conversation key")
    feedback: Dict[str, Any] = {"answer_id": answer_id, "helpful": helpful}
    version, lang = payload.get("version"), payload.get("lang")
    if isinstance(version, str) and _VERSION.fullmatch(version):
        feedback["version"] = version
    if lang in LANGUAGES:
        feedback["lang"] = lang
    return {"sender": sender, "feedback": feedback, "conversation_key": key}


def _was_shown(tracker: Any, answer_id: str) -> bool:
    from rasa.shared.core.events import BotUttered

    return any(
        isinstance(e, BotUttered) and (e.metadata or {}).get("answer_id") == answer_id for e in tracker.events
    )


async def store_feedback(agent: Any, sender: str, feedback: Dict[str, Any]) -> None:
    """Append the feedback to the conversation's tracker; only for an answer it was shown."""
    from rasa.shared.core.events import SlotSet

    if agent is None or getattr(agent, "processor", None) is None:
        raise Refused(503, "unavailable", "the assistant is not ready; please try again")
    async with agent.lock_store.lock(sender):
        # every session of the conversation: a page left open may outlive a session
        history = await agent.tracker_store.retrieve_full_tracker(sender)
        if history is None or not _was_shown(history, feedback["answer_id"]):
            raise Refused(404, "unknown_answer", "this conversation was not shown that answer")
        tracker = await agent.processor.get_tracker(sender)
        tracker.update(SlotSet(FEEDBACK_SLOT, feedback))
        await agent.tracker_store.save(tracker)
    logger.info(
        "feedback on %s: %s", feedback["answer_id"], "helpful" if feedback["helpful"] else "not helpful"
    )


# ---- registration -----------------------------------------------------------------------


def register_widget_routes(
    blueprint: Blueprint, origins: OriginPolicy, admit: Optional[Admission] = None
) -> None:
    """Add the widget's routes, the origin check and the headers to the channel's blueprint.

    `admit` (the channel's rate limits and conversation keys) decides whether a feedback
    request may go on; without it only tests call the route.
    """

    @blueprint.middleware("request")
    async def check_origin(request: Request) -> Optional[HTTPResponse]:
        # This blueprint answers CORS itself; Rasa's app-wide CORS layer (rasa run --cors)
        # must not add a second Access-Control-Allow-Origin header.
        from sanic_cors.core import SANIC_CORS_EVALUATED

        setattr(request.ctx, SANIC_CORS_EVALUATED, "1")
        origin, host = request.headers.get("origin"), request.headers.get("host")
        if request.method == "POST" and not origins.allows(origin, host):
            logger.warning("webchat: refused a request from the page origin %r (not in cors_origins)", origin)
            return Refused(
                403,
                "origin_not_allowed",
                "this web page's origin is not listed in the channel's cors_origins",
            ).as_response()
        return None

    @blueprint.middleware("response")
    async def add_headers(request: Request, resp: HTTPResponse) -> Optional[HTTPResponse]:
        if request.method == "OPTIONS":
            # Rasa's app-wide CORS layer runs first and answers every OPTIONS with a bare 200
            # and `content-type: None`; the channel's own preflight answer replaces it.
            return preflight(request, origins)
        headers = origins.cors_headers(request.headers.get("origin"), request.headers.get("host"))
        for name, value in {**SECURITY_HEADERS, **headers}.items():
            if name not in resp.headers:
                resp.headers[name] = value
        if "Cache-Control" not in resp.headers:
            resp.headers["Cache-Control"] = "no-store"  # conversations are not cached anywhere
        return None

    def serve(name: str):
        async def widget_file(request: Request) -> HTTPResponse:
            return asset_response(request, name)

        return widget_file

    for name in ASSETS:  # one fixed route per file: no path from the request reaches the disk
        blueprint.add_route(
            serve(name), f"/{name}", methods=["GET", "HEAD"], name="widget_" + name.replace(".", "_")
        )

    @blueprint.route("/strings.json", methods=["GET", "HEAD"])
    async def strings(request: Request) -> HTTPResponse:
        body, etag = _strings_file()
        return file_response(
            request,
            body,
            etag,
            "application/json",
            {"Cache-Control": "no-cache", "Cross-Origin-Resource-Policy": "cross-origin"},
        )

    # Every path of the channel answers a CORS preflight itself (add_headers, above); a
    # route that accepts OPTIONS is what makes the blueprint's middleware run for it.
    async def options(request: Request) -> HTTPResponse:
        return preflight(request, origins)

    for path in PREFLIGHT_PATHS:
        blueprint.add_route(
            options,
            path,
            methods=["OPTIONS"],
            name="preflight_" + (path.strip("/").replace(".", "_") or "root"),
        )

    @blueprint.route("/feedback", methods=["POST"])
    async def feedback(request: Request) -> HTTPResponse:
        try:
            parsed = parse_feedback(request.body or b"")
            # the conversation's key before anything is read: the answer never depends on
            # what another conversation contains
            refusal = await admit(request, parsed["sender"], parsed["conversation_key"]) if admit else None
            if refusal is not None:
                return refusal
            agent = getattr(request.app.ctx, "agent", None)
            await store_feedback(agent, parsed["sender"], parsed["feedback"])
        except Refused as refused:
            return refused.as_response()
        except Exception:  # noqa: BLE001 - a failed feedback is reported, never a 500
            logger.exception("webchat: storing feedback failed")
            return Refused(
                503, "unavailable", "the feedback could not be stored; please try again"
            ).as_response()
        return response.json({"status": "stored"})
