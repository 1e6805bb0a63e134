"""`load_runs`: any mix of run folders, W&B exports and W&B API paths -> one tidy table.

Which time is analysed (the `time` column), by `kind`:
- `finetuning`: the minimum of `finetuning_time_list` (every repeat of the whole fine-tuning),
  else `finetuning_time`. The thesis did the same (not its exports' `finetuning_time` column).
- `inference`: for this project's runs (results with `schema_version`/`inference_total_time`),
  `inference_time`, already the minimum per-batch latency over full batches. For the thesis's
  runs (no such keys), the minimum of `inference_time_list[:-1]`: the thesis's convention, which
  drops the list's last element (the evaluation set's last, smaller batch) before the minimum.

A time that is not finite, positive and at most `times.MAX_SECONDS` is missing (see `times`);
`time_cv` is the coefficient of variation of the repeats `time` is the minimum of
(`records.repeats`: fine-tuning iterations, or per-batch latencies).

Runs that are not finished (failed, crashed, running, killed, invalid) stay in the table, so they
are counted; the statistics use only finished runs with a time (`finished_runs`). A results file
left `running` (its process was killed) is such a run, with a note. Problems in the data are
reported, never dropped silently: text or non-finite values in number columns, bad times and
finished runs without a time give a `RunsDataWarning`; the same run from two sources, or a copied
run folder, is kept once with a warning (`identity`); an unreadable source, an export without its
required columns, or sources without a single run raise `RunsLoadError` (one line from the CLI).
Rows come in a canonical order, so the same runs give the same table, and the same figures, from
any source in any order.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.table.columns import COLUMNS, KINDS, METRIC_RANGES, conform
from timing_trainer.analysis.table.exports import EXPORT_SUFFIXES, export_files, export_rows
from timing_trainer.analysis.table.flat import is_missing
from timing_trainer.analysis.table.identity import dedupe_and_order
from timing_trainer.analysis.table.labels import run_labels
from timing_trainer.analysis.table.run_folders import folder_rows, results_files
from timing_trainer.analysis.table.sweep_versions import current_version_files
from timing_trainer.analysis.table.wandb_api import PREFIX as WANDB_PREFIX
from timing_trainer.analysis.table.wandb_api import default_cache_dir, wandb_rows
from timing_trainer.analysis.table.wandb_client import ApiHandle
from timing_trainer.errors import RunsDataWarning, RunsLoadError

__all__ = ["load_runs", "finished_runs", "RunsDataWarning", "RunsLoadError"]

_NUMERIC = tuple(c for c, t in COLUMNS.items() if t in ("Int64", "float64"))
_INTEGER_LIMIT = 2.0 ** 53  # integers beyond this are not exact in float64 (nor sane here)


def source_rows(source: str | os.PathLike, kind: str, *, history: bool = False,
                cache_dir: str | os.PathLike | None = None, wandb_api: Any = None,
                all_versions: bool = False) -> list[dict[str, Any]]:
    """Rows of one source; which loader reads it is decided by its form.

    `wandb_api`: a `wandb.Api`-like object, or an `ApiHandle` that several sources share.
    `all_versions`: a sweep's runs folder gives the runs of every version of the sweep, not
    only the current one's (timing_trainer.analysis.table.sweep_versions).
    """
    text = os.fspath(source)
    if text.startswith(WANDB_PREFIX):
        return wandb_rows(text, kind, api=wandb_api, history=history,
                          cache_dir=Path(cache_dir) if cache_dir else None)
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix.lower() in EXPORT_SUFFIXES:
            return export_rows(path, kind)
        if path.name.endswith(".json"):
            return folder_rows(path.parent, kind, files=[str(path)])
        raise RunsLoadError(f"{path}: not a run folder, a CSV/XLSX export or a wandb: path")
    if path.is_dir():
        if found := results_files(path):  # one sweep version a runs folder (sweep_versions)
            return folder_rows(path, kind,
                               files=current_version_files(path, found, all_versions))
        files = export_files(path)
        if files:
            return [row for file in files for row in export_rows(file, kind)]
        raise RunsLoadError(f"{path}: no timing_results.json and no CSV/XLSX exports under it")
    raise RunsLoadError(f"{text}: no such file or folder (W&B paths start with {WANDB_PREFIX})")


def load_runs(
    sources: Iterable[str | os.PathLike] | str | os.PathLike,
    kind: str = "finetuning",
    *,
    history: bool = False,
    cache_dir: str | os.PathLike | None | bool = None,
    wandb_api: Any = None,
    all_versions: bool = False,
) -> pd.DataFrame:
    """One row per run from every source, columns as in `timing_trainer.analysis.table.columns`.

    `sources`: run folders (searched recursively for `timing_results.json`), CSV/XLSX export
    files or folders of them, and `wandb:ENTITY/PROJECT[/SWEEP_ID]` paths. `kind` decides the
    `time` column (see the module's docstring). `history` adds a `history` column for W&B runs
    (one request per run). `cache_dir` holds the W&B cache (None: `default_cache_dir()`, the
    user's cache folder; False: no cache). `wandb_api` replaces `wandb.Api()` (tests pass a
    stand-in); otherwise one client is made for all `wandb:` sources, on first use.
    `all_versions`: read every version of a sweep whose runs folder holds several (by default
    the current one's, with a warning naming what was left out).

    Rows come in the canonical order (`order.canonical_order`): the same runs give the same
    table from any source. Sources that hold no runs at all raise `RunsLoadError`.
    """
    if kind not in KINDS:
        raise RunsLoadError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    sources = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    if not sources:
        raise RunsLoadError("no sources given")
    if cache_dir is None or cache_dir is True:
        cache_dir = default_cache_dir()
    handle = wandb_api if isinstance(wandb_api, ApiHandle) else ApiHandle(wandb_api)
    rows = _rows_of_all(sources, kind, history=history, cache_dir=cache_dir or None,
                        handle=handle, all_versions=all_versions)
    frame = pd.DataFrame.from_records(rows)
    _coerce_numbers(frame)
    table = dedupe_and_order(conform(frame))
    _warn_finished_without_time(table, kind)
    _warn_out_of_range(table)
    _note_running(table)
    table.attrs["kind"] = kind
    table.attrs["sources"] = [os.fspath(s) for s in sources]
    return table


def _rows_of_all(sources: list, kind: str, **options: Any) -> list[dict[str, Any]]:
    """Every source's rows; a source without runs is a warning, all of them empty an error."""
    rows: list[dict[str, Any]] = []
    empty = []
    for source in sources:
        found = source_rows(source, kind, history=options["history"],
                            cache_dir=options["cache_dir"], wandb_api=options["handle"],
                            all_versions=options["all_versions"])
        if not found:
            empty.append(os.fspath(source))
        rows.extend(found)
    if not rows:
        raise RunsLoadError(f"no runs in {', '.join(empty)} (an export with a header only, a "
                            "W&B project or sweep without runs?)")
    if empty:
        warnings.warn(f"no runs in {', '.join(empty)}", RunsDataWarning, stacklevel=3)
    return rows


def finished_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The runs the statistics use: state `finished` and a positive time."""
    mask = (table["state"] == "finished") & table["time"].notna() & (table["time"] > 0)
    return table.loc[mask.fillna(False).astype(bool)].reset_index(drop=True)


def _coerce_numbers(frame: pd.DataFrame) -> None:
    """Numbers in place of text; every cell that is not a usable number is reported by column.

    Text that is no number, and numbers that are not finite (`inf` text, Infinity), are missing;
    so are integers beyond 2**53 (`1e300` as a batch size), which no integer column can hold.
    """
    for column in _NUMERIC:
        if column not in frame:
            continue
        values = frame[column]
        if values.dtype.kind in "fiub":  # already numbers (run folders): only the range check
            numbers = values.astype("float64")
        else:
            numbers = pd.to_numeric(values.map(_as_number), errors="coerce").astype("float64")
            text = numbers.isna() & ~values.map(is_missing)
            _report(frame, column, text, values, "are not numbers")
        limit = _INTEGER_LIMIT if COLUMNS[column] == "Int64" else np.inf
        wild = numbers.notna() & ~(numbers.abs() < limit)
        _report(frame, column, wild, values, "are not finite" if limit == np.inf
                else "are not finite integers")
        frame[column] = numbers.where(~wild)


def _report(frame: pd.DataFrame, column: str, bad: pd.Series, values: pd.Series,
            what: str) -> None:
    if not bad.any():
        return
    examples = ", ".join(repr(v) for v in values[bad].astype(str).unique()[:3])
    runs = ", ".join(frame.loc[bad, "run_id"].astype(str).head(3))
    warnings.warn(f"column {column}: {int(bad.sum())} value(s) {what} ({examples}; runs {runs}); "
                  "read as missing", RunsDataWarning, stacklevel=4)


def _as_number(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("true", "false"):
            return float(text.lower() == "true")
        return text
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (list, dict)):
        return None
    if isinstance(value, int) and abs(value) > _INTEGER_LIMIT:
        return math.inf  # beyond float's range too: reported as not finite
    return value


def _warn_finished_without_time(table: pd.DataFrame, kind: str) -> None:
    finished = table["state"] == "finished"
    missing = finished & (table["time"].isna() | (table["time"] <= 0))
    missing = missing.fillna(False).astype(bool)
    if missing.any():
        ids = ", ".join(table.loc[missing, "run_id"].astype(str).head(5))
        warnings.warn(
            f"{int(missing.sum())} finished run(s) have no {kind} time and are left out of the "
            f"statistics: {ids}", RunsDataWarning, stacklevel=3)


def _note_running(table: pd.DataFrame) -> None:
    """Runs still marked `running`: counted, never analysed; a results file left so was killed."""
    running = (table["state"] == "running").fillna(False).astype(bool)
    if running.any():
        ids = ", ".join(table.loc[running, "name"].fillna(table.loc[running, "run_id"])
                        .astype(str).head(5))
        warnings.warn(
            f"{int(running.sum())} run(s) still marked running (in progress, or killed before "
            f"their end: a SIGKILL leaves a results file `running`) are counted as not finished "
            f"and left out of the statistics: {ids}", RunsDataWarning, stacklevel=3)


def _warn_out_of_range(table: pd.DataFrame) -> None:
    """Metric values outside their metric's range (`columns.METRIC_RANGES`: an accuracy of 42.0,
    a percentage; a correlation of 7.5) are kept, with one warning per metric naming the runs."""
    for column, (low, high) in METRIC_RANGES.items():
        values = pd.to_numeric(table[column], errors="coerce")
        bad = ((values < low) | (values > high)).fillna(False).astype(bool)
        if not bad.any():
            continue
        runs = run_labels(table.loc[bad])
        shown = ", ".join(f"{run} ({value:g})" for run, value in
                          zip(runs[:5], values[bad].head(5)))
        warnings.warn(f"{column}: {int(bad.sum())} value(s) outside [{low:g}, {high:g}], kept "
                      f"as they are (a percentage? another scale?): {shown}", RunsDataWarning,
                      stacklevel=3)
