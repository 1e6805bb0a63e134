"""Which measured runs a fit may use, and a count of those it may not: never a silent drop.

A run is used when its state is `finished` and its analysed time (the `time` column) is a number
of seconds a measurement can be: finite, positive and at most the analysis's `MAX_SECONDS`
(`timing_trainer.analysis.times`: 1e7 s). The analysis's loader (`load_runs`) already reads other
times as missing, with a warning; a table handed to `fit_cost_model` or `cross_validate` directly
gets the same rule here, so `inf`, `NaN` or `1e300` never reach a fit or a score (one `Infinity`
in 60 runs turned a k-fold median error of 8.4% into 18.0%).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from timing_trainer.analysis.errors import RunsDataWarning
from timing_trainer.analysis.times import MAX_SECONDS

_SHOWN = 5  # run ids named in a message


@dataclass(frozen=True)
class RunCounts:
    """How many runs were read, how many a fit uses, and why the others are left out."""

    read: int
    used: int
    not_finished: dict[str, int] = field(default_factory=dict)  # state -> runs
    bad_time: int = 0  # finished, but the time is missing, not finite, <= 0 or > MAX_SECONDS
    bad_time_runs: tuple[str, ...] = ()  # the first few of those, by run id

    def to_dict(self) -> dict:
        return {"n_read": self.read, "n_used": self.used,
                "n_not_finished": sum(self.not_finished.values()),
                "not_finished_states": dict(self.not_finished),
                "n_without_time": self.bad_time}

    def describe(self) -> str:
        """One line: `18 runs read, 16 used; left out: 1 running, 1 finished without a time`."""
        parts = [f"{n} {state}" for state, n in sorted(self.not_finished.items())]
        if self.bad_time:
            ids = ", ".join(self.bad_time_runs)
            more = ", ..." if self.bad_time > len(self.bad_time_runs) else ""
            parts.append(f"{self.bad_time} finished without a usable time (missing, not finite, "
                         f"not positive or over {MAX_SECONDS:g} s: {ids}{more})")
        left = f"; left out: {', '.join(parts)}" if parts else ""
        return f"{self.read} run(s) read, {self.used} used{left}"


def usable_runs(table: pd.DataFrame | None) -> tuple[pd.DataFrame, RunCounts]:
    """The runs a fit may use (their `time` as float seconds), and the counts of the rest.

    The runs come in `run_id` order (where the table has one), so that a k-fold split, and so
    every figure, is the same however the sources were listed or read.

    A time that is present but unusable (`inf`, `-1`, `1e300`: what the loader did not already
    read as missing) also gives one `RunsDataWarning` naming the runs.
    """
    if table is None or len(table) == 0 or "time" not in table:
        empty = pd.DataFrame() if table is None else table.iloc[0:0]
        return empty, RunCounts(read=0 if table is None else len(table), used=0)
    state = (table["state"].astype("string").str.strip().str.lower().fillna("unknown")
             if "state" in table else pd.Series("finished", index=table.index))
    times = pd.to_numeric(table["time"], errors="coerce").astype(float)
    good_time = np.isfinite(times) & (times > 0) & (times <= MAX_SECONDS)
    is_finished = (state == "finished").to_numpy(bool)
    used = is_finished & good_time.to_numpy(bool)
    bad = is_finished & ~good_time.to_numpy(bool)
    ids = _run_ids(table)
    present = bad & times.notna().to_numpy(bool)
    _warn_unusable(ids[present], times.to_numpy(float)[present])
    counts = RunCounts(
        read=len(table), used=int(used.sum()),
        not_finished={str(s): int(n) for s, n in state[~is_finished].value_counts().items()},
        bad_time=int(bad.sum()), bad_time_runs=tuple(ids[bad][:_SHOWN]))
    runs = table.loc[used].assign(time=times[used])
    if "run_id" in runs:
        runs = runs.iloc[np.argsort(runs["run_id"].astype(str).to_numpy(), kind="stable")]
    return runs, counts


def finished(table: pd.DataFrame | None) -> pd.DataFrame:
    """The runs a fit may use (see `usable_runs`), without the counts."""
    return usable_runs(table)[0]


def _run_ids(table: pd.DataFrame) -> np.ndarray:
    if "run_id" in table:
        return table["run_id"].astype(str).to_numpy()
    return np.array([f"row {i}" for i in table.index], dtype=object)


def _warn_unusable(ids: np.ndarray, values: np.ndarray) -> None:
    if len(values) == 0:
        return
    shown = ", ".join(f"{i} ({v:g} s)" for i, v in zip(ids[:_SHOWN], values[:_SHOWN]))
    warnings.warn(f"{len(values)} finished run(s) have a time that is not a measurement (not "
                  f"finite, not positive or over {MAX_SECONDS:g} s) and are left out of the "
                  f"cost model: {shown}", RunsDataWarning, stacklevel=3)
