"""Is a run's recorded child process still alive on this host?

A run record says `running` with the child's pid while the child runs. If the agent was killed
(`kill -9`, a node reboot) the record stays `running`; the child may have died with it or may
still be running as an orphan. Starting the same run again while the orphan writes into the same
folder would mix two runs' files, so a resume refuses while it lives. Pids are reused, so the
record also keeps the host and the process's start time (Linux: field 22 of `/proc/PID/stat`,
in clock ticks since boot); a live pid with another start time is another process.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from timing_trainer.runtime import processes


def process_start_marker(pid: int) -> str | None:
    """The process's start time since boot (Linux), or None where /proc does not tell."""
    return processes.start_ticks(pid)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie waiting to be reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return not processes.is_zombie(pid)


def process_identity(pid: int) -> dict[str, Any]:
    """What a record keeps to recognise its child later: pid, host and start marker."""
    return {"pid": pid, "host": socket.gethostname(), "pid_start": process_start_marker(pid)}


def live_child(record: dict[str, Any]) -> int | None:
    """The pid of a `running` record's child when that very process is alive on this host."""
    pid = record.get("pid")
    if record.get("status") != "running" or not isinstance(pid, int) or pid <= 0:
        return None
    if record.get("host") not in (None, socket.gethostname()):
        return None  # another machine's run: its pid means nothing here
    if not pid_alive(pid):
        return None
    recorded = record.get("pid_start")
    if recorded is not None and process_start_marker(pid) not in (None, recorded):
        return None  # the pid was reused by another process
    return pid
