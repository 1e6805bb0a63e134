"""A sweep's cost predicted from a pilot's slices: every run, on the clock and in wall time.

    estimate_from_pilot(pilot_dir, sweep_path, only=None, *, fitted=None) -> PilotEstimate
    predict_run_walls(pilot_dir, sweep_path, only=None) -> {run_index: wall seconds}

Per run of the sweep (in the order `timing-trainer sweep` runs them, `--only` applied):
- its work from the sweep's data (pilot.work: rows of `data_dir`, `max_train_samples`, else the
  task table's sizes; epochs, `max_steps`, repeats);
- on the clock: from the slice of its shape (pilot.clock), source "pilot slice"; a shape no slice
  measured from the cost model fitted on the slices (pilot.fallback), source "cost model"; else
  "not predicted: <why>";
- in wall time: the clock plus the off-clock parts each slice measured as a whole process
  (pilot.overheads: start-up, model load, tokenization or a cache read, warm-up and compilation,
  train set-up, the restore between iterations, evaluation's bookkeeping, writing, exit).
The sweep's sweep file and the pilot may differ (another `data_dir`, more epochs): shapes match
by their values (pilot.grouping), and the work is the new sweep's. Relative paths in the sweep
are read from the folder the pilot ran in (`cwd` in its pilot.json). Torch-free.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from timing_trainer.pilot.clock import ClockPrediction, predict_clock
from timing_trainer.pilot.expansion import SweepRuns, load_sweep
from timing_trainer.pilot.fallback import CostModelPrices
from timing_trainer.pilot.grouping import cache_hits, shape_label, shape_values, tokenize_key
from timing_trainer.pilot.grouping import shape_key as key_of
from timing_trainer.pilot.manifest import left_out, read_manifest
from timing_trainer.pilot.measure import SliceMeasure, read_slices
from timing_trainer.pilot.outcome import PilotEstimate
from timing_trainer.pilot.overheads import predict_overheads
from timing_trainer.pilot.span import Span
from timing_trainer.pilot.work import RunWork, WorkReader

PILOT_SLICE, COST_MODEL = "pilot slice", "cost model"
OFF_CLOCK_PARTS = ("startup", "model_load", "tokenize", "warmup", "train_setup", "other_setup",
                   "rest")
# Every row has every column: a run without a prediction has them empty (NaN in the frame,
# null in the JSON).
EMPTY: dict[str, Any] = {
    **{f"{stem}{suffix}_s": math.nan for stem in ("clock", "finetuning", "evaluation", "wall")
       for suffix in ("", "_low", "_high")},
    **{f"{part}_s": math.nan for part in OFF_CLOCK_PARTS},
    "energy_j": math.nan, "energy_low_j": math.nan, "energy_high_j": math.nan,
    "tokenize": None, "notes": "",
}


def _row(index: int, params: dict[str, Any], values: dict[str, Any], work: RunWork) -> dict:
    """The run's parameters of interest and its work."""
    return {
        "run_index": index, "shape": shape_label(values), "task": params.get("task_name"),
        "model": str(values["model"]).rstrip("/").rsplit("/", 1)[-1],
        "max_seq_length": values["max_seq_length"],
        "batch_size": values["per_device_train_batch_size"],
        "eval_batch_size": values["per_device_eval_batch_size"],
        "precision": values["precision"], "num_train_epochs": params.get("num_train_epochs"),
        "finetuning_iters": work.iters, "n_train": work.n_train, "n_eval": work.n_eval,
        "n_train_source": work.n_train_source, "steps": work.steps,
    }


def _spans(row: dict, name: str, span: Span) -> None:
    row[f"{name}_s"], row[f"{name}_low_s"], row[f"{name}_high_s"] = span.value, span.low, span.high


