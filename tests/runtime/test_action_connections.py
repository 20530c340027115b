"""Rasa's action server calls over kept-alive connections: one connection for many calls,
the same answers and errors as Rasa's own request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot.runtime import action_connections


@pytest.fixture
async def action_server(aiohttp_unused_port: Any = None) -> AsyncIterator[dict[str, Any]]:
    seen: dict[str, Any] = {"connections": set(), "headers": []}

    async def webhook(request: web.Request) -> web.Response:
        seen["connections"].add(id(request.transport))
        seen["headers"].append(dict(request.headers))
        body = await request.json()
        if body.get("fail"):
            return web.json_response({"action_name": "x", "error": "no"}, status=400)
        return web.json_response({"events": [], "echo": body})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    seen["url"] = f"http://127.0.0.1:{port}/webhook"
    try:
        yield seen
    finally:
        await action_connections.close_sessions()
        await runner.cleanup()


@pytest.fixture
def installed() -> Any:
    import rasa.core.run

    saved = (RemoteAction.__init__, EndpointConfig.request, rasa.core.run.close_resources)
    action_connections.apply()
    action_connections.apply()
    yield
    RemoteAction.__init__, EndpointConfig.request, rasa.core.run.close_resources = saved  # type: ignore[method-assign]


async def test_action_calls_share_one_kept_alive_connection(
    action_server: dict[str, Any], installed: Any
) -> None:
    endpoint = EndpointConfig(action_server["url"], headers={"X-Parley-Actions-Secret": "s"})
    RemoteAction("action_respond", endpoint)
    answers = [await endpoint.request(json={"n": n}, method="post", timeout=30) for n in range(4)]
    assert [a["echo"] for a in answers] == [{"n": n} for n in range(4)]
    assert len(action_server["connections"]) == 1
    assert all(h.get("X-Parley-Actions-Secret") == "s" for h in action_server["headers"])
    with pytest.raises(ClientResponseError) as caught:
        await endpoint.request(json={"fail": True}, method="post")
    assert caught.value.status == 400
    await action_connections.close_sessions()
    assert action_connections._sessions == {}
    await endpoint.request(json={"n": 9}, method="post")  # a new session after closing
    assert len(action_server["connections"]) == 2


async def test_other_endpoints_keep_rasas_request(
    action_server: dict[str, Any], installed: Any
) -> None:
    endpoint = EndpointConfig(action_server["url"])  # never given to a RemoteAction
    for n in range(2):
        await endpoint.request(json={"n": n}, method="post")
    assert len(action_server["connections"]) == 2
    assert action_connections._sessions == {}
