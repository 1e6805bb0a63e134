"""What a cost model predicts: time (seconds) or energy (joules), one fit machinery for both.

Time and energy of a run obey the same accounting: a fixed cost per optimizer step, a price per
FLOP, per parameter, per run, and an efficiency of a model and a shape on one platform. Energy is
power x time, so a step that takes longer, or burns more FLOPs, costs more joules too. The fit
(model.py), the run selection (selection.py) and the cross-validation (validation.py) take the
response as a parameter; only the column read and the words of the messages differ.

The column, unit and name are the analysis's (`timing_trainer.analysis.stats.response`: `time`,
`energy_j`); the cost model adds the bound above which a value is no measurement, and the column
that says why a run's value is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from timing_trainer.analysis.stats import response as analysed
from timing_trainer.analysis.table.times import MAX_SECONDS


@dataclass(frozen=True)
class Response:
    """One predicted quantity: the analysis's response and the cost model's bounds on it."""

    analysed: analysed.Response  # name ("time", "energy"), table column, unit
    max_value: float  # larger values are not a measurement (left out, with a warning)
    reason_column: str | None = None  # per-run text: why a value is missing (counted by reason)

    @property
    def name(self) -> str:
        """The word in messages and JSON keys (`n_without_time`, `n_without_energy`)."""
        return self.analysed.name

    @property
    def column(self) -> str:
        """The runs table's column the fit reads."""
        return self.analysed.column

    @property
    def unit(self) -> str:
        return self.analysed.unit


TIME = Response(analysed.TIME, MAX_SECONDS)
# A measured energy above 1e12 J (100 kW for the 1e7 s that bound a time) is no measurement.
# energy.py fills the column for tables that carry only the results' raw energy keys.
ENERGY = Response(analysed.ENERGY, 1e12, reason_column="energy_left_out")
