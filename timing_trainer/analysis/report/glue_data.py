"""`timing-trainer glue-stats`'s tables and plots: markdown for the terminal, and with `--out`
CSV, JSON and one PNG per task (the statistics themselves: `timing_trainer.glue.stats`).

Takes the tidy rows as plain dicts and the lengths as arrays, so it needs neither torch nor the
tokenizers. Every file is written atomically (a temporary file renamed into place); the plots
are saved with `bbox_inches="tight"` (`plots.save`), so no label is cut at the edge.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.report.markdown import md_table
from timing_trainer.analysis.report.tables import write_csv
from timing_trainer.runtime.atomic import as_file_system_error, atomic_write_json

LENGTH_COLUMNS = ["task", "split", "tokenizer", "examples", "min", "mean", "p50", "p90", "p95",
                  "p99", "max", "why_not"]


def padding_wide(padding: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per task, split and tokenizer; `padding@L` and `truncated@L` (shares) per L."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in padding:
        key = (row["task"], row["split"], row["tokenizer"])
        wide = rows.setdefault(key, dict(zip(("task", "split", "tokenizer"), key)))
        wide[f"padding@{row['max_seq_length']}"] = row["padding_share"]
        wide[f"truncated@{row['max_seq_length']}"] = row["truncated_share"]
    return pd.DataFrame(list(rows.values()))


def markdown(stats: Any) -> str:
    """The three tables, whole (no row cut): examples, token lengths, padding."""
    splits = pd.DataFrame(stats.splits)
    lengths = pd.DataFrame(stats.token_lengths, columns=LENGTH_COLUMNS)
    if lengths["why_not"].isna().all():
        lengths = lengths.drop(columns="why_not")
    padding = padding_wide(stats.padding)
    return "\n".join([
        "## Examples per split\n", md_table(splits, max_rows=len(splits) or 1),
        "## Token lengths (special tokens included, nothing truncated)\n",
        md_table(lengths, digits=4, max_rows=len(lengths) or 1),
        "## Padding when padded to max_seq_length (share of tokens that are padding; share of "
        "examples truncated)\n",
        md_table(padding, digits=3, max_rows=len(padding) or 1),
    ])


def length_histogram(stats: Any, task: str, split: str = "train"):
    """One task's token-length histogram, a step line per tokenizer, a dashed line per length."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 4.5))
    counted = {tok: values for (t, s, tok), values in stats.raw.items()
               if t == task and s == split}
    longest = max([int(v.max()) for v in counted.values() if v.size] + [1])
    bins = np.arange(0, longest + 2) if longest <= 80 else 60
    for tokenizer, values in counted.items():
        ax.hist(values, bins=bins, histtype="step", linewidth=1.5,
                label=f"{tokenizer} ({values.size} examples)")
    beyond = [length for length in stats.lengths if length > longest * 1.5]
    for length in stats.lengths:
        if length not in beyond:  # a line far right of the data would squash the histogram
            ax.axvline(length, linestyle="--", color="grey", linewidth=1)
            ax.annotate(f"max_seq_length {length}", (length, 1), xycoords=("data", "axes fraction"),
                        rotation=90, va="top", ha="right", fontsize=8, color="grey")
    note = (f"\n(max_seq_length {', '.join(map(str, beyond))}: far beyond the longest example, "
            "not drawn)") if beyond else ""
    ax.set_xlabel("tokens per example (special tokens included)" + note)
    ax.set_ylabel("examples")
    ax.set_title(f"{task} {split}: token lengths per tokenizer")
    ax.legend(fontsize=8)
    return ax


def _save_png(ax, path: Path) -> Path:
    """The figure at `path`, written to a temporary file and renamed into place, then closed."""
    import matplotlib.pyplot as plt

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        ax.figure.savefig(tmp, dpi=110, bbox_inches="tight", pad_inches=0.1)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise as_file_system_error(exc, path) from exc
    finally:
        plt.close(ax.figure)
    return path


def write_outputs(stats: Any, out_dir: str | Path, source: dict[str, Any]) -> list[Path]:
    """splits.csv, token_lengths.csv, padding.csv (long: one row per length), glue_stats.json
    (every row, the lengths, the data's source) and lengths_<task>.png per task."""
    out = Path(out_dir)
    written = [
        write_csv(pd.DataFrame(stats.splits), out / "splits.csv"),
        write_csv(pd.DataFrame(stats.token_lengths, columns=LENGTH_COLUMNS),
                  out / "token_lengths.csv"),
        write_csv(pd.DataFrame(stats.padding), out / "padding.csv"),
        atomic_write_json(out / "glue_stats.json", {
            **source, "max_seq_lengths": list(stats.lengths), "splits": stats.splits,
            "token_lengths": stats.token_lengths, "padding": stats.padding,
        }),
    ]
    for task in dict.fromkeys(row["task"] for row in stats.splits):
        written.append(_save_png(length_histogram(stats, task), out / f"lengths_{task}.png"))
    return written
