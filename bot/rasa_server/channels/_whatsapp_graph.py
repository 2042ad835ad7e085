"""Sending messages through the WhatsApp Cloud API (Meta's Graph API).

One HTTP session per channel, for connection reuse. A slow or failing API never crashes
the server: each request has a timeout, 429 and 5xx answers are retried with backoff,
and after the last attempt the failure is logged and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Dict, Optional, Sequence

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# Read receipts and the typing indicator are a courtesy: one attempt, a short wait, and
# they never hold up an answer.
ACKNOWLEDGE_TIMEOUT = 3.0
DEFAULT_BACKOFF = (0.5, 1.0, 2.0)  # seconds before the 2nd, 3rd and 4th attempt
MAX_RETRY_AFTER = 10.0
# Graph error texts can quote the recipient's number; never let one into a log.
_LONG_NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def log_safe(text: str, limit: int = 300) -> str:
    """`text` with anything that looks like a phone number removed, shortened for a log."""
    return _LONG_NUMBER.sub("<number>", str(text))[:limit]


class GraphAPI:
    """`POST {api_url}/{phone_number_id}/messages` with the access token."""

    def __init__(
        self,
        api_url: str,
        phone_number_id: str,
        access_token: str,
        timeout: float = DEFAULT_TIMEOUT,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
    ) -> None:
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}", "Content-Type": "application/json"}
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.backoff = tuple(backoff)
        self._session: Optional[aiohttp.ClientSession] = None

    def _client(self) -> aiohttp.ClientSession:
        # Created on first use, inside the server's event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def acknowledge(
        self, message_id: str, conversation: str, typing: bool = False, timeout: float = ACKNOWLEDGE_TIMEOUT
    ) -> bool:
        """Mark a person's message read (blue ticks) and, with `typing`, show "typing…" until
        the answer is sent (WhatsApp hides it then, or after 25 seconds). One attempt; a
        failure is logged and changes nothing else."""
        body: Dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        try:
            async with self._client().post(
                self.url,
                data=json.dumps(body).encode("utf-8"),
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                if resp.status < 300:
                    return True
                problem = f"HTTP {resp.status}: {log_safe(await resp.text())}"
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
            problem = f"{type(err).__name__}: {log_safe(err)}"
        logger.warning(
            "whatsapp: could not mark a message from %s read%s (%s); answering anyway",
            conversation,
            " or show typing" if typing else "",
            problem,
        )
        return False

    async def send(self, to: str, message: Dict[str, Any], conversation: str) -> Optional[str]:
        """Send one message object to the number `to`; once the API accepted it, the id it
        gave the message ("" if it gave none), else None.

        `conversation` (the hashed id) is what the logs name; `to` never appears in them.
        """
        body = json.dumps(
            {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message},
            ensure_ascii=False,
        ).encode("utf-8")
        attempts = len(self.backoff) + 1
        for attempt in range(1, attempts + 1):
            retry_after = None
            try:
                async with self._client().post(self.url, data=body, headers=self._headers) as resp:
                    if resp.status < 300:
                        return _message_id(await resp.text())
                    detail = log_safe(await resp.text())
                    if resp.status != 429 and resp.status < 500:
                        # Our request is wrong (bad token, a limit broken): retrying cannot help.
                        logger.error(
                            "whatsapp: the Graph API refused a %s message for %s (HTTP %s): %s",
                            message.get("type"),
                            conversation,
                            resp.status,
                            detail,
                        )
                        return None
                    retry_after = _seconds(resp.headers.get("Retry-After"))
                    problem = f"HTTP {resp.status}: {detail}"
            except asyncio.CancelledError:
                raise
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
                problem = f"{type(err).__name__}: {log_safe(err)}"
            if attempt < attempts:
                delay = max(self.backoff[attempt - 1], min(retry_after or 0.0, MAX_RETRY_AFTER))
                logger.warning(
                    "whatsapp: sending to %s failed (%s); attempt %d of %d in %.1f s",
                    conversation,
                    problem,
                    attempt + 1,
                    attempts,
                    delay,
                )
                await asyncio.sleep(delay)
        logger.error(
            "whatsapp: gave up sending a %s message to %s after %d attempts (%s)",
            message.get("type"),
            conversation,
            attempts,
            problem,
        )
        return None


def _message_id(body: str) -> str:
    """The wamid in the API's answer `{"messages": [{"id": "wamid..."}]}`, or ""."""
    try:
        found = json.loads(body)["messages"][0]["id"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return found if isinstance(found, str) else ""


def _seconds(value: Optional[str]) -> Optional[float]:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