class _Pricer:
    """Prices each run of a sweep from the slices (and the cost model for the rest)."""

    def __init__(self, sweep: SweepRuns, slices: list[SliceMeasure], cwd: Path,
                 prices: CostModelPrices | None, missing_why: str):
        self.sweep, self.slices, self.cwd = sweep, slices, cwd
        self.by_key = {s.shape_key: s for s in slices}
        self.prices, self.missing_why = prices, missing_why
        self.hits = cache_hits(sweep.runs, cwd)
        self.work = WorkReader(sweep.path, cwd)

    def _clock(self, position: int, own: SliceMeasure | None, params: dict, work: RunWork
               ) -> tuple[ClockPrediction | None, str]:
        if own is not None:
            eval_batch = int(float(params.get("per_device_eval_batch_size") or 8))
            return predict_clock(own, work, eval_batch), PILOT_SLICE
        found = self.prices.at(position) if self.prices is not None else None
        if found is None:
            why = (self.prices.why if self.prices is not None and self.prices.why
                   else self.missing_why)
            return None, f"not predicted: {why}"
        return ClockPrediction(found[0], found[1], None), COST_MODEL

    def price(self, position: int, index: int, params: dict[str, Any]) -> dict[str, Any]:
        """One run's row: its parameters and work, each predicted part, where they came from."""
        values = shape_values(params, self.cwd)
        own = self.by_key.get(key_of(values))
        work = self.work.of(params)
        row = {**_row(index, params, values, work), **EMPTY}
        clock, row["source"] = self._clock(position, own, params, work)
        row["slice"] = own.dir if own is not None else None
        if clock is None:
            return row
        _spans(row, "clock", clock.total)
        _spans(row, "finetuning", clock.finetuning)
        _spans(row, "evaluation", clock.evaluation)
        if clock.energy is not None:
            row.update(energy_j=clock.energy.value, energy_low_j=clock.energy.low,
                       energy_high_j=clock.energy.high)
        if not self.slices:
            row["notes"] = "no slice measured the off-clock parts: no wall time"
            return row
        overheads = predict_overheads(
            self.slices, own, model=str(values["model"]),
            tokenize_key=tokenize_key(params, self.cwd), work=work,
            cache_hit=self.hits.get(index, False),
            step_seconds=clock.finetuning.value / max(work.steps * work.iters, 1.0))
        _spans(row, "wall", clock.total + overheads.total)
        row.update({f"{name}_s": span.value for name, span in overheads.parts.items()})
        row["tokenize"] = "cache read" if self.hits.get(index) else "tokenize"
        row["notes"] = "; ".join(overheads.notes)
        return row


def estimate_runs(sweep: SweepRuns, slices: list[SliceMeasure], cwd: Path,
                  prices: CostModelPrices | None = None,
                  missing_why: str = "no slice of its shape") -> list[dict[str, Any]]:
    """One priced row per run of `sweep` (see the module docstring)."""
    pricer = _Pricer(sweep, slices, cwd, prices, missing_why)
    return [pricer.price(position, index, params)
            for position, (index, params) in enumerate(sweep.runs)]


def _prices(pilot_dir: Path, sweep: SweepRuns, slices: list[SliceMeasure], cwd: Path,
            only, fitted: Any) -> CostModelPrices | None:
    """The cost model's prices, fitted only where some run's shape has no slice."""
    keys = {s.shape_key for s in slices}
    if all(key_of(shape_values(p, cwd)) in keys for _, p in sweep.runs):
        return None
    return CostModelPrices(pilot_dir, sweep.path, only, fitted, search_dirs=(cwd,),
                           steps={s.dir: s.steps for s in slices})


def estimate_from_pilot(pilot_dir: str | Path, sweep_path: str | Path,
                        only: dict[str, list[str]] | None = None, *,
                        fitted: Any = None, count: int | None = None) -> PilotEstimate:
    """Every run of the sweep at `sweep_path` (`only`: `--only`'s parsed values) predicted
    from the pilot in `pilot_dir`; `fitted`: a runs table or `CostModel` for the shapes the
    slices did not measure (see pilot.fallback); `count`: the sweep's first N runs only (as
    `pilot --count`). `PilotError` when the pilot folder or the sweep cannot be used."""
    pilot_dir = Path(pilot_dir)
    manifest = read_manifest(pilot_dir)
    cwd = Path(manifest.get("cwd") or Path.cwd())
    sweep = load_sweep(sweep_path, only, count)
    slices = read_slices(pilot_dir)
    prices = _prices(pilot_dir, sweep, slices, cwd, only, fitted)
    rows = estimate_runs(sweep, slices, cwd, prices)
    return PilotEstimate(sweep.name, str(pilot_dir), rows, left_out=left_out(manifest["shapes"]),
                         n_slices=len(slices),
                         fit=prices.why if prices is not None and prices.why else "",
                         energy_note=next((s.energy_note for s in slices if s.energy_note), ""))


def predict_run_walls(pilot_dir: str | Path, sweep_path: str | Path,
                      only: dict[str, list[str]] | None = None) -> dict[int, float]:
    """{run index in the sweep's expansion: predicted wall seconds}, for the runs that have a
    prediction (a live ETA's starting point)."""
    estimate = estimate_from_pilot(pilot_dir, sweep_path, only)
    runs = estimate.runs
    known = runs[runs["wall_s"].notna()]
    return {int(i): float(w) for i, w in zip(known["run_index"], known["wall_s"])}
