"""`load_runs`: any mix of run folders, W&B exports and W&B API paths -> one tidy table.

Which time is analysed (the `time` column), by `kind`:
- `finetuning`: the minimum of `finetuning_time_list` (every repeat of the whole fine-tuning),
  else `finetuning_time`. The thesis did the same (not its exports' `finetuning_time` column).
- `inference`: for this project's runs (results with `schema_version`/`inference_total_time`),
  `inference_time`, already the minimum per-batch latency over full batches. For the thesis's
  runs (no such keys), the minimum of `inference_time_list[:-1]`: the thesis's convention, which
  drops the list's last element (the evaluation set's last, smaller batch) before the minimum.

Runs that are not finished (failed, crashed, running, killed, invalid) stay in the table, so they
are counted; the statistics use only finished runs with a time (`finished_runs`). Problems in the
data are reported, never dropped silently: text in number columns and finished runs without a time
give a `RunsDataWarning`; the same run from two sources is kept once with a warning; an unreadable
source or an export without its required columns raises `RunsLoadError`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from timing_trainer.analysis.columns import COLUMNS, KINDS, conform, empty_table
from timing_trainer.analysis.exports import EXPORT_SUFFIXES, export_files, export_rows
from timing_trainer.analysis.records import (
    RunsDataWarning,
    RunsLoadError,
    is_missing,
)
from timing_trainer.analysis.run_folders import folder_rows, results_files
from timing_trainer.analysis.wandb_api import PREFIX as WANDB_PREFIX
from timing_trainer.analysis.wandb_api import wandb_rows

__all__ = ["load_runs", "finished_runs", "RunsDataWarning", "RunsLoadError"]

_NUMERIC = tuple(c for c, t in COLUMNS.items() if t in ("Int64", "float64"))


def source_rows(source: str | os.PathLike, kind: str, *, history: bool = False,
                cache_dir: str | os.PathLike | None = None, wandb_api: Any = None,
                ) -> list[dict[str, Any]]:
    """Rows of one source; which loader reads it is decided by its form."""
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
        if results_files(path):
            return folder_rows(path, kind)
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
    cache_dir: str | os.PathLike | None = None,
    wandb_api: Any = None,
) -> pd.DataFrame:
    """One row per run from every source, columns as in `timing_trainer.analysis.columns`.

    `sources`: run folders (searched recursively for `timing_results.json`), CSV/XLSX export
    files or folders of them, and `wandb:ENTITY/PROJECT[/SWEEP_ID]` paths. `kind` decides the
    `time` column (see the module's docstring). `history` adds a `history` column for W&B runs
    (one request per run). `cache_dir` holds the W&B cache. `wandb_api` replaces `wandb.Api()`
    (tests pass a stand-in).
    """
    if kind not in KINDS:
        raise RunsLoadError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = list(sources)
    if not sources:
        raise RunsLoadError("no sources given")
    rows: list[dict[str, Any]] = []
    for source in sources:
        rows.extend(source_rows(source, kind, history=history, cache_dir=cache_dir,
                                wandb_api=wandb_api))
    if not rows:
        table = empty_table()
        table.attrs["kind"] = kind
        return table
    frame = pd.DataFrame.from_records(rows)
    _coerce_numbers(frame)
    frame = _drop_duplicates(frame)
    table = conform(frame)
    _warn_finished_without_time(table, kind)
    table.attrs["kind"] = kind
    table.attrs["sources"] = [os.fspath(s) for s in sources]
    return table


def finished_runs(table: pd.DataFrame) -> pd.DataFrame:
    """The runs the statistics use: state `finished` and a positive time."""
    mask = (table["state"] == "finished") & table["time"].notna() & (table["time"] > 0)
    return table.loc[mask.fillna(False).astype(bool)].reset_index(drop=True)


def _coerce_numbers(frame: pd.DataFrame) -> None:
    """Numbers in place of text; every cell that is not a number is reported by column."""
    for column in _NUMERIC:
        if column not in frame:
            continue
        values = frame[column]
        if values.dtype.kind in "fiub":
            continue
        numbers = pd.to_numeric(values.map(_as_number), errors="coerce")
        bad = numbers.isna() & ~values.map(is_missing)
        if bad.any():
            examples = ", ".join(repr(v) for v in values[bad].astype(str).unique()[:3])
            runs = ", ".join(frame.loc[bad, "run_id"].astype(str).head(3))
            warnings.warn(
                f"column {column}: {int(bad.sum())} value(s) are not numbers ({examples}; runs "
                f"{runs}); read as missing", RunsDataWarning, stacklevel=3)
        frame[column] = numbers


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
    return value


def _drop_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    duplicated = frame["run_id"].duplicated(keep="first")
    if duplicated.any():
        ids = ", ".join(frame.loc[duplicated, "run_id"].astype(str).unique()[:5])
        warnings.warn(
            f"{int(duplicated.sum())} duplicate run(s) (same run_id) kept once, first source "
            f"wins: {ids}", RunsDataWarning, stacklevel=3)
        frame = frame.loc[~duplicated]
    return frame


def _warn_finished_without_time(table: pd.DataFrame, kind: str) -> None:
    finished = table["state"] == "finished"
    missing = finished & (table["time"].isna() | (table["time"] <= 0))
    missing = missing.fillna(False).astype(bool)
    if missing.any():
        ids = ", ".join(table.loc[missing, "run_id"].astype(str).head(5))
        warnings.warn(
            f"{int(missing.sum())} finished run(s) have no {kind} time and are left out of the "
            f"statistics: {ids}", RunsDataWarning, stacklevel=3)
