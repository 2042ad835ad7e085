"""Whether the WhatsApp channel is switched on, decided from the environment alone.

Secrets never go in a committed file. `credentials.yml` holds no WhatsApp section, because
Rasa refuses to start when a `${NAME}` it references is unset; instead the servers write a
runtime copy with the section added, referencing the variables, only when they are set.
This module imports neither Rasa nor the channel, so `python -m bot run` can check the
environment before it starts anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

import yaml

from bot.core._yaml import read_yaml

CHANNEL_KEY = "bot.rasa_server.channels.whatsapp.WhatsAppInput"

# credentials.yml key -> environment variable
CREDENTIAL_VARIABLES = {
    "app_secret": "WHATSAPP_APP_SECRET",
    "verify_token": "WHATSAPP_VERIFY_TOKEN",
    "access_token": "WHATSAPP_ACCESS_TOKEN",
    "phone_number_id": "WHATSAPP_PHONE_NUMBER_ID",
    "api_url": "WHATSAPP_API_URL",
    "phone_hash_key": "PHONE_HASH_KEY",
}
REQUIRED_VARIABLES = tuple(CREDENTIAL_VARIABLES.values())
# A shorter key makes the phone-number hash guessable by trying every number.
MIN_HASH_KEY_LENGTH = 16


class WhatsAppConfigError(ValueError):
    """The WhatsApp settings are incomplete or invalid; the message names what to fix."""


def _set(env: Mapping[str, str], name: str) -> bool:
    return bool(str(env.get(name) or "").strip())


def missing_variables(env: Mapping[str, str]) -> List[str]:
    return [name for name in REQUIRED_VARIABLES if not _set(env, name)]


def problems(settings: Mapping[str, Any]) -> List[str]:
    """What is wrong with the values themselves (shared with the channel's own check)."""
    found = []
    key = str(settings.get("phone_hash_key") or "")
    if key and len(key) < MIN_HASH_KEY_LENGTH:
        found.append(
            f"PHONE_HASH_KEY must be at least {MIN_HASH_KEY_LENGTH} characters "
            "(a random string, e.g. `openssl rand -hex 32`)"
        )
    url = str(settings.get("api_url") or "")
    if url and not url.startswith(("https://", "http://")):
        found.append("WHATSAPP_API_URL must be an http(s) URL such as https://graph.facebook.com/v21.0")
    number_id = str(settings.get("phone_number_id") or "").strip()
    if number_id and not number_id.isdigit():
        found.append(
            "WHATSAPP_PHONE_NUMBER_ID must be the numeric id Meta shows for the number, "
            "not the phone number with a +"
        )
    return found


def whatsapp_credentials(env: Mapping[str, str]) -> Optional[Dict[str, str]]:
    """The channel's credentials section, or None when no WHATSAPP_* variable is set.

    Raises `WhatsAppConfigError` naming the missing variables when only some are set,
    so a half-configured number never silently runs without signatures or hashing.
    """
    if not any(_set(env, name) for name in REQUIRED_VARIABLES if name.startswith("WHATSAPP_")):
        return None
    missing = missing_variables(env)
    if missing:
        raise WhatsAppConfigError(
            "the WhatsApp channel is only partly configured: set "
            + ", ".join(missing)
            + " (or unset every WHATSAPP_* variable to run without WhatsApp)"
        )
    wrong = problems({key: env.get(var) for key, var in CREDENTIAL_VARIABLES.items()})
    if wrong:
        raise WhatsAppConfigError("the WhatsApp settings are invalid: " + "; ".join(wrong))
    return {key: "${%s}" % var for key, var in CREDENTIAL_VARIABLES.items()}


def runtime_credentials(source: Path, target: Path, env: Mapping[str, str]) -> Path:
    """Write `source` to `target`, with the WhatsApp section only when the environment enables it.

    Non-secret options already under the channel in `source` (e.g. `text_limit`) are kept;
    the secrets are always `${NAME}` references that Rasa fills in from the environment.
    """
    config = read_yaml(source) or {}
    options = config.pop(CHANNEL_KEY, None) or {}
    section = whatsapp_credentials(env)
    if section is not None:
        config[CHANNEL_KEY] = {**{k: v for k, v in options.items() if k not in section}, **section}
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target
