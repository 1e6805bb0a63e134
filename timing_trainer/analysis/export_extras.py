"""What the thesis's statistics need from W&B exports beyond the runs table's columns.

- Every evaluation metric under its own column (`eval_acc`, `eval_f1`, `eval_mcc`, `eval_corr`,
  `eval_pearson`, `eval_spearmanr`, `eval_loss`): the thesis correlated time with each over all
  runs that have it, while the runs table keeps only each task's main metric.
- `order_key` for rows from the thesis's own exports: the run's position in the table the
  thesis's notebooks built (its files concatenated in `THESIS_FILES` order, rows in file order).
  Its random forest split and its Durbin-Watson statistics depend on that order; with the key,
  `order.canonical_order` reproduces them whatever order the rows arrive in.

The exports are read again through the loader's own reader (`exports.export_rows`, so run ids
follow the loader's rule); runs from folders or the W&B API are left as they are.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from timing_trainer.analysis.exports import export_rows, read_export
from timing_trainer.analysis.order import ORDER_KEY
from timing_trainer.analysis.pooled import METRICS
from timing_trainer.analysis.thesis import THESIS_FILES

PREFIX = "export:"
ROWS_PER_FILE = 100_000  # order_key = file rank * this + row in file


def _thesis_rank(path: Path, kind: str) -> int | None:
    name = f"{path.parent.name}/{path.name}"
    files = list(THESIS_FILES.get(kind, ()))
    return files.index(name) if name in files else None


def _file_extras(path: Path, kind: str) -> pd.DataFrame:
    """One export's run ids (the loader's rule) with its metric columns and thesis position."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the loader already reported this file's problems
        ids = [row["run_id"] for row in export_rows(path, kind)]
        raw = read_export(path)
    extras = pd.DataFrame({"run_id": ids})
    for metric in METRICS:
        extras[metric] = (pd.to_numeric(raw[metric], errors="coerce").to_numpy()
                          if metric in raw else np.nan)
    rank = _thesis_rank(path, kind)
    extras[ORDER_KEY] = (rank * ROWS_PER_FILE + np.arange(len(ids))) if rank is not None \
        else np.nan
    return extras


def with_export_extras(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """`table` with the exports' metric columns and the thesis's `order_key` added (missing
    where a row did not come from an export, or a column is not in its export)."""
    sources = [s for s in table["source"].dropna().unique() if str(s).startswith(PREFIX)]
    if not sources:
        return table
    pieces = [_file_extras(Path(str(s)[len(PREFIX):]), kind).assign(source=s) for s in sources]
    extras = pd.concat(pieces, ignore_index=True).drop_duplicates(["source", "run_id"])
    keep = [c for c in table.columns if c not in (*METRICS, ORDER_KEY)]
    merged = table[keep].merge(extras, on=["source", "run_id"], how="left")
    merged.attrs.update(table.attrs)
    return merged
