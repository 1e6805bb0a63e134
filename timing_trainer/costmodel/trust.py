"""No total that cannot be trusted: when a sweep's total is withheld, and what to do instead.

A run more than `FAR_FACTOR` (2x) outside the fitted runs' model sizes, lengths or batch sizes
gets a prediction but no interval (extrapolation.py): no cross-validated residual ever measured
an error that far out. When every run of a sweep is such a run, a sum of them is a number
nobody can check, and a user plans a week around it. Fitted on the demo's 40-thousand-parameter
models, the RTE sweep of BERT-base came out at 96 hours. So the estimate gives no total then
(`total_s` null, `total_note` saying why), and its headline recommends what measures this
machine instead: the pilot, as the exact command with the sweep's path and its `--only`
filters. `--force` prints the total anyway, labelled. A sweep with any run inside the fitted
ranges keeps its total. Where some runs lack an interval the total also has none, and says how
many runs lack one (sweep_estimate.py).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pandas as pd

from timing_trainer.costmodel.extrapolation import FAR_FACTOR, FAR_NOTE


def all_far(runs: pd.DataFrame) -> bool:
    """Whether every run of the estimate lies far outside the fit (no interval anywhere)."""
    notes = runs["interval_note"].fillna("").astype(str) if "interval_note" in runs else None
    return notes is not None and len(notes) > 0 and bool(notes.str.startswith(FAR_NOTE).all())


def pilot_command(sweep: str | Path, name: str, only: dict[str, list[str]] | None) -> str:
    """`timing-trainer pilot SWEEP --out pilot/NAME [--only NAME=V1,V2 ...]`, quoted for a shell."""
    words = ["timing-trainer", "pilot", str(sweep), "--out", f"pilot/{name}"]
    for key, values in (only or {}).items():
        words += ["--only", f"{key}={','.join(values)}"]
    return " ".join(shlex.quote(word) for word in words)


def total_note(n_runs: int, forced: bool) -> str:
    """Why the total is not given (or given only because of `--force`)."""
    why = (f"all {n_runs} runs lie far outside the fitted runs (more than {FAR_FACTOR:g}x beyond "
           "their model sizes, lengths or batch sizes), so no interval covers the total")
    return f"given because of --force: {why}" if forced else f"not given: {why}; --force prints it"


def headline(command: str, forced: bool) -> str:
    """The headline's sentence: the total withheld (or forced), and the pilot to run instead."""
    what = ("the total below is printed because of --force and nothing bounds its error" if forced
            else "no total is given (--force prints it)")
    return (f"every run of this sweep is an extrapolation far beyond the fitted runs: {what}. "
            f"Measure this machine with a short pilot instead: {command}")
