"""Where a run's results file goes: one file per run, never an overwrite, one process a folder.

A script may build several Trainers on one `output_dir` (two learning rates), call `train()`
twice, or be run again on the same folder. Each run gets its own file: `timing_results.json`,
then `timing_results-2.json`, `-3`, ... (the first name neither on disk nor taken by this
process), and the analysis reads them all (`is_results_filename`). While a process has a run
`running` in a folder it holds an advisory lock there (`.timing_results.lock`, `flock`: the
kernel releases it when the process ends, even by SIGKILL); a second process that would write
there is refused in one line (OutputFolderInUseError), as two programs on one folder would
otherwise mix their files. Runs of one process share its lock.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from timing_trainer.errors import OutputFolderInUseError, ResultsWriteError
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.runtime.locks import try_lock

LOCK_FILENAME = ".timing_results.lock"
_STEM, _SUFFIX = RESULTS_FILENAME.rsplit(".", 1)
_NAME = re.compile(rf"^{re.escape(_STEM)}(?:-(\d+))?\.{re.escape(_SUFFIX)}$")

_TAKEN: set[str] = set()  # results files this process has claimed
_HOLDING: set[str] = set()  # those of them whose run still holds its folder's lock
_LOCKS: dict[str, list[Any]] = {}  # folder -> [open lock file, number of holders]


def results_filename(number: int) -> str:
    """`timing_results.json` for the first run of a folder, `timing_results-N.json` after."""
    return RESULTS_FILENAME if number == 1 else f"{_STEM}-{number}.{_SUFFIX}"


def is_results_filename(name: str) -> bool:
    return _NAME.match(name) is not None


def hold_folder(folder: str | Path) -> None:
    """Take (or share, within this process) the folder's lock; OutputFolderInUseError when
    another process holds it."""
    key = os.path.realpath(folder)
    if key in _LOCKS:
        _LOCKS[key][1] += 1
        return
    lock = os.path.join(key, LOCK_FILENAME)
    try:
        os.makedirs(key, exist_ok=True)
        handle = try_lock(lock)
    except OSError as exc:
        raise ResultsWriteError(f"cannot write timing results to {folder}: the output folder "
                                f"is not writable ({exc.strerror or exc})") from exc
    if handle is None:
        holder = Path(lock).read_text(encoding="utf-8").strip() or "another process"
        raise OutputFolderInUseError(
            f"{folder} is in use by another timed run ({holder}); give this run its own "
            "output_dir, or wait for that one to end")
    handle.seek(0)
    handle.truncate()
    handle.write(f"process {os.getpid()}\n")
    handle.flush()
    _LOCKS[key] = [handle, 1]


def release_folder(folder: str | Path) -> None:
    """One holder less; the lock goes when this process has no run left in the folder."""
    key = os.path.realpath(folder)
    entry = _LOCKS.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] <= 0:
        del _LOCKS[key]
        entry[0].close()


def claim_results_file(folder: str | Path) -> Path:
    """A new results file in `folder` for one run: the folder held, the first free name taken."""
    hold_folder(folder)
    number = 1
    while True:
        path = Path(folder) / results_filename(number)
        key = os.path.realpath(path)
        if key not in _TAKEN and not os.path.lexists(path):
            _TAKEN.add(key)
            _HOLDING.add(key)
            return path
        number += 1


def release_results_file(path: str | Path) -> None:
    """The run of `path` has ended: its share of the folder's lock goes (the name stays taken)."""
    key = os.path.realpath(path)
    if key in _HOLDING:
        _HOLDING.discard(key)
        release_folder(Path(path).parent)
