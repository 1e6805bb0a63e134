"""Where a run's wall time went: how much of it the timing core had on the clock.

A sweep run's wall time (what the agent sees, process start to exit) is start-up (interpreter,
imports), setup (model loading, tokenization), the timed work, and the rest (evaluation
bookkeeping, writing results, W&B). On an H100 a bf16 GLUE run of BERT-base took 16 to 23 s for
about 5 s on the clock: a user planning a sweep needs that ratio, not only the timed figures.

On-clock time = the sum of `finetuning_time_list` (every timed fine-tuning) plus every
evaluation's `inference_total_time`, read from the run's `timing_results.json`. The `startup` and
other setup parts (`setup_time_parts`) are shown beside it where the results carry them. Only
finished runs get a split: a run that was stopped has partial figures.
"""

from __future__ import annotations

import math
from typing import Any


def _finite_sum(values: Any) -> float | None:
    if not isinstance(values, list):
        return None
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
               and math.isfinite(v) and v >= 0]
    return float(sum(numbers)) if numbers else None


def on_clock_seconds(results: dict[str, Any] | None) -> float | None:
    """Seconds the run had on the clock, or None when its results say nothing timed."""
    if not isinstance(results, dict):
        return None
    finetuning = _finite_sum(results.get("finetuning_time_list"))
    evaluations = results.get("evaluations")
    totals = [e.get("inference_total_time") for e in evaluations or [] if isinstance(e, dict)]
    inference = _finite_sum(totals)
    if finetuning is None and inference is None:
        return None
    return (finetuning or 0.0) + (inference or 0.0)


def wall_split(results: dict[str, Any] | None, wall: float) -> dict[str, Any]:
    """`{"on_clock_time", "on_clock_share", "startup_time", "setup_time"}` for a run record
    (None where the results do not say; the share is of the agent's wall time; `setup_time` is
    the setup parts other than `startup`)."""
    on_clock = on_clock_seconds(results)
    parts = (results or {}).get("setup_time_parts") if isinstance(results, dict) else None
    parts = parts if isinstance(parts, dict) else {}
    startup = parts.get("startup")
    setup = _finite_sum([v for k, v in parts.items() if k != "startup"])
    share = on_clock / wall if on_clock is not None and wall > 0 else None
    return {
        "on_clock_time": None if on_clock is None else round(on_clock, 3),
        "on_clock_share": None if share is None else round(min(share, 1.0), 4),
        "startup_time": round(startup, 3) if isinstance(startup, (int, float)) else None,
        "setup_time": None if setup is None else round(setup, 3),
    }


def describe_split(record: dict[str, Any]) -> str:
    """`on clock 4.9 s (27%), startup 3.1 s, setup 2.0 s` for a run line ('' when unknown)."""
    on_clock, share = record.get("on_clock_time"), record.get("on_clock_share")
    if on_clock is None or share is None:
        return ""
    text = f"on clock {on_clock:.1f} s ({share:.0%})"
    if record.get("startup_time") is not None:
        text += f", startup {record['startup_time']:.1f} s"
    if record.get("setup_time") is not None:
        text += f", setup {record['setup_time']:.1f} s"
    return text


def total_split(records: list[dict[str, Any]]) -> str:
    """The on-clock share over several runs' wall time, for the summary ('' when unknown)."""
    timed = [r for r in records if r.get("on_clock_time") is not None and r.get("wall_time")]
    if not timed:
        return ""
    wall = sum(r["wall_time"] for r in timed)
    on_clock = sum(r["on_clock_time"] for r in timed)
    return f"on the clock {on_clock:.1f} s of {wall:.1f} s wall time ({on_clock / wall:.0%})"
