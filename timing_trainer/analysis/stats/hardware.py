"""Where the runs ran: one row per platform (the hardware a run names), with the software.

Two reports can only be told apart, and two machines compared, when the report says what ran
where: GPU or CPU, their counts, the CPU threads torch used, the driver, CUDA, torch,
transformers, this package's version and the precision, from each run's `environment`. Runs of
several platforms are listed apart, one row each. A key no run records (older results, W&B
exports without the environment) is left out of the table and named in `missing`; a platform
whose runs disagree on a software version lists every version seen.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from timing_trainer.analysis.table.labels import level_label

HARDWARE_KEYS = ("device", "gpu_name", "gpu_count", "cpu_model", "cpu_count",
                 "torch_num_threads", "driver_version", "cuda_version")
SOFTWARE_KEYS = ("torch_version", "transformers_version", "timing_trainer_version",
                 "python_version", "os_platform", "precision")
UNKNOWN = "unknown"


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = level_label(value)
    return None if text in ("", "nan", "None", "<NA>") else text


def platform_label(row: Any) -> str:
    """A platform in a few words: `cuda: NVIDIA H100 80GB HBM3 x2`, `cpu: AMD EPYC 7763 (16
    cores, 8 threads)`; `unknown` where the run records no hardware."""
    device, gpu = _text(row.get("device")), _text(row.get("gpu_name"))
    if gpu and device != "cpu":
        count = _text(row.get("gpu_count"))
        return f"{device or 'gpu'}: {gpu}" + (f" x{count}" if count else "")
    cpu = _text(row.get("cpu_model"))
    details = [f"{_text(row.get(k))} {what}" for k, what in
               (("cpu_count", "cores"), ("torch_num_threads", "threads")) if _text(row.get(k))]
    if not (cpu or details or device):
        return UNKNOWN
    return f"{device or 'cpu'}: {cpu or 'CPU'}" + (f" ({', '.join(details)})" if details else "")


def platform_column(table: pd.DataFrame) -> pd.Series:
    """`platform_label` of every row (the `--compare-by platform` factor)."""
    return pd.Series([platform_label(row) for row in table.to_dict(orient="records")],
                     index=table.index, dtype=object)


def _joined(values: pd.Series) -> str | None:
    seen = sorted({t for t in (_text(v) for v in values) if t})
    return ", ".join(seen) if seen else None


def environment_table(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """(one row per platform: runs, finished, every hardware and software key recorded; the
    keys no run records)."""
    keys = [k for k in (*HARDWARE_KEYS, *SOFTWARE_KEYS) if k in table]
    missing = [k for k in (*HARDWARE_KEYS, *SOFTWARE_KEYS)
               if k not in table or table[k].isna().all()]
    if table.empty:
        return pd.DataFrame(), missing
    platforms = platform_column(table)
    rows = []
    for platform, group in table.groupby(platforms, sort=True):
        row = {"platform": platform, "runs": len(group),
               "finished": int((group["state"] == "finished").sum())}
        row.update({k: _joined(group[k]) for k in keys if k not in missing})
        rows.append(row)
    return pd.DataFrame(rows), missing
