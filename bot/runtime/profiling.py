"""Profiling mode: where a turn's time goes, one JSON line per webhook request.

`PARLEY_PROFILE_DIR=DIR parley serve ...` makes the Rasa server and the action server
append one line per request to `DIR/rasa-PID.jsonl` and `DIR/actions-PID.jsonl`:

- `total_ms`: the request inside the server (Sanic's handler, response included);
- `spans`: milliseconds per phase (the channel's inbound gate and egress guard, the lock
  wait, tracker load and save, NLU, policies, each action, the action server round trip);
- `nodes`: milliseconds per Rasa graph node (each NLU component and policy);
- `db`: the SQL statements run for the request (count, milliseconds, by table and by the
  phase that ran them).

Nothing is patched unless the variable is set; `bench/profile_turn.py` reads the files.
The patches wrap Rasa 3.6's own methods by name, so a Rasa upgrade may need them revisited.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

PROFILE_DIR_ENV = "PARLEY_PROFILE_DIR"
# `module:function` called first in profiling mode (bench/profile_turn.py --baseline swaps
# in the code as it was before a fix, so both are measured in one run).
PROFILE_PATCH_ENV = "PARLEY_PROFILE_PATCH"
_TURN: ContextVar[dict[str, Any] | None] = ContextVar("parley_profile_turn", default=None)
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)
_installed = False


def profile_dir() -> Path | None:
    value = os.environ.get(PROFILE_DIR_ENV, "").strip()
    return Path(value) if value else None


def statement_table(statement: str) -> str:
    """The first table a SQL statement names (`events`, `accounts`...), or its verb."""
    match = _TABLE.search(statement)
    if match:
        return match.group(1).lower()
    words = statement.split(None, 1)
    return words[0].lower() if words else "?"


def _apply_patch_hook(role: str) -> None:
    target = os.environ.get(PROFILE_PATCH_ENV, "").strip()
    if not target:
        return
    import importlib

    module_name, _, function = target.partition(":")
    getattr(importlib.import_module(module_name), function or "install")(role)


def _new_turn(path: str) -> dict[str, Any]:
    return {
        "path": path,
        "spans": {},
        "nodes": {},
        "actions": [],
        "db": {"count": 0, "ms": 0.0, "connects": 0, "by_table": {}, "by_phase": {}},
        "stack": [],
    }


def _add(bucket: dict[str, float], key: str, ms: float) -> None:
    bucket[key] = round(bucket.get(key, 0.0) + ms, 3)


@contextlib.contextmanager
def span(name: str) -> Iterator[None]:
    """Time a phase of the current request (no-op outside a profiled request)."""
    turn = _TURN.get()
    if turn is None:
        yield
        return
    turn["stack"].append(name)
    start = time.perf_counter()
    try:
        yield
    finally:
        _add(turn["spans"], name, (time.perf_counter() - start) * 1000)
        turn["stack"].pop()


def _wrap_sync(owner: Any, attribute: str, name: str) -> None:
    original = getattr(owner, attribute)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with span(name):
            return original(*args, **kwargs)

    setattr(owner, attribute, wrapper)


def _wrap_async(owner: Any, attribute: str, name: str | Callable[..., str]) -> None:
    original = getattr(owner, attribute)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        label = name(*args, **kwargs) if callable(name) else name
        with span(label):
            return await original(*args, **kwargs)

    setattr(owner, attribute, wrapper)


def _install_sql_listeners() -> None:
    import sqlalchemy as sa

    @sa.event.listens_for(sa.engine.Engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        conn.info.setdefault("parley_profile_start", []).append(time.perf_counter())

    @sa.event.listens_for(sa.engine.Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        starts = conn.info.get("parley_profile_start") or [time.perf_counter()]
        ms = (time.perf_counter() - starts.pop()) * 1000
        turn = _TURN.get()
        if turn is None:
            return
        db = turn["db"]
        db["count"] += 1
        db["ms"] = round(db["ms"] + ms, 3)
        table = statement_table(statement)
        db["by_table"][table] = db["by_table"].get(table, 0) + 1
        phase = turn["stack"][-1] if turn["stack"] else "other"
        db["by_phase"][phase] = db["by_phase"].get(phase, 0) + 1

    @sa.event.listens_for(sa.pool.Pool, "connect")
    def connect(*_: Any) -> None:
        # A new DBAPI connection (SQLite's default pool opens one per session).
        turn = _TURN.get()
        if turn is not None:
            turn["db"]["connects"] += 1


def _sender_of(request: Any) -> str | None:
    """Who the request is about: the REST `sender`, Twilio's `From`, the action's sender."""
    try:
        if "json" in (request.content_type or ""):
            body = request.json or {}
            tracker = body.get("tracker") if isinstance(body, dict) else None
            if isinstance(tracker, dict):
                return str(tracker.get("sender_id"))
            return str(body.get("sender")) if isinstance(body, dict) else None
        return str(request.form.get("From") or "") or None
    except Exception:  # noqa: BLE001 - a profile line without a sender is still useful
        return None


def _attach(app: Any, role: str, prefix: str, directory: Path) -> None:
    """Request and response middleware that open and write each request's record.

    (Middleware, not a wrapper of Sanic.handle_request: Sanic 21.12's TouchUp recompiles
    that method from its source at start-up, dropping any wrapper.) A context variable set
    in request middleware stays set for the handler: both run in one task.
    """
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{role}-{os.getpid()}.jsonl"

    async def start(request: Any) -> None:
        if request.method != "POST" or not request.path.startswith(prefix):
            return
        turn = _new_turn(request.path)
        turn["sender"] = _sender_of(request)
        request.ctx.parley_profile = (turn, time.perf_counter())
        _TURN.set(turn)

    async def finish(request: Any, response: Any) -> None:
        started = getattr(request.ctx, "parley_profile", None)
        if started is None:
            return
        turn, begin = started
        turn["total_ms"] = round((time.perf_counter() - begin) * 1000, 3)
        turn["end"] = time.time()
        turn["status"] = getattr(response, "status", None)
        turn.pop("stack", None)
        _TURN.set(None)
        with out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(turn) + "\n")

    app.register_middleware(start, "request")
    app.register_middleware(finish, "response")


def install_rasa(directory: Path) -> None:
    """Instrument the Rasa server (call before Rasa starts serving)."""
    global _installed
    if _installed:
        return
    _installed = True
    _apply_patch_hook("rasa")
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor
    from rasa.engine.graph import GraphNode

    import bot.channels.rest
    import bot.channels.twilio
    import bot.inbound

    original_call = GraphNode.__call__

    def node_call(self: Any, *inputs: Any) -> Any:
        turn = _TURN.get()
        if turn is None:
            return original_call(self, *inputs)
        start = time.perf_counter()
        try:
            return original_call(self, *inputs)
        finally:
            _add(turn["nodes"], self._node_name, (time.perf_counter() - start) * 1000)

    GraphNode.__call__ = node_call  # type: ignore[method-assign]

    _wrap_async(Agent, "handle_message", "rasa_handle_message")
    _wrap_async(MessageProcessor, "handle_message", "processor")
    _wrap_async(MessageProcessor, "fetch_tracker_and_update_session", "tracker_load")
    _wrap_async(MessageProcessor, "parse_message", "nlu")
    _wrap_async(MessageProcessor, "run_action_extract_slots", "extract_slots")
    _wrap_sync(MessageProcessor, "_predict_next_with_tracker", "policies")
    _wrap_async(MessageProcessor, "save_tracker", "tracker_save")

    original_run_action = MessageProcessor._run_action

    @functools.wraps(original_run_action)
    async def run_action(self: Any, action: Any, *args: Any, **kwargs: Any) -> Any:
        turn = _TURN.get()
        start = time.perf_counter()
        with span("actions"):
            result = await original_run_action(self, action, *args, **kwargs)
        if turn is not None:
            turn["actions"].append([action.name(), round((time.perf_counter() - start) * 1000, 3)])
        return result

    MessageProcessor._run_action = run_action  # type: ignore[method-assign]
    _wrap_async(RemoteAction, "run", "action_server_round_trip")

    _wrap_sync(bot.inbound, "admit", "inbound_gate")
    _wrap_sync(bot.inbound, "complete", "inbound_complete")
    _wrap_sync(bot.channels.rest, "guard_replies", "egress_guard")
    _wrap_sync(bot.channels.twilio, "guard_replies", "egress_guard")
    _wrap_sync(bot.channels.twilio, "verify_signature", "twilio_signature")
    _install_sql_listeners()
    import rasa.core.run

    original_configure = rasa.core.run.configure_app

    @functools.wraps(original_configure)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original_configure(*args, **kwargs)
        _attach(app, "rasa", "/webhooks/", directory)
        return app

    rasa.core.run.configure_app = configure_app


def install_actions(directory: Path) -> None:
    """Instrument the action server (call before its app runs)."""
    global _installed
    if _installed:
        return
    _installed = True
    _apply_patch_hook("actions")
    from rasa_sdk.executor import ActionExecutor

    original_run = ActionExecutor.run

    @functools.wraps(original_run)
    async def run(self: Any, action_call: dict[str, Any]) -> Any:
        name = str(action_call.get("next_action") or "?")
        turn = _TURN.get()
        if turn is not None:
            turn["action"] = name
        with span(name):
            return await original_run(self, action_call)

    ActionExecutor.run = run  # type: ignore[method-assign]
    _install_sql_listeners()
    import rasa_sdk.endpoint

    original_create = rasa_sdk.endpoint.create_app

    @functools.wraps(original_create)
    def create_app(*args: Any, **kwargs: Any) -> Any:
        app = original_create(*args, **kwargs)
        _attach(app, "actions", "/webhook", directory)
        return app

    rasa_sdk.endpoint.create_app = create_app
