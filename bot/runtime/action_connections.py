"""Rasa's calls to the action server over connections kept open between calls.

Rasa 3.6 opens a new aiohttp ClientSession, and with it a new TCP connection, for every
custom action call (`EndpointConfig.request`), and closes both after the answer: about
three times a turn, each a connect, a new Sanic connection on the action server and a
teardown on both sides. Here the action endpoint's calls share one session per event loop
whose connections are kept alive between calls. Everything else about a call is Rasa's:
the same headers, authentication, parameters, timeout, errors and JSON answer.

An idle connection is let go after KEEPALIVE_S, well before the action server's Sanic
closes it (its keep-alive timeout is 5 s), so a call never goes out on a connection the
server is closing. The sessions are closed when the Rasa server stops.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from typing import Any

import aiohttp

KEEPALIVE_S = 2.0

# (endpoint id, event loop id) -> (endpoint, loop, session): the endpoint and loop are
# kept so that neither id is reused while its session lives.
_sessions: dict[tuple[int, int], tuple[Any, Any, aiohttp.ClientSession]] = {}


def kept_session(endpoint: Any) -> aiohttp.ClientSession:
    """The endpoint's shared session on the running loop (made on first use)."""
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    loop = asyncio.get_running_loop()
    key = (id(endpoint), id(loop))
    found = _sessions.get(key)
    if found is not None and not found[2].closed:
        return found[2]
    auth = (
        aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        if endpoint.basic_auth
        else None
    )
    session = aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        # limit=0: as many connections at once as before (one per call in flight).
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_S),
    )
    _sessions[key] = (endpoint, loop, session)
    return session


async def request_kept_alive(
    self: Any,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """EndpointConfig.request on the endpoint's kept session (Rasa 3.6's body otherwise)."""
    from aiohttp.client_exceptions import ContentTypeError
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError, concat_url

    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    async with kept_session(self).request(
        method,
        url,
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        ssl=sslcontext,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(
                response.status, response.reason, await response.content.read()
            )
        try:
            return await response.json()
        except ContentTypeError:
            return None


async def close_sessions() -> None:
    """Close the sessions of the running loop (the server is stopping)."""
    loop = asyncio.get_running_loop()
    for key, (_endpoint, owner, session) in list(_sessions.items()):
        if owner is loop:
            del _sessions[key]
            await session.close()


def _remote_action_init(original: Any) -> Any:
    @functools.wraps(original)
    def init(self: Any, name: str, action_endpoint: Any) -> None:
        original(self, name, action_endpoint)
        if action_endpoint is not None:
            # Only the action endpoint's calls take the kept session; Rasa's other
            # endpoints (NLG, model server) are left as they are.
            action_endpoint._parley_keep_alive = True

    init._parley_speedup = True  # type: ignore[attr-defined]
    return init


def _request(original: Any) -> Any:
    @functools.wraps(original)
    async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_parley_keep_alive", False):
            return await request_kept_alive(self, *args, **kwargs)
        return await original(self, *args, **kwargs)

    request._parley_speedup = True  # type: ignore[attr-defined]
    return request


def _close_resources(original: Any) -> Any:
    @functools.wraps(original)
    async def close_resources(app: Any, loop: Any) -> None:
        await close_sessions()
        await original(app, loop)

    close_resources._parley_speedup = True  # type: ignore[attr-defined]
    return close_resources


def apply() -> None:
    """Install (idempotent)."""
    import rasa.core.run
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    if not getattr(RemoteAction.__init__, "_parley_speedup", False):
        RemoteAction.__init__ = _remote_action_init(RemoteAction.__init__)  # type: ignore[method-assign]
    if not getattr(EndpointConfig.request, "_parley_speedup", False):
        EndpointConfig.request = _request(EndpointConfig.request)  # type: ignore[method-assign]
    if not getattr(rasa.core.run.close_resources, "_parley_speedup", False):
        rasa.core.run.close_resources = _close_resources(rasa.core.run.close_resources)
