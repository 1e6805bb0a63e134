"""The analysis: runs from run folders, the W&B API and W&B exports into one table, statistics,
plots and a report. Torch-free on purpose: a laptop with pandas can analyse a sweep.

Three wings, depending one way: `table/` (loading and identity) <- `stats/` (the methods) <-
`report/` (markdown, plots, CSV); `analyze` runs all three in one call.

`load_runs` (in `table.load`) and `build_report` (in `analyze`) are the entry points; both are also
reachable from here without importing the heavier modules up front. This `build_report` writes
the analysis alone; `timing_trainer.commands.analyze.build_report` (what `timing-trainer analyze` runs)
adds the cost model's section, one floor up, since the cost model builds on the analysis.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_runs", "build_report"]


def __getattr__(name: str) -> Any:
    if name == "load_runs":
        from timing_trainer.analysis.table.load import load_runs

        return load_runs
    if name == "build_report":
        from timing_trainer.analysis.analyze import build_report

        return build_report
    raise AttributeError(name)
