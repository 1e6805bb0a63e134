"""Several versions of one sweep in one runs folder: refused on a resume, told apart after.

A run's key covers the whole command it runs (`sweep.config.version`), so after a change of the
sweep file the runs that changed are new runs, in new folders, and the earlier ones stay where
they are. Running the changed sweep in the same folder is a choice the user makes knowingly: when
the folder holds runs of an earlier version that the current one does not count, the agent
refuses in one line naming what changed, and `--force` (or a new `--runs-dir`) is the way on.
Each record keeps its `sweep_version` and the state file the current version, its definition and
its runs, so `analyze` (`current_runs`) reads the current version's runs of a runs folder and
says how many runs of other versions it left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from timing_trainer.errors import SweepFileError
from timing_trainer.sweep.agent.books import RECORD_FILE, STATE_FILE
from timing_trainer.sweep.config.version import describe_changes

UNRECORDED = "unrecorded"  # a record written before runs knew their sweep's version


def superseded(records: dict[str, dict[str, Any]], plan_keys: set[str],
               version: str) -> list[dict[str, Any]]:
    """Records of runs that belong to another version and that the current plan does not hold."""
    return [rec for key, rec in records.items()
            if key not in plan_keys and rec.get("sweep_version") != version]


def check_version(runs_dir: Path, state: dict[str, Any] | None, earlier: list[dict[str, Any]],
                  definition: dict[str, Any], version: str, force: bool) -> str | None:
    """Refuse (one line) a changed sweep whose folder holds runs it would not count; with
    `force`, the same fact as a note to print. None when there is nothing to say: no such runs,
    or they were already accepted by an earlier `--force` call of this very version."""
    state = state or {}
    if not earlier or state.get("sweep_version") == version:
        return None
    finished = sum(1 for rec in earlier if rec.get("status") == "finished")
    what = describe_changes(state.get("definition"), definition)
    fact = (f"{runs_dir} holds {len(earlier)} run(s) ({finished} finished) of another version "
            f"of this sweep, which this version does not count ({what})")
    if force:
        return f"--force: {fact}; they stay in their folders, and analyze reads this version"
    raise SweepFileError(f"{fact}; --force runs the changed sweep in this folder (the earlier "
                         "runs are kept, and analyze reads the current version), or give a new "
                         "--runs-dir")


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def current_runs(runs_dir: Path) -> tuple[set[str], dict[str, str]] | None:
    """For a folder the local agent keeps: the names of the current version's run folders, and
    each other run folder with the sweep version its record names. None when the folder has no
    readable state file with a version (not the agent's, or older than versions)."""
    state = _read(runs_dir / STATE_FILE)
    runs = state.get("runs") if state else None
    if not state or not state.get("sweep_version") or not isinstance(runs, list):
        return None
    current = {str(r.get("dir")) for r in runs if isinstance(r, dict)}
    others = {}
    for path in runs_dir.glob(f"*/{RECORD_FILE}"):
        if path.parent.name not in current:
            record = _read(path) or {}
            others[path.parent.name] = str(record.get("sweep_version") or UNRECORDED)
    return current, others
