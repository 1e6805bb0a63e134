"""SIGTERM as an interrupt, like Ctrl-C: schedulers and `docker stop` end a run with SIGTERM.

By default Python dies on SIGTERM without running `finally` blocks, so a run killed by a cluster's
time limit would leave its results file as it was. Inside `sigterm_as_interrupt()` a SIGTERM
raises `Terminated`, a `KeyboardInterrupt`, so every place that records a Ctrl-C (the trainer's
failure recording, the GLUE program, `timing-trainer run`) records it the same way: status
`failed`, kind `interrupted`. The exit status then says which signal it was (`exit_status`):
130 for SIGINT, 143 for SIGTERM (the shell's convention: `exit_codes.for_signal`).

Only the first SIGTERM raises; later ones are ignored while the interrupted run writes its
results (SIGKILL still ends it). Outside the main thread nothing is installed (Python delivers
signals to the main thread only).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from timing_trainer.runtime import exit_codes


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM (raised by the handler of `sigterm_as_interrupt`)."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


def exit_status(exc: BaseException) -> int:
    """The exit status for an interrupt: 143 after SIGTERM, 130 after Ctrl-C (SIGINT)."""
    if isinstance(exc, Terminated):
        return exit_codes.for_signal(exc.signum)
    return exit_codes.SIGINT


def describe_interrupt(exc: BaseException) -> str:
    """`terminated by SIGTERM` or `interrupted (SIGINT)`: the message a results file records."""
    if isinstance(exc, Terminated):
        return str(exc)
    return "interrupted (SIGINT)"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, the first SIGTERM raises `Terminated`; the old handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []

    def handler(signum, frame):
        if received:
            return  # a second SIGTERM while the first one's results are being written
        received.append(signum)
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
