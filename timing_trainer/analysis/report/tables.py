"""The CSV tables beside `report.md`: every table of the report, whole (the report may cut)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from timing_trainer.analysis.stats.alternatives import alternatives_table
from timing_trainer.analysis.stats.result import Analysis
from timing_trainer.analysis.table.columns import LIST_COLUMNS as TABLE_LIST_COLUMNS
from timing_trainer.runtime.atomic import atomic_write_text

LIST_COLUMNS = (*TABLE_LIST_COLUMNS, "history")


# A cell beginning with one of these is a formula to a spreadsheet (CSV injection): a run name
# `=HYPERLINK(...)` from an export must reach runs.csv as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value):
    """Text that a spreadsheet would run as a formula gets a leading `'`; the rest unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell (and text index) escaped; number columns untouched."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(escape_cell)
    if not pd.api.types.is_numeric_dtype(out.index):
        out.index = out.index.map(escape_cell)
    out.columns = [escape_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, path: Path, index: bool = False) -> Path:
    """One CSV, written atomically, its text escaped against formula injection; rows end in
    CRLF (RFC 4180), so a cell holding a carriage return is quoted, not a row break."""
    return atomic_write_text(path, escape_formulas(frame).to_csv(index=index,
                                                                 lineterminator="\r\n"))



def _json_cell(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return json.dumps(value)


def runs_csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The runs table with list columns as JSON text (what a W&B export holds)."""
    out = table.copy()
    for column in LIST_COLUMNS:
        if column in out:
            out[column] = out[column].map(_json_cell)
    return out


def _by_factor(analysis: Analysis) -> pd.DataFrame:
    return pd.concat([d.rename(columns={f: "level"}).assign(factor=f)
                      for f, d in analysis.describe_by.items()], ignore_index=True)


def write_tables(analysis: Analysis, out_dir: Path) -> list[Path]:
    named = {
        "runs.csv": runs_csv_frame(analysis.table), "descriptive.csv": analysis.describe,
        "descriptive_by_factor.csv": _by_factor(analysis),
        "min_time_per_combination.csv": analysis.min_per_combination,
        "outliers.csv": analysis.outliers, "anova.csv": analysis.anova,
        "anova_assumptions.csv": analysis.checks, "tukey_hsd.csv": analysis.tukey,
        "accuracy_relation.csv": analysis.relation,
        "pareto_front.csv": analysis.pareto.drop(columns=list(LIST_COLUMNS), errors="ignore"),
        "fair_comparisons.csv": analysis.fair, "fastest_runs.csv": analysis.fastest,
        "slowest_runs.csv": analysis.slowest,
        "alternative_models.csv": alternatives_table(analysis.alternatives),
        "pooled_metric_correlations.csv": analysis.pooled.get("correlations", pd.DataFrame()),
        "configuration_intervals.csv": analysis.intervals,
        "environment.csv": analysis.environment,
    }
    files = [write_csv(frame, out_dir / name) for name, frame in named.items()]
    files.append(write_csv(analysis.correlations, out_dir / "correlations.csv", index=True))
    if isinstance(analysis.noise.get("noisiest"), pd.DataFrame):
        files.append(write_csv(analysis.noise["noisiest"], out_dir / "noisiest_runs.csv"))
    if analysis.loglinear:
        files.append(write_csv(analysis.loglinear.coefficients,
                               out_dir / "loglinear_coefficients.csv"))
    if analysis.forest:
        files.append(write_csv(analysis.forest.importances, out_dir / "rf_importances.csv"))
    if len(analysis.power):
        files.append(write_csv(analysis.power, out_dir / "energy_against_time.csv"))
    if len(analysis.accuracy_by_mode):  # only where the runs vary a mode
        files.append(write_csv(analysis.accuracy_by_mode, out_dir / "accuracy_by_mode.csv"))
    return files
