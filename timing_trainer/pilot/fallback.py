"""The shapes no slice measured, priced by the cost model fitted on the slices.

A slice is an ordinary run of the GLUE program (with `max_steps`), so the cost model
(timing_trainer.costmodel) fits on the pilot's folder as on any runs: fine-tuning time per
iteration, and an evaluation batch's latency, each on its own fit. Its sweep estimate then prices
every run of the sweep, and the runs whose shape a slice measured take the slice's figures
instead (estimate.py). The cost model needs `min_runs` slices of a platform (3); with fewer, or
where it refuses the sweep, the unmeasured shapes are not predicted, and the reason is theirs.

`fitted`, where the caller has it: the runs table to fit fine-tuning on (`predict --runs
PILOT OTHER...`'s), or a `CostModel` already fitted; else the pilot folder's own slices.
Torch-free.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from timing_trainer.errors import CostModelError, RunsLoadError, TimingTrainerError
from timing_trainer.pilot.span import Span


def with_max_steps(table: Any, steps: dict[str, float]) -> Any:
    """The runs table with each slice's `max_steps` (by its run folder's name).

    The analysis's table has no `max_steps` column, so the cost model would read a slice of 20
    steps as a run of its whole epochs and price a step several times too cheap."""
    if "folder" not in table or not steps:
        return table
    table = table.copy()
    cut = table["folder"].map(steps)
    table["max_steps"] = cut if "max_steps" not in table else table["max_steps"].fillna(cut)
    return table


def _fit(kind: str, pilot_dir: Path, fitted: Any, search_dirs: tuple[Path, ...],
         steps: dict[str, float]):
    from timing_trainer.analysis.table.load import load_runs
    from timing_trainer.costmodel.model import CostModel, fit_cost_model

    if isinstance(fitted, CostModel) and fitted.kind == kind:
        return fitted
    table = fitted if fitted is not None and not isinstance(fitted, CostModel) \
        and kind == "finetuning" else load_runs([pilot_dir], kind=kind)
    return fit_cost_model(with_max_steps(table, steps), kind, search_dirs=search_dirs)


def _predictions(kind: str, pilot_dir: Path, sweep_path: Path, only, fitted: Any,
                 search_dirs: tuple[Path, ...], steps: dict[str, float]) -> list[Span]:
    """Each sweep run's cost-model time (fine-tuning: every iteration; inference: the loop)."""
    from timing_trainer.costmodel.sweep_estimate import estimate_sweep

    model = _fit(kind, pilot_dir, fitted, search_dirs, steps)
    runs = estimate_sweep(model, sweep_path, only=only).runs
    return [Span(float(t), float(lo), float(hi)) for t, lo, hi in
            zip(runs["run_time"], runs["run_time_low"], runs["run_time_high"])]


class CostModelPrices:
    """The cost model's per-run on-clock times for a sweep, or why there are none."""

    def __init__(self, pilot_dir: Path, sweep_path: Path, only: dict[str, list[str]] | None,
                 fitted: Any = None, search_dirs: tuple[Path, ...] = (),
                 steps: dict[str, float] | None = None):
        steps = steps or {}  # each slice's optimizer steps, by its folder's name
        self.finetuning: list[Span] = []
        self.evaluation: list[Span] = []
        self.why = ""
        with warnings.catch_warnings():  # the fit's notes on the slices: the estimate's own
            warnings.simplefilter("ignore")
            try:
                self.finetuning = _predictions("finetuning", pilot_dir, sweep_path, only, fitted,
                                               search_dirs, steps)
                self.evaluation = _predictions("inference", pilot_dir, sweep_path, only, None,
                                               search_dirs, steps)
            except (CostModelError, RunsLoadError) as exc:
                self.why = f"cost model not fitted on the slices: {exc}"
            except TimingTrainerError as exc:
                self.why = f"cost model: {exc}"

    def at(self, position: int) -> tuple[Span, Span] | None:
        """(fine-tuning, evaluation) of the run at `position` of the sweep's runs, or None."""
        if self.why or position >= len(self.finetuning) or position >= len(self.evaluation):
            return None
        found = self.finetuning[position], self.evaluation[position]
        return found if all(math.isfinite(s.value) for s in found) else None


def no_interval(span: Span) -> bool:
    return not (math.isfinite(span.low) and math.isfinite(span.high))
