"""Interface catalogs (locales/<lang>/LC_MESSAGES/messages.po): readable and complete.

The bot's own strings (the clinician reminder, button labels) are gettext messages;
each one it uses must be translated, and not left fuzzy, in all three languages.
"""

from __future__ import annotations

from typing import Dict, List

from babel.messages.pofile import PoFileError

from bot import LANGUAGES
from bot.core.i18n import TOPICS_BUTTON, USED_MSGIDS, catalog_path, read_catalog
from bot.core.problems import Problem
from bot.core.whatsapp_limits import LIST_BUTTON_LABEL
from bot.core.whatsapp_limits import units as _units
from bot.tools.content.paths import ContentPaths

# Strings WhatsApp shows in a place with a hard limit (UTF-16 units).
LIMITED = {TOPICS_BUTTON: (LIST_BUTTON_LABEL, "the WhatsApp list button")}


def interface_strings(paths: ContentPaths) -> Dict[str, Dict[str, str]]:
    """{lang: {msgid: translation}} of the catalogs that can be read (English falls back to the msgid)."""
    out: Dict[str, Dict[str, str]] = {}
    for lang in LANGUAGES:
        try:
            catalog = read_catalog(lang, paths.locales, strict=True)
        except (OSError, PoFileError, ValueError):
            catalog = None
        strings = {m: m for m in USED_MSGIDS} if lang == "en" else {}
        for message in catalog or []:
            if message.id and message.string and not message.fuzzy:
                strings[message.id] = message.string
        out[lang] = strings
    return out


def check_catalogs(paths: ContentPaths) -> List[Problem]:
    problems: List[Problem] = []
    for lang in LANGUAGES:
        path = catalog_path(lang, paths.locales)
        try:
            catalog = read_catalog(lang, paths.locales, strict=True)
        except OSError:
            problems.append(
                Problem(
                    path,
                    1,
                    f"the {lang} interface catalog is missing; copy "
                    "locales/en/LC_MESSAGES/messages.po and translate it",
                )
            )
            continue
        except (PoFileError, ValueError) as err:
            line = (getattr(err, "lineno", 0) or 0) + 1  # Babel counts from 0
            problems.append(
                Problem(
                    path,
                    line,
                    f"the catalog cannot be read ({err}); check the quotes "
                    "and the msgid/msgstr pairs around this line",
                )
            )
            continue
        for msgid in USED_MSGIDS:
            message = catalog.get(msgid)
            if message is None:
                problems.append(
                    Problem(
                        path,
                        1,
                        f"interface string {msgid!r} is missing from the {lang} "
                        f"catalog; add msgid {msgid!r} and its translation",
                    )
                )
                continue
            line = message.lineno or 1
            if not message.string:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"interface string {msgid!r} is not translated into " f"{lang}; write its msgstr",
                    )
                )
            elif message.fuzzy:
                problems.append(
                    Problem(
                        path,
                        line,
                        f"interface string {msgid!r} is marked fuzzy in {lang} "
                        "(a translator has not confirmed it); check it and remove "
                        "the '#, fuzzy' line",
                    )
                )
            elif msgid in LIMITED and _units(message.string) > LIMITED[msgid][0]:
                limit, where = LIMITED[msgid]
                problems.append(
                    Problem(
                        path,
                        line,
                        f"the {lang} text of {msgid!r} has "
                        f"{_units(message.string)} characters; {where} allows {limit}: "
                        "shorten it",
                    )
                )
    return problems
