"""Markdown tables and numbers for `report.md`, without extra dependencies."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.table.labels import level_label


def cell(value: Any, digits: int = 4) -> str:
    """One table cell: numbers to `digits` significant digits, whole numbers without `.0`."""
    if value is None or value is pd.NA or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return level_label(value)
        return f"{value:.{digits}g}"
    return str(value).replace("|", "\\|")


def md_table(frame: pd.DataFrame, digits: int = 4, max_rows: int = 40) -> str:
    """A markdown table (numbers to `digits` significant digits); a cut says so."""
    if frame is None or frame.empty:
        return "_(none)_\n"
    shown = frame.head(max_rows)
    head = "| " + " | ".join(str(c) for c in shown.columns) + " |"
    rule = "|" + "---|" * len(shown.columns)
    body = ["| " + " | ".join(cell(v, digits) for v in row) + " |"
            for row in shown.itertuples(index=False)]
    cut = [f"\n_First {max_rows} of {len(frame)} rows; all in the CSV._"] \
        if len(frame) > max_rows else []
    return "\n".join([head, rule, *body, *cut]) + "\n"


def fmt(value: Any, digits: int = 4) -> str:
    """A figure in prose: `n/a` where it could not be computed."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"
