"""`python -m bot.runtime.rasa_train ARGS`: `rasa train ARGS`, with Rasa's cache directory
made absolute.

Rasa's cache (RASA_CACHE_DIRECTORY, `.rasa/cache` by default) records where each cached
result lies as the path it was given: relative by default. A result cached by `parley
train` in the project could then not be restored by a training started in another
directory with the same cache (trainer-check's copy), which found the fingerprint, failed
to find the result, and retrained the whole NLU. The directory is made absolute before
Rasa reads it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

CACHE_DIRECTORY = "RASA_CACHE_DIRECTORY"
DEFAULT_CACHE = ".rasa/cache"  # rasa.engine.caching.DEFAULT_CACHE_LOCATION


def absolute_cache_directory(environ: MutableMapping[str, str]) -> Path:
    """Sets RASA_CACHE_DIRECTORY (Rasa's default when unset) to an absolute path."""
    directory = Path(environ.get(CACHE_DIRECTORY, DEFAULT_CACHE)).resolve()
    environ[CACHE_DIRECTORY] = str(directory)
    return directory


def main() -> None:
    absolute_cache_directory(os.environ)
    sys.argv = ["rasa", "train", *sys.argv[1:]]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
