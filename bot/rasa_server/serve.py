"""The Rasa server, started in-process: `python -m bot.rasa_server [rasa run options]`.

The same as `rasa run` with the given options, plus what `rasa run` cannot do from
its command line:

- **No secret on the command line.** `--api-token-file FILE` (a 0600 file; JSON with
  a `token`, or the token alone) enables Rasa's HTTP API with that token. The token is
  handed to Rasa inside this process, so it never appears in `ps`. The API is only
  enabled when the server listens on loopback (`--interface 127.0.0.1`).
- **Log privacy** (`bot.core.log_privacy.install`): no message text, tracker or phone
  number in a log record or warning.
- **Stops with its supervisor** (`bot.core._lifeline`).
- **Bounded requests and JSON errors on every route**: request bodies over 1 MB are
  refused before they are read whole (Sanic's default is 100 MB), and any error Sanic
  raises itself (unknown route, wrong method, body too large) is answered with
  `{"error", "code"}` rather than an HTML page or a stack trace.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, List, Optional

from bot.core import _lifeline, log_privacy
from bot.core.settings import is_loopback

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024  # the largest body any route accepts (WhatsApp's webhook)
_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "body_too_large",
    500: "internal_error",
    503: "unavailable",
}


def read_token(path: Path) -> str:
    """The API token from `path`: JSON `{"token": ...}` (var/rasa-api.json) or the bare token."""
    raw = path.read_text(encoding="utf-8").strip()
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    return str(data.get("token") or "") if isinstance(data, dict) else raw


def error_response(request: Any, exception: Exception) -> Any:
    """`{"error", "code"}` for anything Sanic raises itself, never the request's content."""
    from sanic import response
    from sanic.exceptions import SanicException

    status = getattr(exception, "status_code", 500) if isinstance(exception, SanicException) else 500
    if status >= 500:
        logger.error(
            "%s on %s %s", type(exception).__name__, request.method, request.path, exc_info=exception
        )
        message = "the server could not handle this request"
    else:
        too_large = f"the request body is larger than {MAX_REQUEST_BYTES} bytes"
        message = too_large if status == 413 else str(exception)
    return response.json({"error": message, "code": _CODES.get(status, "error")}, status=status)


def harden(app: Any) -> Any:
    """Request size limit and JSON errors for the Rasa server's Sanic app."""
    from sanic.exceptions import SanicException

    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES
    app.error_handler.add(SanicException, error_response)
    app.error_handler.add(Exception, error_response)
    return app


def _install_hardening() -> None:
    import rasa.core.run

    configure_app = rasa.core.run.configure_app

    def configure(*args: Any, **kwargs: Any) -> Any:
        return harden(configure_app(*args, **kwargs))

    rasa.core.run.configure_app = configure


def rasa_arguments(argv: Optional[List[str]] = None) -> List[str]:
    """`rasa run` arguments: ours removed, the API token added when asked for."""
    parser = argparse.ArgumentParser(prog="python -m bot.rasa_server", add_help=False)
    parser.add_argument("--api-token-file", type=Path)
    parser.add_argument("--interface", "-i", default="0.0.0.0")
    ours, rest = parser.parse_known_args(argv)
    args = ["run", "--interface", ours.interface, *rest]
    if ours.api_token_file:
        if not is_loopback(ours.interface):
            raise SystemExit(
                "refusing to enable Rasa's HTTP API on a non-loopback interface "
                f"({ours.interface}); see docs/deploy.md"
            )
        token = read_token(ours.api_token_file)
        if len(token) < 16:
            raise SystemExit(f"{ours.api_token_file} holds no usable API token")
        # One argument, `--auth-token=...`: a token is random URL-safe text, and one that starts
        # with "-" (1 in 64) would otherwise be read by Rasa's parser as an option of its own.
        args += ["--enable-api", f"--auth-token={token}"]
    return args


def main(argv: Optional[List[str]] = None) -> None:
    _lifeline.watch_parent()
    log_privacy.install()
    arguments = rasa_arguments(argv)
    _install_hardening()
    import rasa.__main__

    # Rasa reads sys.argv; replacing it here changes nothing the process list shows.
    sys.argv = ["rasa", *arguments]
    rasa.__main__.main()


if __name__ == "__main__":
    main()
