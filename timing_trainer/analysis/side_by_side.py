"""`analyze --compare A B` and `analyze SOURCE... --compare-by FACTOR[=LEVEL_A,LEVEL_B]`: load,
split, compare (`stats.compare`) and write the compare report (`report.compare`).

Two sources (each anything `analyze` reads) are the two sides as they are. One set of runs split
by a factor gives a side per level: `platform` (the hardware a run names, `stats.hardware`),
`precision`, `torch_compile`, `lora_r`, `transformers_version`, `torch_version`, or a factor
of the design (`model`, `task`, ...). A factor no run records, or with one level, cannot be
compared: one line (`CompareError`, exit 2). With more than two levels the two are named
(`--compare-by model=bert-base-uncased,roberta-base`); with two, the first in sorted order is A.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from timing_trainer.analysis.report.compare import write_comparison
from timing_trainer.analysis.stats.compare import Comparison, compare
from timing_trainer.analysis.stats.frame import analysis_frame
from timing_trainer.analysis.stats.hardware import platform_column
from timing_trainer.analysis.table.labels import level_label, sort_levels
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.errors import CompareError

COMPARE_FACTORS = ("platform", "precision", "torch_compile", "lora_r", "transformers_version",
                   "torch_version", "model", "task", "max_seq_length", "batch_size")


def parse_compare_by(text: str) -> tuple[str, tuple[str, str] | None]:
    """`FACTOR` or `FACTOR=A,B` -> (factor, the two levels or None); a bad one is one line."""
    factor, _, levels = text.partition("=")
    factor = factor.strip()
    if factor not in COMPARE_FACTORS:
        raise CompareError(f"--compare-by {factor}: not a factor to compare by (one of "
                           f"{', '.join(COMPARE_FACTORS)})")
    if not levels:
        return factor, None
    pair = tuple(level.strip() for level in levels.split(","))
    if len(pair) != 2 or not all(pair) or pair[0] == pair[1]:
        raise CompareError(f"--compare-by {text}: name two different levels, "
                           f"{factor}=LEVEL_A,LEVEL_B")
    return factor, pair


def _frame(sources: list[str], kind: str, cache_dir) -> pd.DataFrame:
    return analysis_frame(load_runs(sources, kind, cache_dir=cache_dir), kind)


def factor_levels(data: pd.DataFrame, factor: str) -> pd.Series:
    """Each run's level of `factor` as text (missing: None); one line where no run has it."""
    if factor == "platform":
        return platform_column(data)
    if factor not in data or data[factor].isna().all():
        raise CompareError(f"--compare-by {factor}: no run records {factor} (runs of this "
                           "version do not have that column yet, or the sources predate it)")
    return data[factor].map(lambda v: None if pd.isna(v) else level_label(v))


def split_by(data: pd.DataFrame, factor: str, levels: tuple[str, str] | None
             ) -> tuple[tuple[str, str], pd.DataFrame, pd.DataFrame]:
    """The two sides of `data` by `factor`: their names (`factor=level`) and their runs."""
    values = factor_levels(data, factor)
    present = [level_label(v) for v in sort_levels(values.dropna())]
    if len(present) < 2:
        raise CompareError(f"--compare-by {factor}: every finished run has one level "
                           f"({', '.join(present) or 'none'}): nothing to compare")
    if levels is None:
        if len(present) > 2:
            raise CompareError(f"--compare-by {factor}: {len(present)} levels "
                               f"({', '.join(present)}); name two: --compare-by "
                               f"{factor}=LEVEL_A,LEVEL_B")
        levels = (present[0], present[1])
    unknown = [level for level in levels if level not in present]
    if unknown:
        raise CompareError(f"--compare-by {factor}: no finished run has {factor} "
                           f"{', '.join(unknown)} (levels: {', '.join(present)})")
    names = (f"{factor}={levels[0]}", f"{factor}={levels[1]}")
    return names, data[values == levels[0]], data[values == levels[1]]


def _checked(comparison: Comparison) -> Comparison:
    if comparison.pairs.empty:
        matched = ", ".join(comparison.keys["matched"]) or "nothing"
        raise CompareError(f"nothing to compare: no configuration ran on both sides "
                           f"(matched on {matched})")
    return comparison


def compare_sources(a: str, b: str, out: Path, kind: str = "finetuning", *, cache_dir=None,
                    plots_on: bool = True) -> tuple[Comparison, Path]:
    """`--compare A B`: the comparison and its report's path."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = [_frame([source], kind, cache_dir) for source in (a, b)]
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    names = (os.path.basename(os.fspath(a).rstrip("/")) or "A",
             os.path.basename(os.fspath(b).rstrip("/")) or "B")
    names = names if names[0] != names[1] else ("A", "B")
    comparison = _checked(compare(*frames, kind, names=names))
    sources = {names[0]: os.fspath(a), names[1]: os.fspath(b)}
    return comparison, write_comparison(comparison, out, sources, plots_on)


def compare_by(sources: list[str], factor: str, levels: tuple[str, str] | None, out: Path,
               kind: str = "finetuning", *, cache_dir=None,
               plots_on: bool = True) -> tuple[Comparison, Path]:
    """`SOURCE... --compare-by FACTOR[=A,B]`: the comparison and its report's path."""
    data = _frame(sources, kind, cache_dir)
    names, a, b = split_by(data, factor, levels)
    comparison = _checked(compare(a, b, kind, names=names, factor=factor))
    shown = {name: f"{', '.join(sources)} where {name}" for name in names}
    return comparison, write_comparison(comparison, out, shown, plots_on)
