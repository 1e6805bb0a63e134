"""What `analyze` returns: every statistic of the report as tables and dicts, nothing written.

The notebooks read the same object, so a figure in `report.md` is one attribute away there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.stats.forest import ForestResult
from timing_trainer.analysis.stats.regression import LoglinearResult
from timing_trainer.analysis.stats.response import TIME, Response


@dataclass
class Analysis:
    """Everything the report shows, as tables; `notes` say what could not be computed.

    The statistics are of `response` (time or energy): `data` holds it in `response.column` and
    `response.log_column`; attributes named after time (`log_time`, `time_correlations`) hold the
    figures of the analysed response. `power` is energy against time per model (`power`), empty
    when no analysed run has both. `intervals`: each configuration's median with its
    bootstrap interval (`bootstrap`); `environment`: the platforms the runs ran on (`hardware`).
    """

    kind: str
    table: pd.DataFrame
    data: pd.DataFrame
    states: dict[str, int]
    describe: pd.DataFrame
    describe_by: dict[str, pd.DataFrame]
    min_per_combination: pd.DataFrame
    outliers: pd.DataFrame
    correlations: pd.DataFrame
    anova: pd.DataFrame
    checks: pd.DataFrame
    tukey: pd.DataFrame
    loglinear: LoglinearResult | None
    forest: ForestResult | None
    relation: pd.DataFrame
    pareto: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    data_warnings: list[str] = field(default_factory=list)
    alternatives: dict[str, dict[str, Any]] = field(default_factory=dict)
    log_time: dict[str, Any] = field(default_factory=dict)
    histogram: dict[str, list] = field(default_factory=dict)
    time_correlations: dict[str, float] = field(default_factory=dict)
    fair: pd.DataFrame = field(default_factory=pd.DataFrame)
    fastest: pd.DataFrame = field(default_factory=pd.DataFrame)
    slowest: pd.DataFrame = field(default_factory=pd.DataFrame)
    pooled: dict[str, Any] = field(default_factory=dict)
    noise: dict[str, Any] = field(default_factory=dict)
    factor_residuals: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    forest_settings: dict[str, Any] = field(default_factory=dict)
    response: Response = TIME
    fair_left_out: list[str] = field(default_factory=list)
    power: pd.DataFrame = field(default_factory=pd.DataFrame)
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame)  # per configuration
    environment: pd.DataFrame = field(default_factory=pd.DataFrame)  # per platform
    environment_missing: list[str] = field(default_factory=list)  # keys no run records
    # the accuracy view split by each mode the runs vary (`accuracy.mode_tradeoff`); empty: none
    accuracy_by_mode: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_runs(self) -> int:
        return len(self.table)

    @property
    def n_finished(self) -> int:
        return int((self.table["state"] == "finished").sum())

    @property
    def n_analysed(self) -> int:
        return len(self.data)
