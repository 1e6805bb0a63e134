"""The text form of a pilot's estimate: one line per run, the totals, what is missing and why.

    sweep bench from pilot pilot/bench (8 slices): 8 of 8 runs from pilot slices
    run  shape                            source       n_train  steps  clock s            wall s
      0  small L=64 b=8 eb=8 fp32          pilot slice      400    150  4.1 [4.0, 4.2]    11.2 [10.9, 11.6]
    ...
    total on the clock: 3m05s [2m58s, 3m12s]; wall: 4m40s [4m31s, 4m50s]
"""

from __future__ import annotations

import math
from typing import Any

from timing_trainer.runtime.durations import duration


def _span(row: dict[str, Any], stem: str) -> str:
    value, low, high = (row.get(f"{stem}{s}_s") for s in ("", "_low", "_high"))
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.1f} [{low:.1f}, {high:.1f}]"


def _run_line(row: dict[str, Any]) -> str:
    source = str(row["source"])
    source = "not predicted" if source.startswith("not predicted") else source
    steps = row.get("steps")
    steps_text = f"{steps:g}" if isinstance(steps, (int, float)) and math.isfinite(steps) else "-"
    return (f"{row['run_index']:>4}  {row['shape'][:34]:<34} {source:<13} "
            f"{row['n_train']:>7g} {steps_text:>6}  {_span(row, 'clock'):<22} {_span(row, 'wall')}")


def _headline(estimate: Any) -> str:
    counts = estimate.counts()
    parts = [f"{counts['n_from_slices']} of {counts['n_runs']} runs from pilot slices"]
    if counts["n_from_cost_model"]:
        parts.append(f"{counts['n_from_cost_model']} from the cost model fitted on them")
    if counts["n_not_predicted"]:
        parts.append(f"{counts['n_not_predicted']} not predicted")
    return (f"sweep {estimate.sweep} from pilot {estimate.pilot_dir} ({estimate.n_slices} "
            f"slices): " + ", ".join(parts))


def _total_lines(estimate: Any) -> list[str]:
    totals = estimate.totals()
    if totals["total_s"] is None:
        return [f"total: none: {estimate.total_note()}",
                f"  the predicted runs alone: on the clock {duration(totals['partial_total_s'])}, "
                f"wall {duration(totals['partial_wall_total_s'])}"]
    note = [f"  {estimate.interval_note()}"] if estimate.interval_note() else []
    return [f"total on the clock: {duration(totals['total_s'])} "
            f"[{duration(totals['total_low_s'])}, {duration(totals['total_high_s'])}]; wall: "
            f"{duration(totals['wall_total_s'])} [{duration(totals['wall_total_low_s'])}, "
            f"{duration(totals['wall_total_high_s'])}]", *note]


def format_estimate(estimate: Any) -> str:
    """The estimate as a reader meets it (see the module docstring)."""
    lines = [_headline(estimate),
             f"{'run':>4}  {'shape':<34} {'source':<13} {'n_train':>7} {'steps':>6}  "
             f"{'clock s [interval]':<22} wall s [interval]"]
    lines += [_run_line(row) for row in estimate.rows]
    lines += _total_lines(estimate)
    energy = estimate.energy()
    if energy["energy_total_j"] is not None:
        lines.append(f"energy on the clock: {energy['energy_total_j'] / 3.6e6:.4f} kWh "
                     f"[{energy['energy_total_low_j'] / 3.6e6:.4f}, "
                     f"{energy['energy_total_high_j'] / 3.6e6:.4f}]")
    else:
        lines.append(f"energy: {energy['energy_note']}")
    reasons = sorted({str(r["source"]) for r in estimate.rows
                      if str(r["source"]).startswith("not predicted")})
    lines += [f"  {reason}" for reason in reasons]
    for item in estimate.left_out:
        runs = ", ".join(str(i) for i in item["runs"])
        lines.append(f"left out by the pilot: {item['shape']} (runs {runs}): {item['why']}")
    return "\n".join(lines)
