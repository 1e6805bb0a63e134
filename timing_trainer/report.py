"""The report of `timing-trainer analyze`: the analysis's sections, then the cost model's.

The analysis (`timing_trainer.analysis`) and the cost model (`timing_trainer.costmodel`) are
sibling packages that depend one way only: the cost model reads the analysis's table, and the
analysis never imports the cost model. The report that holds both is therefore composed here,
one floor up: the analysis writes its report with the further sections it is handed
(`analysis.report.write_outputs(..., sections=...)`), and this module hands it the cost model's.
The `analyze` command is registered here for the same reason; its flags, checks and output are
the analysis's (`analysis.cli`).

Light at import (the command line imports it to build its parser): the statistics and the fit
are imported when a report is written.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timing_trainer.analysis import cli as analysis_cli

if TYPE_CHECKING:
    from timing_trainer.analysis.result import Analysis

__all__ = ["COST_MODEL", "SECTIONS", "build_report", "cost_model_section", "register",
           "write_outputs"]

COST_MODEL = "Cost model"  # the heading of the cost model's section in `report.md`


def cost_model_section(analysis: Analysis, out_dir: Path) -> tuple[str, str]:
    """The cost model's section (its plot goes into `out_dir`): cross-validated errors and the
    fitted prices of the analysed runs. Where the cost model fails, a note says why: the
    analysis's report never fails because a neighbour's section did."""
    from timing_trainer.costmodel.report import report_section

    try:
        return COST_MODEL, str(report_section(analysis.table, out_dir, analysis.kind))
    except Exception as exc:  # the report must not fail because a neighbour's section did
        return COST_MODEL, (f"_The cost model section failed ({type(exc).__name__}: {exc}); "
                            "skipped._\n")


SECTIONS = (cost_model_section,)  # after the analysis's own, in this order


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike, **options: Any) -> Path:
    """`analysis.report.write_outputs` with the cost model's section: the files of `analyze`."""
    from timing_trainer.analysis.report import write_outputs as write_analysis

    return write_analysis(analysis, out_dir, sections=SECTIONS, **options)


def build_report(sources: list[str], out_dir: str | os.PathLike, kind: str = "finetuning",
                 **options: Any) -> Path:
    """`analysis.report.build_report` (same options) with the cost model's section: load,
    analyse and write what `timing-trainer analyze` writes; `report.md`'s path."""
    from timing_trainer.analysis.report import build_report as build_analysis

    return build_analysis(sources, out_dir, kind, sections=SECTIONS, **options)


def register(subparsers) -> None:
    """`timing-trainer analyze`: the analysis's parser, run with the whole report."""
    analysis_cli.add_parser(subparsers).set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return analysis_cli.run(args, build_report)
