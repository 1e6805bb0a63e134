"""How levels and variables are written in tables and plots: numbers in numeric order and
without a spurious `.0` (`128`, not `128.0`), human names instead of column names.

One place for these rules, so the Tukey table, the box plots and the heat map agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timing_trainer.analysis.table.columns import LABELS

SHORT_LABELS = {  # axis ticks of the heat map, where `label` has a unit or is long
    "batch_size": "batch size", "max_seq_length": "sequence length", "task_size": "task size",
    "time": "time", "metric": "main metric", "energy_j": "energy",
}


def label(column: str) -> str:
    """The human name of a column, with its unit where it has one (`columns.LABELS`)."""
    return LABELS.get(column) or column.replace("_", " ")


def short_label(column: str) -> str:
    return SHORT_LABELS.get(column, label(column))


def level_label(value: Any) -> str:
    """A factor level as text: whole numbers without a decimal point, others as `%g`."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else f"{float(value):g}"
    return str(value)


def sort_levels(values) -> list:
    """Distinct non-missing levels: numbers numerically first, then text alphabetically."""
    distinct = {v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))}
    return sorted(distinct, key=lambda v: (isinstance(v, str), v if not isinstance(v, str) else 0,
                                           str(v)))


def run_label(folder: Any, wandb_id: Any, name: Any = None, run_id: Any = None) -> str:
    """A run as its reader knows it: the folder the sweep printed and the W&B id where both
    exist (`000-d83de8989f (W&B 4fq1g2hv)`), else whichever it has, else its name or id."""
    def text(value: Any) -> str | None:
        missing = value is None or (isinstance(value, float) and np.isnan(value)) \
            or str(value) in ("", "nan", "None", "<NA>")
        return None if missing else str(value)

    folder, wandb_id = text(folder), text(wandb_id)
    if folder and wandb_id and folder != wandb_id:
        return f"{folder} (W&B {wandb_id})"
    return folder or (f"W&B {wandb_id}" if wandb_id else None) or text(name) or str(run_id)


def run_labels(frame) -> list[str]:
    """`run_label` of each row of a runs table (columns absent count as missing)."""
    columns = [frame[c] if c in frame else [None] * len(frame)
               for c in ("folder", "wandb_id", "name", "run_id")]
    return [run_label(*values) for values in zip(*columns)]
