"""A sweep's cost in hours, kWh, money and emissions, each with its 90% interval.

- hours: the predicted time of every run (sweep_estimate.py), / 3600;
- kWh: the predicted energy of every run (energy.py's fit, x the same repeats as the time),
  / 3.6e6 J; only where the fitted runs carry energy, else one line says why;
- money = hours x `--price-per-hour` (the price of the machine time, in the user's currency);
- emissions = kWh x `--grid-intensity` (gCO2e per kWh of the grid that feeds the machine).

A price or an intensity is a given constant, so money's interval is the hours' interval x price
and the emissions' the kWh's x intensity. Totals add the runs' bounds, as the time's total does
(errors assumed to move together: conservative). A total whose runs lack a prediction or an
interval has none either, and says how many runs lack one and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.costmodel.energy import JOULES_PER_KWH
from timing_trainer.errors import CostModelError

RATE_OPTIONS = {"price_per_hour": "--price-per-hour", "grid_intensity": "--grid-intensity"}


@dataclass(frozen=True)
class Rates:
    """What an hour of the machine costs, and how much CO2e a kWh of its grid emits."""

    price_per_hour: float | None = None  # money per hour of machine time
    grid_intensity: float | None = None  # gCO2e per kWh


def parse_rate(option: str, text: Any) -> float | None:
    """A rate given on the command line: a finite number >= 0 (None when not given); anything
    else is a `CostModelError` (one line, exit 2), before the runs are read."""
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        raise CostModelError(f"{option} must be a number >= 0, not {str(text)!r}") from None
    if not math.isfinite(value) or value < 0:
        raise CostModelError(f"{option} must be a finite number >= 0, not {str(text)!r}")
    return value


@dataclass
class Amount:
    """A total with its 90% interval; `note` says why the value or the interval is missing."""

    value: float | None
    low: float | None
    high: float | None
    unit: str
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.value, "low": self.low, "high": self.high, "unit": self.unit,
                "note": self.note or None}

    def scaled(self, factor: float, unit: str) -> Amount:
        """The same amount x a constant (a price, an intensity): the interval scales with it."""
        def times(x: float | None) -> float | None:
            return None if x is None else x * factor

        return Amount(times(self.value), times(self.low), times(self.high), unit, self.note)


def add_run_costs(runs: pd.DataFrame, energy: pd.DataFrame | None, rates: Rates) -> None:
    """Per-run hours, kWh (`energy`: the energy model's predictions, None without one), money
    and emissions, with bounds, as columns of `runs` (which has `run_time*` and `repeats`)."""
    for suffix in ("", "_low", "_high"):
        runs[f"run_hours{suffix}"] = runs[f"run_time{suffix}"] / 3600.0
    if energy is not None:
        repeats = runs["repeats"].to_numpy(float)
        for suffix, column in (("", "predicted"), ("_low", "lower"), ("_high", "upper")):
            runs[f"run_kwh{suffix}"] = energy[column].to_numpy(float) * repeats / JOULES_PER_KWH
        runs["energy_interval_note"] = energy["interval_note"].to_numpy()
    for rate, source, unit in ((rates.price_per_hour, "run_hours", "money"),
                               (rates.grid_intensity, "run_kwh", "emissions_g")):
        if rate is None or source not in runs:
            continue
        for suffix in ("", "_low", "_high"):
            runs[f"run_{unit}{suffix}"] = runs[f"{source}{suffix}"] * rate


def total_amount(runs: pd.DataFrame, prefix: str, note_column: str, unit: str) -> Amount:
    """The sum of `run_{prefix}` over the runs, with the sum of their bounds as the interval."""
    n = len(runs)
    values = runs[f"run_{prefix}"].astype(float)
    notes = runs[note_column].fillna("").astype(str) if note_column in runs else \
        pd.Series("", index=runs.index)
    if values.isna().any():
        missing = int(values.isna().sum())
        return Amount(None, None, None, unit,
                      f"{missing} of {n} runs have no prediction: {_first(notes[values.isna()])}")
    low = runs[f"run_{prefix}_low"].astype(float).sum(min_count=n)
    high = runs[f"run_{prefix}_high"].astype(float).sum(min_count=n)
    if not (np.isfinite(low) and np.isfinite(high)):
        lacking = notes != ""
        return Amount(float(values.sum()), None, None, unit,
                      f"no 90% interval: {int(lacking.sum())} of {n} runs have none: "
                      f"{_first(notes[lacking])}")
    return Amount(float(values.sum()), float(low), float(high), unit)


def _first(notes: pd.Series) -> str:
    distinct = [note for note in pd.unique(notes) if note]
    if not distinct:
        return "see the runs"
    return distinct[0] if len(distinct) == 1 else f"{distinct[0]} (and {len(distinct) - 1} more)"


def sweep_totals(runs: pd.DataFrame, rates: Rates, energy_note: str,
                 ) -> dict[str, Amount | None]:
    """Hours, kWh, money and emissions of the whole sweep; None for a rate not given."""
    hours = total_amount(runs, "hours", "interval_note", "h")
    if "run_kwh" in runs:
        kwh = total_amount(runs, "kwh", "energy_interval_note", "kWh")
    else:
        kwh = Amount(None, None, None, "kWh", energy_note or "not predicted")
    out: dict[str, Amount | None] = {"hours": hours, "energy_kwh": kwh, "money": None,
                                     "emissions_gco2e": None}
    if rates.price_per_hour is not None:
        out["money"] = hours.scaled(rates.price_per_hour, "money")
    if rates.grid_intensity is not None:
        emissions = kwh.scaled(rates.grid_intensity, "gCO2e")
        if kwh.value is None:
            emissions.note = f"no energy prediction: {kwh.note}"
        out["emissions_gco2e"] = emissions
    return out
