"""`python -m bot.runtime.rasa_server ARGS`: `rasa run ARGS`, with the API token from
the environment (RASA_AUTH_TOKEN) instead of the command line, where `ps` would show it
to every user of the machine."""

from __future__ import annotations

import os
import sys


def main() -> None:
    argv = ["rasa", "run", *sys.argv[1:]]
    token = os.environ.get("RASA_AUTH_TOKEN")
    if token:
        # Only this process's own copy of argv changes; /proc/<pid>/cmdline keeps the
        # command as it was started, without the token.
        # `--auth-token=VALUE`: a token starting with "-" would otherwise read as a flag.
        argv.append(f"--auth-token={token}")
    sys.argv = argv
    from bot.runtime import rasa_speedups
    from bot.runtime.profiling import install_rasa, profile_dir

    rasa_speedups.apply()

    directory = profile_dir()
    if directory is not None:
        install_rasa(directory)  # PARLEY_PROFILE_DIR: one JSON line per webhook request
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
