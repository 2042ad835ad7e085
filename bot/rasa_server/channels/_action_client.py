"""The Rasa server's calls to the action server, made cheaper.

1. One reused HTTP connection pool from the Rasa server to the action server.

Rasa 3.6's `EndpointConfig.request` opens a new aiohttp session, so a new TCP
connection, for every call to the action server, then closes it. Every message here
calls the action server once, so that is a connect, a request and a close per message,
and, under load, thousands of sockets in TIME_WAIT. `reuse_action_server_connections()`
swaps in the same request with one session per process (per event loop), kept alive
between messages. Measured in README "Performance".

Keep-alive connections are dropped after 2 s idle, before the action server's own
5 s keep-alive timeout (Sanic's default) closes them under us. A request that finds
its reused connection closed by the server is retried once on a new connection; the
action server's answer is a pure function of the tracker, so a repeat is harmless.

2. The action server's reply is checked against Rasa's response schema with a
validator built once, instead of re-validating the schema itself on every reply
(`_validate_action_result`).

3. The action call carries the latest turn's events, not the whole session's. Rasa sends
every event of the session (up to 150 here, about 1 KB each) as JSON with every call,
though our only action reads the latest message, its user event and the slots
(actions/turn.py), which the call still carries in full. Encoding them was about 5% of
the Rasa server's time per message (profiled), and the action server decoded them again.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

import aiohttp

KEEPALIVE_SECONDS = 2.0
_sessions: Dict[int, aiohttp.ClientSession] = {}
_installed = {"done": False}


def _session() -> aiohttp.ClientSession:
    loop = asyncio.get_running_loop()
    session = _sessions.get(id(loop))
    if session is None or session.closed:
        connector = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS, limit=100)
        session = aiohttp.ClientSession(connector=connector)
        _sessions[id(loop)] = session
    return session


async def _request(
    self,
    method: Text = "post",
    subpath: Optional[Text] = None,
    content_type: Optional[Text] = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Optional[Any]:
    """`rasa.utils.endpoints.EndpointConfig.request`, on the process's shared session."""
    import rasa.utils.endpoints as rasa_endpoints
    from rasa.shared.exceptions import FileNotFoundException

    headers: Dict[str, str] = {}
    if content_type:
        headers["Content-Type"] = content_type
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(self.headers or {})
    url = rasa_endpoints.concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, " f"'{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    auth = (
        aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
        if self.basic_auth
        else None
    )
    timeout = kwargs.pop("timeout", None) or rasa_endpoints.DEFAULT_REQUEST_TIMEOUT
    if not isinstance(timeout, aiohttp.ClientTimeout):
        timeout = aiohttp.ClientTimeout(total=timeout)
    params = self.combine_parameters(kwargs)
    for attempt in (1, 2):
        try:
            async with _session().request(
                method,
                url,
                headers=headers,
                params=params,
                compress=compress,
                ssl=sslcontext,
                auth=auth,
                timeout=timeout,
                **kwargs,
            ) as response:
                if response.status >= 400:
                    raise rasa_endpoints.ClientResponseError(
                        response.status, response.reason, await response.content.read()
                    )
                try:
                    return await response.json()
                except aiohttp.ContentTypeError:
                    return None
        except aiohttp.ServerDisconnectedError:
            if attempt == 2:
                raise
    return None  # not reached


class ReplyCheck:
    """Rasa's check of an action-server reply (`action_response_format_spec`), the same verdict
    for every reply at a tenth of the cost.

    Rasa's event schema says each event must match exactly one of 23 event schemas
    (`oneOf`), and each of those differs from the others by its `event` name (`const`). So
    jsonschema tried all 23 for every event of every reply (about 1 ms a message, profiled).
    An event is valid under `oneOf` exactly when it is valid under the one schema for its own
    `event` name, which is the one checked here; an unknown name matches none and is refused,
    as before (tests/bot/rasa_server/channels/test_action_client.py compares both on valid and broken replies).
    """

    def __init__(self, schema: Dict[str, Any]) -> None:
        from jsonschema import validators

        event = schema["properties"]["events"]["items"]
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        shell = {k: v for k, v in event.items() if k != "oneOf"}
        envelope = {
            **schema,
            "properties": {**schema["properties"], "events": {"type": "array", "items": shell}},
        }
        self._envelope = cls(envelope)
        self._by_name = {s["properties"]["event"]["const"]: cls(s) for s in event["oneOf"]}

    def validate(self, reply: Any) -> None:
        from jsonschema import ValidationError

        self._envelope.validate(reply)
        for event in reply.get("events") or []:
            check = self._by_name.get(event["event"])
            if check is None:
                raise ValidationError(f"{event['event']!r} is not an event type Rasa knows")
            check.validate(event)


@lru_cache(maxsize=1)
def _reply_check() -> ReplyCheck:
    from rasa.core.actions.action import RemoteAction

    return ReplyCheck(RemoteAction.action_response_format_spec())


def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
    """`RemoteAction._validate_action_result` with the schema checked once per process, and
    each event checked against its own event schema only (`ReplyCheck`).

    Rasa calls `jsonschema.validate(result, schema)` on every action-server reply, which
    first validates the schema itself against the JSON Schema meta-schema; with the
    jsonschema version Rasa 3.6 pins, that alone was about half of the Rasa server's time
    per message (profiled: ~25 ms of ~45 ms). The reply is validated exactly as before.
    """
    from jsonschema import ValidationError
    from rasa.core.actions.action import DOCS_BASE_URL

    try:
        _reply_check().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def latest_turn(events: Any) -> List[Any]:
    """The events from the latest user message on (all of them if there is none)."""
    from rasa.shared.core.events import UserUttered

    found = []
    for event in reversed(events):
        found.append(event)
        if isinstance(event, UserUttered):
            found.reverse()
            return found
    return list(events)


def _action_call_format(self, tracker: Any, domain: Any) -> Dict[Text, Any]:
    """`RemoteAction._action_call_format` with the latest turn's events only."""
    import rasa
    from rasa.shared.core.trackers import EventVerbosity

    state = tracker.current_state(EventVerbosity.NONE)  # slots, latest message, ... but no events
    state["events"] = [event.as_dict() for event in latest_turn(tracker.events)]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state}
    result["version"] = rasa.__version__
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(
        self.name()
    ):
        result["domain"] = domain.as_dict()
    return result


def reuse_action_server_connections() -> None:
    """Make every Rasa endpoint call in this process use one kept-alive session, validate
    action-server replies against a schema checked once, and send the latest turn's events."""
    if _installed["done"]:
        return
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    EndpointConfig.request = _request  # type: ignore[assignment]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    RemoteAction._action_call_format = _action_call_format  # type: ignore[assignment]
    _installed["done"] = True
