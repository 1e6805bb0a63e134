"""What Linux's `/proc` says of a process: its state, its start time and its peak resident set
(the CPU's peak memory), read in one place.

`/proc/PID/stat` holds the first two; its second field, the command name, may hold spaces and
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


# --- the resident set's high-water mark (VmHWM): CPU peak memory of a region ---

_CLEAR_REFS = "/proc/self/clear_refs"
_RESET_HIGH_WATER = "5"  # proc(5): "5" resets the peak resident set size (VmHWM) to the current


def peak_rss_bytes(pid: int | str = "self") -> int | None:
    """The process's peak resident set size (VmHWM of `/proc/PID/status`) in bytes, or None.

    The peak since the last `reset_peak_rss()`, or since the process started where that reset
    is not permitted. It counts every page the process held (weights, data, Python itself),
    as a machine's memory limit does, not only the tensors' allocations.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    value, unit = line.split()[1:3]
                    return int(value) * 1024 if unit == "kB" else None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return None


def reset_peak_rss() -> str | None:
    """Set this process's VmHWM to its current resident set (Linux 4.0+), so that the next
    `peak_rss_bytes()` is the peak of what ran in between; None when done, else why not (the
    peak then counts from the process's start)."""
    try:
        with open(_CLEAR_REFS, "w", encoding="ascii") as handle:
            handle.write(_RESET_HIGH_WATER)
    except OSError as exc:
        return f"{_CLEAR_REFS} cannot be written ({exc.strerror or exc})"
    return None
