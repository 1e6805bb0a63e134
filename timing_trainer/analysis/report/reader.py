"""The parts of `report.md` that let a reader act on it: what the runs ran on (first), each
configuration's uncertainty, runs named as the reader knows them.

Runs are named by their folder and their W&B id where both exist (`run`, `stats.frame`); the
markdown tables then leave out `run_id` (a real path for a run folder), which the CSVs keep.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from timing_trainer.analysis.report.markdown import fmt, md_table
from timing_trainer.analysis.stats.bootstrap import CONFIDENCE, OLYMPIC_MIN
from timing_trainer.analysis.stats.result import Analysis

Figures = dict[str, Path]


def runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` for the markdown: `run_id` left out where the `run` column names the runs."""
    if isinstance(frame, pd.DataFrame) and "run" in frame:
        return frame.drop(columns=["run_id"], errors="ignore")
    return frame


def environment_section(analysis: Analysis) -> list[str]:
    """The hardware and software of the runs, one row per platform."""
    lines = ["## Hardware and software", ""]
    table = analysis.environment
    if table.empty:
        return lines + ["_No run records its machine._", ""]
    if len(table) > 1:
        lines += [f"The runs come from {len(table)} platforms, listed apart: their times "
                  "measure different machines (`timing-trainer analyze --compare-by platform` "
                  "puts them side by side, configuration by configuration).", ""]
    lines += [md_table(table.T.reset_index().rename(
        columns={"index": "", **{i: f"platform {i + 1}" for i in range(len(table))}}))]
    if analysis.environment_missing:
        lines += ["Not recorded by any run: " + ", ".join(f"`{k}`" for k in
                                                          analysis.environment_missing) + ".", ""]
    return lines


def _varying(frame: pd.DataFrame, keep: tuple[str, ...]) -> pd.DataFrame:
    """`frame` without the configuration columns that hold one value in every row."""
    constant = [c for c in frame.columns if c not in keep and frame[c].nunique(dropna=False) < 2]
    return frame.drop(columns=constant)


def repeats_sentence(needed: dict) -> str:
    """How many repeats would bring the interval to the target share of the median."""
    if not needed or not needed.get("n_configurations"):
        return f"_No interval: {needed.get('why_not', 'no repeats')}._"
    return (f"On this machine a configuration's {CONFIDENCE:.0%} interval spans ±"
            f"{fmt(needed['median_half_width_pct'], 3)} % of its median at a median of "
            f"{fmt(needed['median_repeats'], 3)} repeats ({needed['n_configurations']} "
            f"configurations); ±{needed['target_pct']:g} % would take about "
            f"{needed['median_repeats_for_target']} repeats (the noisiest configuration: "
            f"{needed['max_repeats_for_target']}).")


def intervals_section(analysis: Analysis, figures: Figures) -> list[str]:
    """Each configuration's median with its bootstrap interval, and the repeats it would take."""
    lines = ["### Uncertainty per configuration", ""]
    intervals = analysis.intervals
    if intervals.empty:
        return lines + ["_No configuration to summarise._", ""]
    figures_columns = ("runs", "repeats", "median", "ci_low", "ci_high", "olympic_mean",
                       "half_width_pct", "repeats_for_2pct")
    shown = _varying(intervals.drop(columns=["why_not"], errors="ignore"), figures_columns)
    lines += [f"Median of each configuration's repeats (every timed iteration of every run of "
              f"it) with a bootstrap {CONFIDENCE:.0%} interval (percentile, 2000 resamples, "
              f"fixed seed); the olympic mean (min and max dropped) from {OLYMPIC_MIN} repeats. "
              "Also `configuration_intervals.csv`.", "",
              repeats_sentence(analysis.noise.get("repeats_needed", {})), "",
              md_table(shown)]
    if "intervals" in figures:
        lines += [f"![medians with their intervals]({figures['intervals'].name})", ""]
    return lines
