"""The action server: `python -m bot.action_server [--port 5055] [--host 127.0.0.1]`.

rasa_sdk's actions (`actions/`), served the way `rasa run actions` serves them, with
what `rasa run actions` does not do:

- **Loopback by default.** It listens on `ACTION_SERVER_HOST` (default 127.0.0.1), not
  on every interface.
- **A shared secret.** With `ACTION_SERVER_SECRET` set, `POST /webhook` and
  `GET /actions` need `Authorization: Bearer <secret>`, which the Rasa server sends
  (`action_endpoint.headers` in the endpoints file). Listening on anything but
  loopback without a secret is refused at start. `GET /health` stays open (it says
  only "ok").
- **Errors never echo the request.** rasa_sdk answers an action that fails with the
  whole tracker (`request_body`) and logs the request; here a failure is
  `{"error", "code"}` and the log names the exception, scrubbed
  (`bot.core.log_privacy`).
- No CORS (only the Rasa server calls it), and it stops with its supervisor
  (`bot.core._lifeline`).
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import os
import zlib
from typing import Any, Dict, List, Optional

from bot.core import _lifeline, log_privacy
from bot.core.settings import is_loopback

logger = logging.getLogger(__name__)

DEFAULT_PORT = 5055
HOST_VARIABLE = "ACTION_SERVER_HOST"
SECRET_VARIABLE = "ACTION_SERVER_SECRET"
MAX_REQUEST_BYTES = 16 * 1024 * 1024  # a long conversation's tracker
MAX_USER_TEXTS_MARKED = 100


class Unsafe(SystemExit):
    """A configuration the action server refuses to start with."""


def check_settings(host: str, secret: str) -> None:
    if not is_loopback(host) and not secret:
        raise Unsafe(
            f"the action server would listen on {host} without a secret: set {SECRET_VARIABLE} "
            f"(and the same in the Rasa server's action_endpoint headers), or keep "
            f"{HOST_VARIABLE}=127.0.0.1; see docs/deploy.md"
        )
    if secret and len(secret) < 16:
        raise Unsafe(
            f"{SECRET_VARIABLE} is too short: use at least 16 random characters "
            "(e.g. `openssl rand -hex 32`)"
        )


def _error(status: int, code: str, message: str, **extra: Any) -> Any:
    from sanic import response

    return response.json({"error": message, "code": code, **extra}, status=status)


def _user_texts(action_call: Dict[str, Any]) -> List[str]:
    """What the people in this conversation wrote, so no log line can quote it."""
    tracker = action_call.get("tracker") if isinstance(action_call.get("tracker"), dict) else {}
    texts = []
    latest = tracker.get("latest_message") if isinstance(tracker.get("latest_message"), dict) else {}
    if isinstance(latest.get("text"), str):
        texts.append(latest["text"])
    events = tracker.get("events") if isinstance(tracker.get("events"), list) else []
    for event in reversed(events):
        if len(texts) >= MAX_USER_TEXTS_MARKED:
            break
        if isinstance(event, dict) and event.get("event") == "user" and isinstance(event.get("text"), str):
            texts.append(event["text"])
    return texts


def _read_call(request: Any) -> Dict[str, Any]:
    body = request.body or b""
    if request.headers.get("Content-Encoding") == "deflate":
        inflater = zlib.decompressobj()
        body = inflater.decompress(body, MAX_REQUEST_BYTES)
        if inflater.unconsumed_tail:
            raise ValueError("the inflated body is too large")
    call = json.loads(body.decode("utf-8"))
    if (
        not isinstance(call, dict)
        or not isinstance(call.get("next_action"), str)
        or not isinstance(call.get("tracker"), dict)
    ):
        raise ValueError("expected an action call: {next_action, tracker, domain, version}")
    return call


def create_app(secret: str, actions_package: str = "actions") -> Any:
    from rasa_sdk import utils
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
    from sanic import Sanic, response
    from sanic.exceptions import SanicException

    app = Sanic("clinic_actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
    executor = ActionExecutor()
    executor.register_package(actions_package)
    expected = f"Bearer {secret}".encode() if secret else b""

    def authorised(request: Any) -> bool:
        if not secret:
            return True
        return hmac.compare_digest((request.headers.get("authorization") or "").encode(), expected)

    @app.get("/health")
    async def health(_: Any) -> Any:
        return response.json({"status": "ok"})

    @app.get("/actions")
    async def actions(request: Any) -> Any:
        if not authorised(request):
            return _error(401, "unauthorized", "the action server's secret is missing or wrong")
        return response.json([{"name": name} for name in executor.actions])

    @app.post("/webhook")
    async def webhook(request: Any) -> Any:
        if not authorised(request):
            logger.warning("refused an action call without the right secret from %s", request.ip)
            return _error(401, "unauthorized", "the action server's secret is missing or wrong")
        try:
            call = _read_call(request)
        except (ValueError, UnicodeDecodeError, RecursionError, zlib.error):
            return _error(400, "invalid_body", "the body is not an action call", action_name=None)
        log_privacy.mark_handling(*_user_texts(call))
        utils.check_version_compatibility(call.get("version"))
        try:
            result = await executor.run(call)
        except ActionExecutionRejection as e:
            return _error(400, "rejected", e.message, action_name=e.action_name)
        except ActionNotFoundException as e:
            logger.error("no action named %r", e.action_name)
            return _error(404, "unknown_action", e.message, action_name=e.action_name)
        except Exception as e:  # noqa: BLE001 - answered without the request, logged scrubbed
            logger.error("the action %s failed: %s", call.get("next_action"), type(e).__name__, exc_info=e)
            return _error(500, "action_failed", "the action failed")
        return response.json(result)

    @app.exception(SanicException)
    async def sanic_error(request: Any, exception: SanicException) -> Any:
        status = getattr(exception, "status_code", 500)
        return _error(
            status, "bad_request" if status < 500 else "internal_error", "the request could not be handled"
        )

    @app.exception(Exception)
    async def any_error(request: Any, exception: Exception) -> Any:
        logger.error("%s on %s", type(exception).__name__, request.path, exc_info=exception)
        return _error(500, "internal_error", "the request could not be handled")

    return app


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.action_server", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_SERVER_PORT") or DEFAULT_PORT))
    parser.add_argument("--host", default=os.environ.get(HOST_VARIABLE) or "127.0.0.1")
    parser.add_argument("--actions", default="actions", help="the package of actions (default: actions)")
    args = parser.parse_args(argv)
    secret = os.environ.get(SECRET_VARIABLE, "")
    check_settings(args.host, secret)
    _lifeline.watch_parent()
    log_privacy.install()

    from rasa_sdk import utils

    utils.configure_colored_logging(logging.INFO)
    utils.update_sanic_log_level()
    app = create_app(secret, args.actions)
    logger.info(
        "action server on http://%s:%s (%s)",
        args.host,
        args.port,
        "secret required" if secret else "no secret: loopback only",
    )
    app.run(host=args.host, port=args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
