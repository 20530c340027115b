"""`python -m bot.runtime.action_server --host H --port P`: rasa_sdk's action server
that answers only requests carrying PARLEY_ACTIONS_SECRET.

rasa_sdk 3.6 has no authentication of its own, and whoever can post to `/webhook` can
run any action against any tracker they make up (mark an account disputed, store an
agreement). Rasa sends the secret as a header configured in endpoints.yml
(`${PARLEY_ACTIONS_SECRET}`, interpolated from the environment, so it is never written
to a file). `/health` stays open: it says nothing but "ok".
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.security import ACTIONS_SECRET_HEADER, token_matches

logger = logging.getLogger("bot.runtime.action_server")
OPEN_PATHS = frozenset({"/health"})


def retry_actions_once_on_database_loss() -> None:
    """An action that lost the database (a PostgreSQL restart) runs once more when the
    database answers again (up to PARLEY_DB_RETRY_WAIT_S).

    Safe to repeat: an action's writes are transactions, rolled back whole when the
    connection drops (an agreement is never half-written), and an agreement is stored once
    per idempotency key. A second failure answers Rasa with an error, as before.
    """
    from rasa_sdk.executor import ActionExecutor

    from bot.storage.db import DatabaseUnavailableError, await_database

    if getattr(ActionExecutor.run, "_parley_retries", False):
        return
    original_run = ActionExecutor.run

    @functools.wraps(original_run)
    async def run(self: Any, action_call: dict[str, Any]) -> Any:
        try:
            return await original_run(self, action_call)
        except DatabaseUnavailableError as exc:
            name = action_call.get("next_action")
            logger.warning("action %s lost the database (%s); retrying it once", name, exc)
            from bot.settings import get_settings

            await await_database(get_settings().database_url)
            try:
                return await original_run(self, action_call)
            except DatabaseUnavailableError as again:
                logger.error(
                    "action %s failed twice: the database is unavailable (%s); "
                    "nothing of it was stored",
                    name,
                    again,
                )
                raise

    run._parley_retries = True  # type: ignore[attr-defined]
    ActionExecutor.run = run  # type: ignore[method-assign]


def create_app(secret: str, actions_package: str = "actions"):  # type: ignore[no-untyped-def]
    """The rasa_sdk Sanic app with the secret check in front of every other route."""
    from rasa_sdk.endpoint import create_app as create_sdk_app
    from rasa_sdk.plugin import plugin_manager

    retry_actions_once_on_database_loss()
    # No CORS: browsers have no business calling the action server.
    app = create_sdk_app(actions_package, cors_origins=None)

    async def require_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if token_matches(secret, request.headers.get(ACTIONS_SECRET_HEADER)):
            return None
        logger.warning(
            "refused %s %s from %s: no valid secret", request.method, request.path, request.ip
        )
        return response.json(
            {"error": f"the action server needs the {ACTIONS_SECRET_HEADER} header"}, status=401
        )

    app.register_middleware(require_secret, "request")
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    secret = os.environ.get("PARLEY_ACTIONS_SECRET")
    if not secret:
        print(
            "action server: PARLEY_ACTIONS_SECRET is not set; refusing to answer anyone "
            "(parley serve sets it)",
            file=sys.stderr,
        )
        return 2
    from rasa_sdk import utils

    from bot.runtime.profiling import install_actions, profile_dir

    directory = profile_dir()
    if directory is not None:
        install_actions(directory)  # PARLEY_PROFILE_DIR: one JSON line per action call

    from bot.settings import get_settings
    from bot.storage.db import DatabaseUnavailableError, wait_for_database

    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    try:
        # Started on its own (several action servers, Kubernetes), it may come up first.
        wait_for_database(get_settings().database_url, progress=logger.warning)
    except DatabaseUnavailableError as exc:
        print(f"action server: {exc}", file=sys.stderr)
        return 2
    app = create_app(secret, args.actions)
    logger.info("Action endpoint is up and running on http://%s:%s", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
