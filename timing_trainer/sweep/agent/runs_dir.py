"""The runs folder: a folder the agent can write (said in one line before any run starts), held
by one agent at a time.

Without the first check, `--runs-dir` naming a file, a folder under a file, or a read-only place ended
in a traceback from `mkdir` or from the first atomic write, after the sweep file was read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from timing_trainer.errors import CliError, SweepFileError
from timing_trainer.runtime.locks import try_lock


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_runs_dir(path: Path, create: bool = True) -> None:
    """Raise `CliError` (one line) unless `path` is, or can become, a writable folder.

    With `create` the folder is made and a temporary file is written and removed in it (the
    only test that also holds for root and read-only mounts); without it (a dry run) nothing is
    created and the permission bits of the nearest existing folder decide.
    """
    where = f"runs folder {str(path)!r}"
    if path.exists() and not path.is_dir():
        raise CliError(f"{where} is a file, not a folder")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise CliError(f"{where} cannot be made: {str(existing)!r} is a file")
    if not create:
        if not os.access(existing, os.W_OK | os.X_OK):
            raise CliError(f"{where} cannot be written: {str(existing)!r} is read-only")
        return
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise CliError(f"{where} cannot be written ({reason})") from None


def lock_runs_dir(runs_dir: Path):
    """One agent per runs folder: a second would run the same runs (use --gpus for several GPUs).

    An advisory `flock`, released by the kernel when the agent ends, even by SIGKILL, so a killed
    agent leaves no stale lock. Returns the open lock file (close it to release).
    """
    handle = try_lock(runs_dir / ".agent.lock")
    if handle is None:
        raise SweepFileError(
            f"another agent is running the sweep in {runs_dir}; wait for it, or run one agent "
            "with --gpus 0,1,... to use several GPUs"
        )
    return handle
