"""One process at a time on a folder: an advisory `flock` on a lock file inside it.

The kernel releases the lock when the process ends, even by SIGKILL, so a killed process leaves
no stale lock. Used by the local agent (one agent per runs folder) and by the results' placement
(one timed run per output folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO


def try_lock(path: str | Path) -> IO[str] | None:
    """Open `path` and lock it without waiting: the open file (close it to release), or None
    when another process holds the lock (the file is left as it is). Without `fcntl`
    (Windows) the file is returned unlocked. OSError when the file cannot be opened."""
    handle = open(path, "a+")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle
