"""The agent's signals: the first Ctrl-C or SIGTERM stops the sweep, later ones wait for it.

The first SIGINT or SIGTERM (Ctrl-C, SLURM's time limit, `docker stop`, `kill`) raises
`KeyboardInterrupt` in the agent's main thread, which then stops the running children (SIGINT to
each child's process group, SIGKILL after a grace period) and writes their records and the
summary. A second signal during that must not cut it short: before this guard, a second Ctrl-C
ended the agent at once, leaving the child running, its record `running` and no summary. So the
first signal's handler switches both signals to "absorb" before it raises: every later one
prints one line and is otherwise ignored until the guard is left (after the summary). The grace
period's SIGKILL still bounds how long a stop takes.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Context manager for the agent's run loop (main thread only; elsewhere it does nothing)."""

    NOTE = "already stopping: waiting for the running run(s) to end"

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is not threading.main_thread():
            return self
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._first)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _first(self, signum: int, frame: Any) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._absorb)
        raise KeyboardInterrupt

    def _absorb(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        # os.write, not print: a print from a handler can land inside another print.
        os.write(2, f"{name} ignored: {self.NOTE}\n".encode())
