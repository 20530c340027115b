"""`python -m bot.console --host H --port P`: the console under gunicorn (what `parley serve`
starts). One worker with a few threads: logins and lock-outs live in the database, so more
workers would also be safe, but a console has few users and the CPU goes to Rasa."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.console.app import create_app
from bot.settings import ConfigurationError


class ConsoleServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.console")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    try:
        app = create_app()
    except ConfigurationError as exc:
        print(f"console: error: {exc}", file=sys.stderr)
        return 1
    ConsoleServer(
        app,
        {
            "bind": f"{args.host}:{args.port}",
            "workers": 1,
            "threads": args.threads,
            "worker_class": "gthread",
            # No access log: console URLs carry debtors' phone numbers.
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 180,  # a simulator turn or a story export can take a while
            "proc_name": "parley-console",
        },
    ).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
