"""What Linux's `/proc` says of a process: its state and its start time, read in one place.

`/proc/PID/stat` holds both; its second field, the command name, may hold spaces and
parentheses, so the fields are split after its last ")". The start time (field 22) is in clock
ticks since boot. Other systems have no `/proc`: every reader here returns None there, and the
callers say what they then do not know.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE = 0  # field 3 overall: R, S, D, Z, ...
START_TICKS = 19  # field 22 overall: starttime, clock ticks since boot


def stat_fields(pid: int | str = "self") -> list[str] | None:
    """`/proc/PID/stat` from field 3 (the state) on, or None where /proc does not tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None
    return stat.rsplit(")", 1)[-1].split()


def start_ticks(pid: int | str = "self") -> str | None:
    """The process's start time since boot, in clock ticks as /proc writes it, or None."""
    fields = stat_fields(pid)
    return fields[START_TICKS] if fields and len(fields) > START_TICKS else None


def is_zombie(pid: int) -> bool:
    """A process that has ended and waits for its parent to reap it."""
    fields = stat_fields(pid)
    return bool(fields) and fields[STATE] == "Z"


def age_seconds(pid: int | str = "self") -> float | None:
    """Seconds since the process started (from its start ticks and `/proc/uptime`), or None."""
    ticks = start_ticks(pid)
    try:
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if ticks is None:
        return None
    return uptime - int(ticks) / os.sysconf("SC_CLK_TCK")
