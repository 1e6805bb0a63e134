"""`timing-trainer pilot`'s loop: one short slice per shape of the sweep, each its own process.

A slice is the sweep run of its shape that comes first, run by the local agent's own machinery
(timing_trainer.sweep.agent.attempt: the sweep's command and macros, its child process, log and
`agent_record.json` with the wall time) with the overrides of pilot.slicing. Its record gets a
`pilot` entry (the shape, the overrides, the tokenization key) and its results' config a
`pilot_slice` key, so `analyze` and `predict` tell a slice from a sweep run. After every slice
a progress line is printed and `pilot.json` rewritten (pilot.manifest), so a pilot stopped at
any moment keeps what it measured; a second call skips the shapes measured already and goes on
with the rest (the budget counts every slice of the folder).

Shapes go in pilot.grouping's order (round robin over the models); before each, the budget
(pilot.budget) decides, from the slices so far, whether it fits; a shape it does not fit is
left out, with the reason, and priced later by the cost model where it can be. A failed slice
stops the pilot (the next would most likely fail alike), except for running out of memory,
which is that shape's measurement: its sweep runs would run out too.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timing_trainer.errors import PilotError
from timing_trainer.pilot import manifest
from timing_trainer.pilot.budget import Budget
from timing_trainer.pilot.estimate import estimate_runs
from timing_trainer.pilot.expansion import SweepRuns
from timing_trainer.pilot.grouping import Shape, group_runs, slice_order, tokenize_key
from timing_trainer.pilot.marks import mark_slice
from timing_trainer.pilot.measure import SliceMeasure, read_slice, read_slices
from timing_trainer.pilot.slicing import slice_overrides, slice_steps, tokens_per_step
from timing_trainer.pilot.work import RunWork, WorkReader
from timing_trainer.runtime.durations import duration
from timing_trainer.runtime.locks import try_lock
from timing_trainer.sweep.agent.attempt import AttemptRunner
from timing_trainer.sweep.agent.books import RECORD_FILE, now_iso
from timing_trainer.sweep.agent.child import Children
from timing_trainer.sweep.agent.outcomes import read_json
from timing_trainer.sweep.agent.plan import AgentOptions, PlannedRun
from timing_trainer.sweep.agent.runs_dir import check_runs_dir
from timing_trainer.sweep.config.version import run_basis, sweep_version


@dataclass
class PilotOptions:
    """How to run a pilot: where, on what budget, with which W&B mode, from which folder."""

    out_dir: Path
    budget: Budget = field(default_factory=Budget)
    wandb_mode: str = "offline"
    only: dict[str, list[str]] | None = None
    count: int | None = None
    cwd: Path = field(default_factory=Path.cwd)


def _mean_wall(slices: list[SliceMeasure], model: str) -> float | None:
    same = [s.wall for s in slices if s.model == model] or [s.wall for s in slices]
    return statistics.mean(same) if same else None


def _step_estimate(slices: list[SliceMeasure], model: str, tokens: float) -> float | None:
    """A step's seconds at `tokens` per step, from the model's earlier slices."""
    rates = [s.step_seconds / s.tokens_per_step for s in slices
             if s.model == model and s.tokens_per_step > 0]
    return statistics.median(rates) * tokens if rates else None


class PilotRunner:
    """Runs the slices of one sweep into `options.out_dir` (see the module docstring)."""

    def __init__(self, sweep: SweepRuns, options: PilotOptions, out=None):
        self.sweep, self.options, self.out = sweep, options, out or sys.stderr
        self.dir = Path(options.out_dir)
        self.shapes = slice_order(group_runs(sweep.runs, options.cwd))
        reader = WorkReader(sweep.path, options.cwd)
        params = sweep.params
        # Every run's data is read now: a data folder the runs would refuse fails before a slice.
        for _, run_params in sweep.runs:
            reader.check_data_dir(run_params)
        self.works: dict[int, RunWork] = {i: reader.of(p) for i, p in sweep.runs}
        self.first = {shape.key: params[shape.runs[0]] for shape in self.shapes}
        self.attempts = AttemptRunner(
            sweep.config, AgentOptions(runs_dir=self.dir, wandb_mode=options.wandb_mode,
                                       cwd=options.cwd),
            f"{sweep.name}-pilot", options.cwd, Children(), sweep_version(sweep.config))
        self.basis = run_basis(sweep.config)
        self.entries: dict[str, dict[str, Any]] = {}
        self.status, self.started_at = "running", now_iso()

    # -- the books ------------------------------------------------------------------------

    def _entry(self, shape: Shape) -> dict[str, Any]:
        return self.entries.setdefault(shape.key, {
            "label": shape.label, "key": shape.key, "model": shape.model, "runs": shape.runs,
            "slice": None, "status": "pending", "wall_s": None, "steps": None,
            "overrides": None, "left_out": None})

    def spent(self) -> float:
        """Wall seconds of every slice in the folder (finished or not), this call's and before."""
        walls = [(read_json(p) or {}) for p in self.dir.glob(f"*/{RECORD_FILE}")]
        return sum(float(r.get("wall_time") or 0.0) for r in walls if r.get("pilot"))

    def write_books(self) -> None:
        shapes = [self._entry(shape) for shape in self.shapes]
        manifest.write_manifest(self.dir, {
            "sweep": self.sweep.name, "sweep_file": str(self.sweep.path.resolve()),
            "cwd": str(Path(self.options.cwd).resolve()), "only": self.options.only or {},
            "count": self.options.count, "status": self.status,
            "budget": {"rule": self.options.budget.rule(), "limit_s": self.options.budget.limit_s,
                       "spent_s": round(self.spent(), 3)},
            "shapes": shapes, "left_out": manifest.left_out(shapes),
            "started_at": self.started_at, "ended_at": None if self.status == "running"
            else now_iso()})

    # -- one slice ------------------------------------------------------------------------

    def _planned(self, shape: Shape, slices: list[SliceMeasure]) -> tuple[PlannedRun, dict]:
        params = self.first[shape.key]
        work = self.works[shape.runs[0]]
        tokens = tokens_per_step(params)
        steps = slice_steps(work, _step_estimate(slices, shape.model, tokens))
        overrides = slice_overrides(params, work, steps, self.dir)
        planned = PlannedRun.at(shape.runs[0], {**params, **overrides}, self.basis)
        return planned, overrides

    def run_slice(self, shape: Shape, slices: list[SliceMeasure]) -> dict[str, Any]:
        """Run `shape`'s slice to its end; its (marked) agent record."""
        planned, overrides = self._planned(shape, slices)
        run_dir = self.dir / planned.dir_name
        entry = self._entry(shape)
        entry.update(slice=planned.dir_name, status="running", steps=overrides["max_steps"],
                     overrides=overrides)
        self.write_books()
        record = self.attempts.run(planned, run_dir, 1, None)
        mark_slice(run_dir, record, {
            "shape_key": shape.key, "shape": shape.label, "model": shape.model,
            "runs": shape.runs, "overrides": overrides,
            "tokens_per_step": tokens_per_step(self.first[shape.key]),
            "tokenize_key": tokenize_key(self.first[shape.key], self.options.cwd)})
        entry.update(status=record["status"], wall_s=record.get("wall_time"))
        if record["status"] != "finished":
            entry["left_out"] = (f"slice {record['status']}: {record.get('reason_kind')}: "
                                 f"{record.get('reason') or ''}").strip()
        return record

    # -- the loop -------------------------------------------------------------------------

    def _sweep_wall(self, slices: list[SliceMeasure]) -> float | None:
        """The sweep's wall time as predicted from the slices so far: runs of a shape not
        measured yet at the median predicted run of their model (else of all)."""
        if not slices:
            return None
        rows = estimate_runs(self.sweep, slices, self.options.cwd)
        known = [r["wall_s"] for r in rows if r["wall_s"] == r["wall_s"]]
        fallback = statistics.median(known) if known else 0.0
        return sum(r["wall_s"] if r["wall_s"] == r["wall_s"] else fallback for r in rows)

    def _verdict(self, shape: Shape, slices: list[SliceMeasure], models_done: set[str]) -> str:
        budget = self.options.budget
        sweep_wall = self._sweep_wall(slices) if budget.limit_s is None else None
        return budget.verdict(spent_s=self.spent(), next_s=_mean_wall(slices, shape.model),
                              sweep_wall_s=sweep_wall, first_of_model=shape.model not in models_done)

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _line(self, number: int, shape: Shape, record: dict[str, Any]) -> str:
        measure = read_slice(self.dir / record["dir"])
        head = f"[{number}/{len(self.shapes)}] {shape.label}: {record['status']} in " \
               f"{record.get('wall_time') or 0:.1f} s"
        if measure is None:
            return f"{head} ({record.get('reason_kind')}: {record.get('reason') or ''})"
        return (f"{head} ({measure.steps:g} steps x {measure.iters}, {measure.step_seconds * 1e3:.1f} "
                f"ms a step, on clock {measure.on_clock:.1f} s; covers {len(shape.runs)} run(s)); "
                f"spent {duration(self.spent())}")

    def _loop(self) -> int:
        """The slices; the number of failed ones. Stops after a failure other than OOM."""
        slices = read_slices(self.dir)
        done = {s.shape_key for s in slices}
        models_done, failed = {s.model for s in slices}, 0
        for number, shape in enumerate(self.shapes, 1):
            entry = self._entry(shape)
            if shape.key in done:
                entry.update(status="measured earlier", slice=next(
                    s.dir for s in slices if s.shape_key == shape.key))
                continue
            why = self._verdict(shape, slices, models_done)
            if why:
                entry.update(status="left out", left_out=why)
                self._say(f"[{number}/{len(self.shapes)}] {shape.label}: left out ({why})")
                continue
            record = self.run_slice(shape, slices)
            self._say(self._line(number, shape, record))
            models_done.add(shape.model)
            slices = read_slices(self.dir)
            if record["status"] != "finished":
                failed += 1
                if record.get("reason_kind") != "oom":
                    self._leave_rest("the pilot stopped after a failed slice")
                    break
            self.write_books()
        return failed

    def _leave_rest(self, why: str) -> None:
        for shape in self.shapes:
            entry = self._entry(shape)
            if entry["status"] in ("pending", "running"):
                entry.update(status="left out", left_out=why)

    def run(self) -> int:
        """Every slice the budget allows; the number of slices that failed."""
        check_runs_dir(self.dir)
        lock = try_lock(self.dir / ".pilot.lock")
        if lock is None:
            raise PilotError(f"another pilot is running in {self.dir}; wait for it to end")
        try:
            self._say(f"pilot of sweep {self.sweep.name}: {len(self.sweep.runs)} runs, "
                      f"{len(self.shapes)} shape(s); budget {self.options.budget.rule()}; "
                      f"slices in {self.dir}")
            started = time.monotonic()
            try:
                failed = self._loop()
            except KeyboardInterrupt:
                self.attempts.children.stop()
                self.status = "interrupted"
                self._leave_rest("the pilot was interrupted")
                self.write_books()
                raise
            left = any(e.get("left_out") for e in self.entries.values())
            self.status = "failed" if failed else ("budget spent" if left else "finished")
            self.write_books()
            self._say(f"pilot {self.status} in {time.monotonic() - started:.1f} s")
            return failed
        finally:
            lock.close()
