"""`PilotEstimate`: a sweep's runs predicted from a pilot, its totals, its JSON and its text.

Totals add the runs' values, and their intervals bound by bound (one machine, one pilot: errors
taken to move together). A total is given only when every run has a prediction: where some have
none (a shape the budget left out and the cost model could not price), `total_s` and the other
totals are null, `total_note` says how many runs and why, and `partial_total_s` and
`partial_wall_total_s` add up the runs that have one, labelled as such. Energy totals where
every run's energy was measured by its slice; else `energy_note` says why not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from timing_trainer.analysis.report.summary import clean

TOTALS = {"total": "clock", "wall_total": "wall"}  # JSON name: the runs' column stem


@dataclass
class PilotEstimate:
    """Per-run predictions (`runs`, one row per sweep run, in the sweep's order) and totals."""

    sweep: str
    pilot_dir: str
    rows: list[dict[str, Any]]
    left_out: list[dict[str, Any]] = field(default_factory=list)
    n_slices: int = 0
    fit: str = ""  # why the cost model priced nothing ("" where it was not needed or did)
    energy_note: str = ""  # why the slices measured no energy ("" where they did)

    @property
    def runs(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def _missing(self, column: str) -> pd.Series:
        return self.runs[column].isna() if len(self.rows) else pd.Series(dtype=bool)

    def total_note(self) -> str:
        """Why there is no total ("" when there is one)."""
        missing = self._missing("wall_s")
        if not missing.any():
            return ""
        reasons = sorted({str(r) for r in self.runs.loc[missing, "source"]})
        return (f"{int(missing.sum())} of {len(self.rows)} runs have no prediction ("
                + "; ".join(reasons) + "): no total is given")

    def interval_note(self) -> str:
        """Why the totals have no interval though every run has a prediction ("" otherwise)."""
        runs = self.runs
        if not len(runs) or runs["wall_s"].isna().any():
            return ""
        bare = runs["wall_low_s"].isna() | runs["wall_high_s"].isna()
        if not bare.any():
            return ""
        return (f"{int(bare.sum())} of {len(runs)} runs have no interval (the cost model gave "
                "none: see cost-model.md, intervals): the totals have none either")

    def _sum(self, column: str, complete: bool) -> float | None:
        values = self.runs[column]
        if complete and values.isna().any():
            return None
        return float(values.dropna().sum())

    def totals(self) -> dict[str, float | None]:
        """`total_s`, `wall_total_s` and their `_low_s`/`_high_s` (None unless every run has a
        prediction), and the partial sums over the runs that have one."""
        out: dict[str, float | None] = {}
        for name, stem in TOTALS.items():
            for suffix in ("", "_low", "_high"):
                out[f"{name}{suffix}_s"] = self._sum(f"{stem}{suffix}_s", complete=True)
            out[f"partial_{name}_s"] = self._sum(f"{stem}_s", complete=False)
        return out

    def energy(self) -> dict[str, Any]:
        """Energy totals (joules, on the clock) where every run has its slice's, else a note."""
        runs = self.runs
        if len(runs) and runs["energy_j"].notna().all():
            return {"energy_total_j": float(runs["energy_j"].sum()),
                    "energy_total_low_j": float(runs["energy_low_j"].sum()),
                    "energy_total_high_j": float(runs["energy_high_j"].sum()),
                    "energy_note": "on-clock energy (fine-tuning and evaluation) of every run"}
        note = self.energy_note or "not predicted for runs no slice of their shape measured"
        return {"energy_total_j": None, "energy_total_low_j": None, "energy_total_high_j": None,
                "energy_note": note}

    def counts(self) -> dict[str, int]:
        sources = self.runs["source"].astype(str) if self.rows else pd.Series(dtype=str)
        return {"n_runs": len(self.rows),
                "n_from_slices": int((sources == "pilot slice").sum()),
                "n_from_cost_model": int((sources == "cost model").sum()),
                "n_not_predicted": int(sources.str.startswith("not predicted").sum())}

    def to_dict(self) -> dict[str, Any]:
        return clean({
            "sweep": self.sweep, "pilot_dir": self.pilot_dir, "n_slices": self.n_slices,
            **self.counts(), **self.totals(), "total_note": self.total_note() or None,
            "interval_note": self.interval_note() or None,
            **self.energy(), "cost_model": self.fit or None, "left_out": self.left_out,
            "runs": self.rows,
        })

    def text(self) -> str:
        from timing_trainer.pilot.text import format_estimate

        return format_estimate(self)
