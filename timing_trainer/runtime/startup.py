"""How long the process took to get to the program's `main`: interpreter start and imports.

A run's wall time is start-up + setup + on-clock time + evaluation + the rest; for short runs
the start-up (Python, torch, transformers, W&B imports) is a large share, so the GLUE program
records it as setup part `startup`. Linux says when a process started in `/proc/self/stat`
(clock ticks since boot) and how long ago boot was in `/proc/uptime`, both in 10 ms steps; other
systems use psutil when it is installed. Otherwise the time is unknown, and the reason says so.
"""

from __future__ import annotations

import time

from timing_trainer.runtime import processes

UNKNOWN_REASON = "process start time unknown on this system (no /proc/self/stat, no psutil)"


def _linux_age() -> float | None:
    return processes.age_seconds()


def _psutil_age() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return time.time() - psutil.Process().create_time()


def process_age() -> tuple[float | None, str | None]:
    """(seconds since this process started, None), or (None, the reason it is unknown)."""
    for probe in (_linux_age, _psutil_age):
        try:
            age = probe()
        except Exception:  # noqa: BLE001 - a probe that fails just does not know
            age = None
        if age is not None:
            return max(0.0, age), None
    return None, UNKNOWN_REASON
