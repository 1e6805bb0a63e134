"""The modes' rows of bench/gpu_check.sh's closing table, from bench/modes.py's JSON.

One row per model and mode: fine-tuning time (s) and its ratio to the same model's eager run;
a mode that did not run says why on the next line (refused: peft or flash_attn missing,
padding-free not supported; failed; timed out). Then the modes step's own time against its cap.

    python bench/modes_rows.py OUT/modes.json SECONDS CAP_SECONDS

A JSON that says `"complete": false` is from a step its time limit stopped: its rows are the
runs that ended before, and a line says so.
"""

from __future__ import annotations

import json
import os
import sys


def rows_text(figures: dict | None) -> list[str]:
    """The table's lines for the modes (`figures`: modes.py's JSON; None: it wrote none)."""
    if not figures:
        return [f"{'modes':<46}{'missing':>14}"]
    lines = []
    for row in figures["rows"]:
        name = f"mode: {row['model']} {row['mode']}"
        if row["outcome"] != "finished":
            lines += [f"{name:<46}{'none':>14}{'-':>10}{'':>5}", f"  {row['outcome']}"]
            continue
        ratio = row.get("ratio")
        lines.append(f"{name + ': s, x eager':<46}{row['finetuning_time']:>14.3f}"
                     f"{'-' if ratio is None else format(ratio, '.2f'):>10}{'':>5}")
    if not figures.get("complete"):
        lines.append("  modes: stopped by the step's time limit; the runs after these are missing")
    return lines


def main(argv: list[str]) -> int:
    path, seconds, cap = argv[0], int(argv[1]), int(argv[2])
    figures = json.load(open(path)) if os.path.exists(path) else None
    for line in rows_text(figures):
        print(line)
    ok = "yes" if seconds < cap else "NO"
    print(f"{'modes step (s)':<46}{seconds:>14d}{'< ' + str(cap):>10}{ok:>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
