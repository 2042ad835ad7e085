"""The HTML pages: Jinja2 templates (bot/workbench/templates/), escaped by default.

Patient text is always put in with `dir="auto"` and its language, so Arabic and Urdu read
right to left inside the English interface.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Optional

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.workbench.analytics import FORM_LABELS

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
HTML_LANG = {"en": "en", "ar": "ar", "ur": "ur", "roman_ur": "ur-Latn"}

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(at: Optional[float]) -> str:
    if not at:
        return "-"
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _percent(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.0%}"


_env.filters.update(
    when=_when,
    percent=_percent,
    form_label=lambda f: FORM_LABELS.get(f, f),
    html_lang=lambda f: HTML_LANG.get(f, ""),
)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    session = request.get("session")
    page = _env.get_template(template).render(
        session=session,
        staff=session.staff if session else None,
        csrf=session.csrf if session else "",
        path=request.path,
        **context,
    )
    response = web.Response(text=page, status=status, content_type="text/html", charset="utf-8")
    return response
