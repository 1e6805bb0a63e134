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
from timing_trainer.results.placement import is_results_filename
from timing_trainer.results.schema import RESULTS_FILENAME, SCHEMA_VERSION


def results_files(folder: Path) -> list[str]:
    """Every results file under `folder`, sorted (os.walk and strings: fast on 10,000 runs).

    A folder named like a results file is listed too, so that it is reported as unreadable
    rather than passed over without a word."""
    found = []
    for root, dirs, files in os.walk(folder):  # a folder may hold several runs' files
        found.extend(os.path.join(root, name) for name in (*files, *dirs)
                     if is_results_filename(name))
    return sorted(found)


def _run_dir_id(path: str) -> str:
    """A run's identity without a W&B id: its folder, or for a later run's file in the same
    folder (`timing_results-2.json`) that file."""
    if os.path.basename(path) == RESULTS_FILENAME:
        return os.path.realpath(os.path.dirname(path))
    return os.path.realpath(path)


def _run_name(path: str) -> str:
    """The folder's name, with the run's number when it is not the folder's first."""
    name = os.path.basename(os.path.dirname(path))
    stem = os.path.basename(path)
    return name if stem == RESULTS_FILENAME else f"{name}/{stem}"


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
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a results file")
    if os.path.exists(path) and not os.path.isfile(path):
        raise OSError(f"{path} is not a regular file (a pipe or a device?)")
    return RunResults.read(path, check="sections").data


def _why(exc: BaseException) -> str:
    """Why a results file could not be read, in a few words (the expected errors say it)."""
    if isinstance(exc, (OSError, ValueError)):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    return f"{type(exc).__name__}: {exc}"


def folder_rows(folder: Path, kind: str, files: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of every results file under `folder` (or of `files`, paths inside `folder`).

    One file that cannot be read or tabulated, whatever it holds, is an `invalid` run with its
    reason; it never stops the others (hence the broad `except`: the reason is kept)."""
    rows, unreadable = [], []
    source = f"run_folder:{folder}"
    for path in results_files(folder) if files is None else files:
        run_dir = os.path.dirname(path)
        folder_id = _run_dir_id(path)
        try:
            rows.append(_row(read_results(path), path, source, kind, folder_id))
        except Exception as exc:  # any content: skipped with its reason, the others go on
            unreadable.append(f"{path} ({_why(exc)})")
            rows.append({"run_id": folder_id, "name": _run_name(path),
                         "folder": os.path.basename(run_dir), "source": source,
                         "state": "invalid"})
    report_bad_times(rows, str(folder))
    if unreadable:
        shown = "; ".join(unreadable[:5]) + ("; ..." if len(unreadable) > 5 else "")
        warnings.warn(f"{len(unreadable)} unreadable results file(s), counted as invalid runs: "
                      f"{shown}", RunsDataWarning, stacklevel=3)
    return rows


def _schema_check(results: dict[str, Any], path: str) -> None:
    """An unknown `schema_version` (newer than this package, or no version number at all) is
    read as far as it goes, with a warning naming the run."""
    version = results.get("schema_version")
    if version is None or (isinstance(version, int) and not isinstance(version, bool)
                           and 1 <= version <= SCHEMA_VERSION):
        return
    warnings.warn(f"{path}: unknown schema_version {version!r} (this package reads 1 to "
                  f"{SCHEMA_VERSION}); read as far as its keys are known", RunsDataWarning,
                  stacklevel=4)


def _row(results: dict[str, Any], path: str, source: str, kind: str,
         folder_id: str) -> dict[str, Any]:
    _schema_check(results, path)
    config = results.get("config") or {}
    run_id = (results.get("wandb_run_id") or results.get("run_id") or config.get("run_id")
              or config.get("wandb_run_id") or folder_id)
    return row_from_flat(
        flat_results(results), kind=kind, source=source, run_id=str(run_id),
        name=str(config.get("run_name") or _run_name(path)),
        state=results.get("status"), sweep=config.get("sweep_id") or config.get("sweep"),
        created_at=results.get("created_at"), where=str(path),
        folder=os.path.basename(os.path.dirname(path)),
        wandb_id=results.get("wandb_run_id") or config.get("wandb_run_id"),
    )
