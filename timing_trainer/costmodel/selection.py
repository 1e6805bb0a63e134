"""Which measured runs a fit may use, and a count of those it may not: never a silent drop.

A run is used when its state is `finished` and its analysed time (the `time` column) is a number
of seconds a measurement can be: finite, positive and at most the analysis's `MAX_SECONDS`
(`timing_trainer.analysis.table.times`: 1e7 s). The same rule, with the response's own column and
bound, picks the runs of an energy fit (response.py); a run without energy is counted there by
the reason its energy is missing. The analysis's loader (`load_runs`) already reads other
times as missing, with a warning; a table handed to `fit_cost_model` or `cross_validate` directly
gets the same rule here, so `inf`, `NaN` or `1e300` never reach a fit or a score (one `Infinity`
in 60 runs turned a k-fold median error of 8.4% into 18.0%).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from timing_trainer.analysis.table.times import MAX_SECONDS
from timing_trainer.costmodel.response import TIME, Response
from timing_trainer.errors import RunsDataWarning

__all__ = ["MAX_SECONDS", "RunCounts", "usable_runs"]

_SHOWN = 5  # run ids named in a message


@dataclass(frozen=True)
class RunCounts:
    """How many runs were read, how many a fit uses, and why the others are left out."""

    read: int
    used: int
    not_finished: dict[str, int] = field(default_factory=dict)  # state -> runs
    bad_time: int = 0  # finished, but the value is missing, not finite, <= 0 or too large
    bad_time_runs: tuple[str, ...] = ()  # the first few of those, by run id
    response: Response = TIME  # what the value is (time or energy)
    left_out: dict[str, int] = field(default_factory=dict)  # finished; why no value -> runs

    def to_dict(self) -> dict:
        out = {"n_read": self.read, "n_used": self.used,
               "n_not_finished": sum(self.not_finished.values()),
               "not_finished_states": dict(self.not_finished),
               f"n_without_{self.response.name}": self.bad_time + sum(self.left_out.values())}
        if self.left_out:
            out[f"without_{self.response.name}_reasons"] = dict(self.left_out)
        return out

    def describe(self) -> str:
        """One line: `18 runs read, 16 used; left out: 1 running, 1 finished without a time`."""
        parts = [f"{n} {state}" for state, n in sorted(self.not_finished.items())]
        parts += [f"{n} finished {reason}" for reason, n in self.left_out.items()]
        if self.bad_time:
            ids = ", ".join(self.bad_time_runs)
            more = ", ..." if self.bad_time > len(self.bad_time_runs) else ""
            r = self.response
            parts.append(f"{self.bad_time} finished without a usable {r.name} (missing, not "
                         f"finite, not positive or over {r.max_value:g} {r.unit}: {ids}{more})")
        left = f"; left out: {', '.join(parts)}" if parts else ""
        return f"{self.read} run(s) read, {self.used} used{left}"


def usable_runs(table: pd.DataFrame | None,
                response: Response = TIME) -> tuple[pd.DataFrame, RunCounts]:
    """The runs a fit may use (their `response.column` as float), and the counts of the rest.

    The runs come in `run_id` order (where the table has one), so that a k-fold split, and so
    every figure, is the same however the sources were listed or read.

    A value that is present but unusable (`inf`, `-1`, `1e300`: what the loader did not already
    read as missing) also gives one `RunsDataWarning` naming the runs. A missing value with a
    reason in `response.reason_column` is counted under that reason.
    """
    column = response.column
    if table is None or len(table) == 0 or column not in table:
        empty = pd.DataFrame() if table is None else table.iloc[0:0]
        return empty, RunCounts(read=0 if table is None else len(table), used=0,
                                response=response)
    state = (table["state"].astype("string").str.strip().str.lower().fillna("unknown")
             if "state" in table else pd.Series("finished", index=table.index))
    values = pd.to_numeric(table[column], errors="coerce").astype(float)
    good = (np.isfinite(values) & (values > 0) & (values <= response.max_value)).to_numpy(bool)
    is_finished = (state == "finished").to_numpy(bool)
    used, bad = is_finished & good, is_finished & ~good
    reasons = _reasons(table, response, bad)
    bad = bad & (reasons == "")
    ids = _run_ids(table)
    present = bad & values.notna().to_numpy(bool)
    _warn_unusable(ids[present], values.to_numpy(float)[present], response)
    counts = RunCounts(
        read=len(table), used=int(used.sum()),
        not_finished={str(s): int(n) for s, n in state[~is_finished].value_counts().items()},
        bad_time=int(bad.sum()), bad_time_runs=tuple(ids[bad][:_SHOWN]), response=response,
        left_out={str(r): int(n) for r, n in pd.Series(reasons[reasons != ""]).value_counts()
                  .items()})
    runs = table.loc[used].assign(**{column: values[used]})
    if "run_id" in runs:
        runs = runs.iloc[np.argsort(runs["run_id"].astype(str).to_numpy(), kind="stable")]
    return runs, counts


def _reasons(table: pd.DataFrame, response: Response, bad: np.ndarray) -> np.ndarray:
    """Per run, why its value is missing ("" where no reason is given, or it is not missing)."""
    out = np.full(len(table), "", dtype=object)
    if response.reason_column and response.reason_column in table:
        given = table[response.reason_column].astype(object).to_numpy()
        for i in np.flatnonzero(bad):
            if isinstance(given[i], str) and given[i]:
                out[i] = given[i]
    return out


def _run_ids(table: pd.DataFrame) -> np.ndarray:
    if "run_id" in table:
        return table["run_id"].astype(str).to_numpy()
    return np.array([f"row {i}" for i in table.index], dtype=object)


def _warn_unusable(ids: np.ndarray, values: np.ndarray, response: Response) -> None:
    if len(values) == 0:
        return
    unit, name = response.unit, response.name
    shown = ", ".join(f"{i} ({v:g} {unit})" for i, v in zip(ids[:_SHOWN], values[:_SHOWN]))
    warnings.warn(f"{len(values)} finished run(s) have {response.analysed.a_name} that is not a "
                  f"measurement (not finite, not positive or over {response.max_value:g} {unit}) "
                  f"and are left out of the cost model's {name} fit: {shown}", RunsDataWarning,
                  stacklevel=3)
