"""The agent's books in a runs folder: the run records it reads back, checked, on a resume.

A record is the source of truth for its run (the state file is rebuilt from them), so a resume
trusts what it reads only after checking it: a record edited by hand (`attempts: "two"`, a
`status` the agent never writes, a list where the parameters go) used to end in a traceback deep
in the agent; now it is one line naming the file and the field (exit 2), before any run starts.
A record that says `finished` while the results file it names is gone is not finished any more:
its run is run again, and the agent says so. The state file (`write_state`) lists every run of
the current plan with its status, and the sweep's version and definition (`versions` reads them).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from timing_trainer.errors import SweepFileError
from timing_trainer.runtime.atomic import atomic_write_json
from timing_trainer.runtime.masking import mask_mapping

RECORD_FILE = "agent_record.json"
STATE_FILE = "sweep_state.json"
STATUSES = ("running", "finished", "failed", "interrupted")

_NUMBER = (int, float)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# field: (the types it may hold, what to call them in the message, required)
_FIELDS: dict[str, tuple[tuple[type, ...], str, bool]] = {
    "key": ((str,), "text", True),
    "index": ((int,), "a whole number", True),
    "params": ((dict,), "a mapping", True),
    "attempts": ((int,), "a whole number", False),
    "wall_time": (_NUMBER, "a number", False),
    "on_clock_share": (_NUMBER, "a number", False),
    "metric": (_NUMBER, "a number", False),
    "exit_code": ((int,), "a whole number", False),
    "pid": ((int,), "a whole number", False),
    "reason": ((str,), "text", False),
    "reason_kind": ((str,), "text", False),
    "results_file": ((str,), "text", False),
    "sweep_version": ((str,), "text", False),
    "predicted_wall_time": (_NUMBER, "a number", False),  # the live estimate's (`eta`)
    "prediction_error": (_NUMBER, "a number", False),
    "prediction_basis": ((str,), "text", False),
}


def _refuse(path: Path, problem: str) -> SweepFileError:
    return SweepFileError(f"{path}: {problem}; fix it, or delete the file to run that run again")


def check_record(record: Any, path: Path) -> dict[str, Any]:
    """The record if every field the agent reads has its type; else one line naming the field."""
    if not isinstance(record, dict):
        raise _refuse(path, "not a JSON object")
    for name, (types, what, required) in _FIELDS.items():
        value = record.get(name)
        if value is None:
            if required:
                raise _refuse(path, f"field `{name}` is missing")
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            raise _refuse(path, f"field `{name}` must be {what}, not {json.dumps(value)[:40]}")
    if record.get("status") not in STATUSES:
        raise _refuse(path, f"field `status` must be one of {', '.join(STATUSES)}, not "
                            f"{json.dumps(record.get('status'))[:40]}")
    if record["index"] < 0 or record.get("attempts", 0) < 0:
        raise _refuse(path, "field `index` or `attempts` is negative")
    return record


def read_record(path: Path) -> dict[str, Any]:
    """One run record, checked (`check_record`); unreadable JSON is one line too."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _refuse(path, f"cannot be read as JSON ({type(exc).__name__})") from None
    return check_record(data, path)


def results_gone(record: dict[str, Any], run_dir: Path) -> bool:
    """A `finished` record whose results file (the one it names) is no longer there."""
    name = record.get("results_file")
    return record["status"] == "finished" and bool(name) and not (run_dir / name).is_file()


def read_records(runs_dir: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Every record under `runs_dir`, by run key, and a note for each run that must run again
    although its record says `finished` (its results file is gone)."""
    records: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    if not runs_dir.is_dir():
        return records, notes
    for path in sorted(runs_dir.glob(f"*/{RECORD_FILE}")):
        record = read_record(path)
        record["dir"] = path.parent.name
        if results_gone(record, path.parent):
            notes.append(f"run {record['dir']}: recorded finished, but its "
                         f"{record['results_file']} is gone: it runs again")
            record.update(status="failed", reason_kind="results_missing",
                          reason=f"finished, but {record['results_file']} is gone")
        records[record["key"]] = record
    return records, notes


def _state_entry(run: Any, rec: dict[str, Any] | None) -> dict[str, Any]:
    rec = rec or {}
    return {
        "index": run.index, "key": run.key, "dir": rec.get("dir") or run.dir_name,
        "status": rec.get("status", "pending"), "reason_kind": rec.get("reason_kind"),
        "reason": rec.get("reason"), "exit_code": rec.get("exit_code"),
        "wall_time": rec.get("wall_time"), "attempts": rec.get("attempts", 0),
        "on_clock_share": rec.get("on_clock_share"), "params": mask_mapping(run.params),
    }


def write_state(runs_dir: Path, head: dict[str, Any], plan: list[Any],
                records: dict[str, dict[str, Any]]) -> None:
    """The sweep's state file: `head` (sweep, version, definition, method, seed, ...), then
    every planned run's status (atomic: a `FileSystemError` naming the file, nothing half-written)."""
    runs = [_state_entry(run, records.get(run.key)) for run in plan]
    counts = Counter(r["status"] for r in runs)
    state = {**head, "total_runs": len(runs), "counts": dict(counts), "updated_at": now_iso(),
             "runs": runs}
    atomic_write_json(runs_dir / STATE_FILE, state)
