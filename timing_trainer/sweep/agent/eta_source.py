"""What the local agent's live estimate (`eta`) starts from, and what it adds to a run's record.

The predictions come from outside the sweeps package: a pilot's per-run wall times
(`timing_trainer.pilot`) and each run's work (the cost model's features). Both of those import
the sweeps package, so the agent cannot import them (a cycle); the command line computes them
and hands them in as an `EtaSource`. Without one the estimate still learns, from the finished
runs' mean wall time.

A run's record gets `predicted_wall_time` (the prediction it had when it started, None with the
reason in `prediction_basis`), `prediction_error` (measured / predicted - 1, for a finished run
with a prediction) and `prediction_basis` (how it was predicted, or why it was not).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from timing_trainer.sweep.agent.eta import Eta, Outcome, Prediction


@dataclass
class EtaSource:
    """`pilot`: {run key: predicted wall s} (a pilot's); `works`: each run's work in TFLOP
    (None where unknown) from a list of parameter dicts; `label`: where the pilot came from."""

    pilot: Mapping[str, float] = field(default_factory=dict)
    works: Callable[[list[dict[str, Any]]], list[float | None]] | None = None
    label: str = ""

    def work_of(self, params: list[dict[str, Any]]) -> list[float | None]:
        return list(self.works(params)) if self.works and params else [None] * len(params)


def build_eta(plan: list[Any], todo: list[Any], records: Mapping[str, dict[str, Any]],
              source: EtaSource, *, workers: int, unplanned: int = 0,
              clock: Callable[[], float] | None = None) -> Eta:
    """The estimate of `todo` (planned runs in queue order), knowing the runs of `plan` that
    finished earlier (their records' wall times)."""
    queued = {run.index for run in todo}
    earlier = {}
    for run in plan:
        record = records.get(run.key) or {}
        wall = record.get("wall_time")
        if (record.get("status") == "finished" and isinstance(wall, (int, float))
                and run.index not in queued):
            earlier[run.index] = float(wall)
    known = [run for run in plan if run.index in queued or run.index in earlier]
    work = dict(zip((run.index for run in known), source.work_of([r.params for r in known])))
    pilot = {run.index: source.pilot[run.key] for run in plan if run.key in source.pilot}
    extra = {"clock": clock} if clock is not None else {}
    eta = Eta([run.index for run in todo], pilot=pilot, work=work, workers=workers,
              unplanned=unplanned, **extra)
    for index, wall in earlier.items():
        eta.learn(index, wall)
    return eta


def record_fields(prediction: Prediction, outcome: Outcome | None) -> dict[str, Any]:
    """The record's prediction keys (`outcome`: the run finished; None: it did not)."""
    error = outcome.error if outcome is not None else None
    return {"predicted_wall_time": None if prediction.seconds is None
            else round(prediction.seconds, 3),
            "prediction_error": None if error is None else round(error, 4),
            "prediction_basis": prediction.basis}
