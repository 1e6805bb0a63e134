"""A slice marked as one, in both of its files, so that every reader can tell it from a sweep run.

- `agent_record.json` gets `pilot`: the shape it measures, the sweep runs it stands for, the
  overrides it ran with, what it tokenized (pilot.measure reads it back);
- `timing_results.json`'s config gets `pilot_slice: true` (a column of the analysis's table, so
  `analyze` can tell the slices apart, and `max_steps` already says the run was cut short).
Both files are rewritten atomically (the results through their own type, checked against the
schema first: timing_trainer.results.file). A results file that cannot be read, such as a
failed slice's, is left as it is: the record alone marks it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from timing_trainer.results.file import RunResults
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.sweep.agent.attempt import write_record

CONFIG_MARK = "pilot_slice"


def mark_slice(run_dir: Path, record: dict[str, Any], pilot: dict[str, Any]) -> None:
    """Mark the slice in `run_dir` (see the module docstring); `record` is updated in place."""
    record["pilot"] = pilot
    write_record(run_dir, record)
    path = run_dir / RESULTS_FILENAME
    try:
        results = RunResults.read(path)
    except (OSError, ValueError):
        return
    config = dict(results.data.get("config") or {})
    config[CONFIG_MARK] = True
    results.data["config"] = config
    results.write(path)
