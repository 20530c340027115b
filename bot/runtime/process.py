"""`parley serve` as a child process: started, waited for, stopped like Ctrl-C.

The end-to-end tests, the simulator's `--through-bot` mode and anyone scripting a
throwaway bot share this instead of each pumping output and waiting for the ready line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

READY_MARK = "[parley] ready"


class ServeNotReadyError(RuntimeError):
    """`parley serve` exited or did not print its ready line in time; the message has its
    last lines of output."""


@dataclass
class ServeProcess:
    """A running `parley serve`, with every line it printed so far."""

    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)

    @property
    def ready_line(self) -> str:
        return next((line for line in self.output if READY_MARK in line), "")

    def stop(self, timeout: float = 60) -> None:
        """SIGINT (what Ctrl-C sends: serve stops its children), then SIGKILL if needed."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_serve(args: Sequence[str], env: dict[str, str], timeout: float = 300) -> ServeProcess:
    """Start `parley serve ARGS` and return once it is ready (or raise, having stopped it)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    served = ServeProcess(process)
    ready = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            served.output.append(line.rstrip())
            if READY_MARK in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            served.stop(timeout=10)
            tail = "\n".join(served.output[-40:]) or "(no output)"
            raise ServeNotReadyError(f"parley serve did not become ready:\n{tail}")
    return served


@contextlib.contextmanager
def serving(
    args: Sequence[str], env: dict[str, str], timeout: float = 300
) -> Iterator[ServeProcess]:
    """`parley serve ARGS` for the duration of the block."""
    served = start_serve(args, env, timeout)
    try:
        yield served
    finally:
        served.stop()
