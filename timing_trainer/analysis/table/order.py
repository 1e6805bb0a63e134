"""One canonical row order before anything that depends on row order.

The random forest's train/test split, the k-fold cross-validations and the Durbin-Watson
statistic follow row position, so the same runs read from W&B (ordered by id), from run folders
(by path) or from an export (by the file's rows) would give different figures. `canonical_order`
sorts by data, never by position:

1. `order_key` when the table has one: a run's position in a published table whose figures
   depend on its order (rows of the thesis's exports: the export loader sets it as it reads
   them, `thesis.thesis_order_key`), runs without one after those with one;
2. a hash of the run's content (what ran and what was measured: equal for one run read from any
   source, unlike its run id), then `run_id`, as tie-breakers.

Shuffling a table therefore changes no figure. The loader puts its table in this order too
(`identity.dedupe_and_order`), so the same runs give the same table from any source.
"""

from __future__ import annotations

import pandas as pd

ORDER_KEY = "order_key"
ROW_KEY = "row_key"  # the content hash, kept as a column once computed (sorting again is cheap)
# What ran and what was measured: equal for one run from any source (the run id is not: a W&B
# id, a folder path). `time` stands for the lists it is the minimum of.
KEY_COLUMNS = ("task", "model", "max_seq_length", "batch_size", "eval_batch_size", "time",
               "finetuning_time", "inference_time", "inference_total_time")


def with_row_key(data: pd.DataFrame) -> pd.DataFrame:
    """`data` with a content hash per row (pandas' vectorised hash; missing columns as missing)."""
    if ROW_KEY in data or data.empty:
        return data
    frame = data.reindex(columns=list(KEY_COLUMNS)).astype(object)
    frame = frame.where(frame.notna(), None).map(lambda v: None if v is None else repr(
        float(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
    return data.assign(**{ROW_KEY: pd.util.hash_pandas_object(frame, index=False).to_numpy()})


def canonical_order(data: pd.DataFrame) -> pd.DataFrame:
    """`data` sorted by `order_key` (if present), fingerprint, run id; index reset."""
    if data.empty:
        return data.reset_index(drop=True)
    data = with_row_key(data)
    sortable = pd.DataFrame(index=data.index)
    if ORDER_KEY in data:
        sortable[ORDER_KEY] = pd.to_numeric(data[ORDER_KEY], errors="coerce")
    sortable[ROW_KEY] = data[ROW_KEY]
    if "run_id" in data:
        sortable["run_id"] = data["run_id"].astype(object).map(lambda v: "" if v is None
                                                                else str(v))
    order = sortable.sort_values(list(sortable.columns), kind="mergesort",
                                 na_position="last").index
    return data.loc[order].reset_index(drop=True)
