"""Local run folders: every `timing_results.json` under a folder, one row each.

A file that cannot be read as a results object (not JSON, not an object, `config` or another
section of the wrong type: `RunResults.read`'s "sections" check, timing_trainer.results.file)
is counted as an `invalid` run, with one warning for all such files, so a sweep folder with one
broken run is still analysed. A run that logged to W&B is identified by its W&B run id (the
results' top-level `wandb_run_id`), so the same run read from W&B too is counted once; otherwise
by its folder's real path.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from timing_trainer.analysis.table.flat import flatten
from timing_trainer.analysis.table.rows import row_from_flat
from timing_trainer.analysis.table.times import report_bad_times
from timing_trainer.errors import RunsDataWarning
from timing_trainer.results.file import RunResults
from timing_trainer.results.schema import RESULTS_FILENAME


def results_files(folder: Path) -> list[str]:
    """Every results file under `folder`, sorted (os.walk and strings: fast on 10,000 runs)."""
    found = []
    for root, _dirs, files in os.walk(folder):
        if RESULTS_FILENAME in files:
            found.append(os.path.join(root, RESULTS_FILENAME))
    return sorted(found)


def flat_results(results: dict[str, Any]) -> dict[str, Any]:
    """The results file as flat keys: config, environment and metrics beside the figures, and
    `unavailable.FIGURE` for the reasons behind null figures (the energy columns read them)."""
    flat: dict[str, Any] = {}
    for section in ("config", "environment", "eval_metrics"):
        value = results.get(section)
        if isinstance(value, dict):
            flat.update({k: v for k, v in value.items() if not isinstance(v, dict)})
    flat.update(flatten({k: v for k, v in results.items()
                         if k in ("environment", "error", "unavailable")}))
    flat.update({k: v for k, v in results.items()
                 if not isinstance(v, dict) and k != "evaluations"})
    return flat


def read_results(path: str) -> dict[str, Any]:
    """The results object of `path`, read by the results file's own type at the "sections"
    level (not the whole schema: old and hand-made files are tabulated too);
    ResultsValidationError (a ValueError) or OSError saying why it is not one."""
    return RunResults.read(path, check="sections").data


def folder_rows(folder: Path, kind: str, files: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of every results file under `folder` (or of `files`, paths inside `folder`)."""
    rows, unreadable = [], []
    source = f"run_folder:{folder}"
    for path in results_files(folder) if files is None else files:
        run_dir = os.path.dirname(path)
        folder_id = os.path.realpath(run_dir)
        try:
            results = read_results(path)
        except (OSError, ValueError) as exc:  # ResultsValidationError is a ValueError
            unreadable.append(f"{path} ({exc})")
            rows.append({"run_id": folder_id, "name": os.path.basename(run_dir),
                         "source": source, "state": "invalid"})
            continue
        rows.append(_row(results, path, source, kind, folder_id))
    report_bad_times(rows, str(folder))
    if unreadable:
        shown = "; ".join(unreadable[:5]) + ("; ..." if len(unreadable) > 5 else "")
        warnings.warn(f"{len(unreadable)} unreadable results file(s), counted as invalid runs: "
                      f"{shown}", RunsDataWarning, stacklevel=3)
    return rows


def _row(results: dict[str, Any], path: str, source: str, kind: str,
         folder_id: str) -> dict[str, Any]:
    config = results.get("config") or {}
    run_id = (results.get("wandb_run_id") or results.get("run_id") or config.get("run_id")
              or config.get("wandb_run_id") or folder_id)
    return row_from_flat(
        flat_results(results), kind=kind, source=source, run_id=str(run_id),
        name=str(config.get("run_name") or os.path.basename(os.path.dirname(path))),
        state=results.get("status"), sweep=config.get("sweep_id") or config.get("sweep"),
        created_at=results.get("created_at"), where=str(path),
    )
