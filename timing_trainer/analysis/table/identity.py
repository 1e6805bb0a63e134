"""Which rows are the same run; the loader's table then comes in `order.canonical_order`, the
one row order the statistics use too (by content, never by source or file order).

A run reached twice is counted once, with one `RunsDataWarning` each rule, first source kept:
- the same run id: a folder inside another given folder, or a W&B run and its results file (the
  file's `wandb_run_id` is the W&B run id);
- the same fingerprint with measurements in it: a copied run folder, or the same run through two
  sources without a shared id. Runs without any measured time (failed before the clock) are
  never merged this way: two failed attempts of one configuration are two attempts.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from typing import Any

import pandas as pd

from timing_trainer.analysis.table.order import ROW_KEY, canonical_order
from timing_trainer.errors import RunsDataWarning

# What ran and what was measured, the lists whole (the order's key has their minimum only: two
# runs are the same only if every repeat agrees): equal for one run read from any source.
MEASURED_COLUMNS = ("finetuning_time_list", "inference_time_list", "finetuning_time",
                    "inference_time", "inference_total_time")
FINGERPRINT_COLUMNS = ("task", "model", "max_seq_length", "batch_size", "eval_batch_size",
                       *MEASURED_COLUMNS)


def _plain(value: Any) -> Any:
    """A JSON-able, source-independent form: numbers as floats, missing as None."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return str(value)


def fingerprints(table: pd.DataFrame) -> pd.Series:
    """SHA-1 of each row's FINGERPRINT_COLUMNS."""
    records = table[list(FINGERPRINT_COLUMNS)].astype(object).to_dict(orient="records")
    keys = [hashlib.sha1(json.dumps([_plain(r[c]) for c in FINGERPRINT_COLUMNS]).encode())
            .hexdigest() for r in records]
    return pd.Series(keys, index=table.index, dtype=object)


def _measured(table: pd.DataFrame) -> pd.Series:
    present = [table[c].map(lambda v: v is not None and not (isinstance(v, float) and v != v)
                            and v is not pd.NA and v != []) for c in MEASURED_COLUMNS]
    return pd.concat(present, axis=1).any(axis=1)


def drop_duplicates(table: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """`table` without second sightings of a run (by run id, then by fingerprint)."""
    same_id = table["run_id"].duplicated(keep="first")
    if same_id.any():
        ids = ", ".join(table.loc[same_id, "run_id"].astype(str).unique()[:5])
        warnings.warn(f"{int(same_id.sum())} duplicate run(s) (same run_id) kept once, first "
                      f"source wins: {ids}", RunsDataWarning, stacklevel=3)
    table, keys = table.loc[~same_id], keys.loc[~same_id]
    copies = keys.duplicated(keep="first") & _measured(table)
    if copies.any():
        first = dict(zip(keys[~copies].iloc[::-1], table.loc[~copies, "run_id"].iloc[::-1]))
        pairs = [f"{rid} ({src}) = {first.get(k, '?')}" for rid, src, k in
                 zip(table.loc[copies, "run_id"], table.loc[copies, "source"], keys[copies])]
        warnings.warn(f"{int(copies.sum())} duplicate run(s) (same configuration and measured "
                      f"times: a copied run folder, or one run through two sources) kept once: "
                      f"{'; '.join(pairs[:5])}", RunsDataWarning, stacklevel=3)
    return table.loc[~copies]


def dedupe_and_order(table: pd.DataFrame) -> pd.DataFrame:
    """`table` without second sightings, in the canonical order (the order's key column left
    out: the table keeps `columns.COLUMNS`)."""
    kept = drop_duplicates(table, fingerprints(table))
    return canonical_order(kept).drop(columns=ROW_KEY, errors="ignore")
