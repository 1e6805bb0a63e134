"""`timing-trainer analyze SOURCE... [--kind finetuning|inference] [--metric time|energy]
--out DIR`: its flags, its checks, what it prints, and the report it writes; `analyze --compare
A B` and `analyze SOURCE... --compare-by FACTOR` write the compare report instead
(`analysis.side_by_side`).

The report holds the analysis's sections, then the cost model's. The analysis
(`timing_trainer.analysis`) and the cost model (`timing_trainer.costmodel`) are sibling packages
that depend one way only: the cost model reads the analysis's table, and the analysis never
imports the cost model. The report that holds both is therefore composed here, one floor up:
the analysis writes its report with the further sections its options carry
(`AnalysisOptions.sections`), and this module adds the cost model's. The flags become one
`AnalysisOptions` here (`analysis_options`), handed down whole.

Light at import (the command line imports it to build its parser): the statistics and the fit
are imported when a report is written.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timing_trainer.errors import CliError

if TYPE_CHECKING:
    from timing_trainer.analysis.options import AnalysisOptions
    from timing_trainer.analysis.stats.result import Analysis

__all__ = ["COST_MODEL", "SECTIONS", "analysis_options", "build_report", "cost_model_section",
           "register", "run", "write_outputs"]

COST_MODEL = "Cost model"  # the heading of the cost model's section in `report.md`


def cost_model_section(analysis: Analysis, out_dir: Path) -> tuple[str, str]:
    """The cost model's section (its plot goes into `out_dir`): cross-validated errors and the
    fitted prices of the analysed runs. Where the cost model fails, a note says why: the
    analysis's report never fails because a neighbour's section did."""
    from timing_trainer.costmodel.report_section import report_section

    try:
        return COST_MODEL, str(report_section(analysis.table, out_dir, analysis.kind))
    except Exception as exc:  # the report must not fail because a neighbour's section did
        return COST_MODEL, (f"_The cost model section failed ({type(exc).__name__}: {exc}); "
                            "skipped._\n")


SECTIONS = (cost_model_section,)  # after the analysis's own, in this order


def _with_cost_model(options: AnalysisOptions | None, overrides: dict[str, Any]) -> AnalysisOptions:
    """`options` (or `overrides`) with the cost model's section after any sections they have."""
    from timing_trainer.analysis.options import options_with

    options = options_with(options, overrides)
    return options_with(options, {"sections": (*options.sections, *SECTIONS)})


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike,
                  options: AnalysisOptions | None = None, *, sources: list[str] = (),
                  **overrides: Any) -> Path:
    """`analysis.analyze.write_outputs` with the cost model's section: the files of `analyze`."""
    from timing_trainer.analysis.analyze import write_outputs as write_analysis

    return write_analysis(analysis, out_dir, _with_cost_model(options, overrides), sources=sources)


def build_report(sources: list[str], out_dir: str | os.PathLike, kind: str = "finetuning",
                 options: AnalysisOptions | None = None, **overrides: Any) -> Path:
    """`analysis.analyze.build_report` (same options) with the cost model's section: load,
    analyse and write what `timing-trainer analyze` writes; `report.md`'s path."""
    from timing_trainer.analysis.analyze import build_report as build_analysis

    return build_analysis(sources, out_dir, kind, _with_cost_model(options, overrides))


def register(subparsers) -> None:
    """`timing-trainer analyze`: the analysis's parser, run with the whole report."""
    add_parser(subparsers).set_defaults(func=run)


DESCRIPTION = (
    "Analyse runs from run folders (timing_results.json, searched recursively), W&B runs-table "
    "exports (CSV/XLSX, or folders of them) and the W&B API (wandb:ENTITY/PROJECT[/SWEEP_ID]): "
    "ANOVA, log-linear regression, random forest, time against accuracy (or the same on energy, "
    "--metric energy). Writes summary.json, CSV tables, PNG plots and report.md into --out."
)


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The `analyze` parser with its flags; the caller sets what runs it (`func`)."""
    parser = subparsers.add_parser("analyze", help="analyse runs and write a report",
                                   description=DESCRIPTION)
    parser.add_argument("sources", nargs="*", metavar="SOURCE",
                        help="run folder, CSV/XLSX export (or folder of them), or wandb:ENTITY/"
                             "PROJECT[/SWEEP_ID]")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), default=None,
                        help="compare two sources configuration by configuration (ratios B/A "
                             "of time, throughput, energy): compare.md in --out")
    parser.add_argument("--compare-by", metavar="FACTOR[=A,B]", default=None,
                        help="compare the SOURCEs' runs split by a factor: platform, precision, "
                             "torch_compile, lora_r, transformers_version, torch_version, "
                             "model, ...; with more than two levels name two (model=A,B)")
    parser.add_argument("--kind", choices=("finetuning", "inference"), default=None,
                        help="which time to analyse (inference: batch_size = evaluation batch "
                             "size); default finetuning, or the --thesis analysis")
    parser.add_argument("--thesis", choices=("finetuning", "inference"), default=None,
                        help="SOURCE is a folder written by `timing-trainer thesis-data`: analyse "
                             "the files the thesis's fine-tuning or inference analysis used, "
                             "with that --kind")
    parser.add_argument("--metric", choices=("time", "energy"), default="time",
                        help="the response analysed: time (seconds, default) or energy (joules: "
                             "fine-tuning, the fastest iteration's; inference, per batch)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="cache for W&B runs (default: $TIMING_TRAINER_WANDB_CACHE or "
                             "~/.cache/timing-trainer/wandb)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--all-versions", action="store_true",
                        help="a sweep's runs folder that holds runs of several versions of the "
                             "sweep: analyse them all (default: the current version's)")
    parser.add_argument("--folds", type=int, default=5, help="k of the k-fold cross-validations")
    parser.add_argument("--forest-folds", type=int, default=None,
                        help="k for the random forest only (each fold re-fits 500 trees; 0 skips "
                             "its cross-validation on large sweeps); default: --folds")
    add_forest_options(parser)
    return parser


def add_forest_options(parser) -> None:
    """The random forest's settings; defaults per --kind are the thesis's (settings.py)."""
    group = parser.add_argument_group("random forest (defaults: the thesis's, per --kind)")
    group.add_argument("--forest-depth", type=int, default=None, metavar="N",
                       help="max_depth (fine-tuning 10, inference 4)")
    group.add_argument("--forest-test-size", type=float, default=None, metavar="SHARE",
                       help="test share of the split (fine-tuning 0.3, inference 0.2)")
    group.add_argument("--forest-trees", type=int, default=None, metavar="N",
                       help="n_estimators (500)")


def forest_options(args: argparse.Namespace) -> dict:
    """The given forest options as `analyze`'s overrides; bad values are one line, exit 2."""
    depth, share, trees = args.forest_depth, args.forest_test_size, args.forest_trees
    if depth is not None and depth < 1:
        raise CliError("--forest-depth must be at least 1")
    if share is not None and not 0 < share < 1:
        raise CliError("--forest-test-size must be between 0 and 1 (a share, e.g. 0.2)")
    if trees is not None and trees < 1:
        raise CliError("--forest-trees must be at least 1")
    return {"max_depth": depth, "test_size": share, "n_estimators": trees}


def analysis_options(args: argparse.Namespace) -> AnalysisOptions:
    """The flags as the analysis's options, checked first: a bad value is one line, exit 2,
    before anything is loaded."""
    from timing_trainer.analysis.options import AnalysisOptions

    if args.folds < 2:
        raise CliError("--folds must be at least 2")
    if args.forest_folds is not None and args.forest_folds != 0 and args.forest_folds < 2:
        raise CliError("--forest-folds must be 0 (no cross-validation) or at least 2")
    return AnalysisOptions(metric=args.metric, k=args.folds, forest_k=args.forest_folds,
                           forest_settings=forest_options(args), cache_dir=args.cache_dir,
                           all_versions=args.all_versions, plots_on=not args.no_plots)


def _figure(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def loglinear_line(summary: dict) -> str:
    """The log-linear fit in one line, or why it was not fitted (never a format error)."""
    ll = summary.get("loglinear")
    if not ll:
        why = next((n for n in summary.get("notes", []) if "log-linear" in n or "no models" in n),
                   "see the report's notes")
        return why if why.startswith("log-linear") else f"log-linear regression not fitted: {why}"
    cv = ll.get("cv", {})
    return (f"log-linear R² = {_figure(ll.get('r2'))} (adj. {_figure(ll.get('adj_r2'))}, "
            f"n = {ll.get('n')}), {cv.get('k')}-fold CV R² = {_figure(cv.get('r2_mean'))}")


def resolve_sources(sources: list[str], kind: str | None,
                    thesis: str | None) -> tuple[list[str], str]:
    """The sources and kind to analyse; `--thesis KIND DIR` expands DIR to the thesis's files."""
    if thesis is None:
        return sources, kind or "finetuning"
    from timing_trainer.analysis.table.thesis import thesis_files

    if kind is not None and kind != thesis:
        raise CliError(f"--thesis {thesis} analyses {thesis} times; leave out --kind {kind}")
    if len(sources) != 1:
        raise CliError("--thesis takes one SOURCE: the folder `timing-trainer thesis-data` wrote")
    return thesis_files(sources[0], thesis), thesis


def check_out(out: Path) -> None:
    """One line, before any loading, when --out cannot hold the report."""
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out}: is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as exc:
        raise CliError(f"--out {out}: cannot write there ({exc.strerror or exc})") from exc


def check_compare(args: argparse.Namespace) -> bool:
    """Whether this is a comparison; the combinations that make no sense are one line, exit 2."""
    if args.compare and args.sources:
        raise CliError("give --compare A B or SOURCE..., not both (SOURCE... --compare-by "
                       "FACTOR splits one set of runs)")
    if args.compare and args.compare_by:
        raise CliError("--compare A B compares two sources; --compare-by splits SOURCE...: "
                       "give one of them")
    if not (args.compare or args.sources):
        raise CliError("give SOURCE... to analyse, or --compare A B")
    comparing = bool(args.compare or args.compare_by)
    if comparing and (args.thesis or args.metric != "time"):
        raise CliError("--compare and --compare-by report time, throughput and energy side by "
                       "side; leave out --thesis and --metric")
    return comparing


def run_compare(args: argparse.Namespace) -> int:
    """`--compare A B` or `--compare-by FACTOR`: the compare report and its headline."""
    from timing_trainer.analysis.report.compare import ratio_text
    from timing_trainer.analysis.side_by_side import compare_by, compare_sources, parse_compare_by

    kind = args.kind or "finetuning"
    split = parse_compare_by(args.compare_by) if args.compare_by else None
    check_out(args.out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if split:
            comparison, report = compare_by(args.sources, *split, args.out, kind,
                                            cache_dir=args.cache_dir,
                                            plots_on=not args.no_plots)
        else:
            comparison, report = compare_sources(*args.compare, args.out, kind,
                                                 cache_dir=args.cache_dir,
                                                 plots_on=not args.no_plots)
    for message in dict.fromkeys(str(w.message) for w in caught
                                 if issubclass(w.category, UserWarning)):
        print(f"warning: {message}", file=sys.stderr)
    a, b = comparison.names
    print(f"{len(comparison.pairs)} configurations on both sides; only {a}: "
          f"{len(comparison.only[a])}, only {b}: {len(comparison.only[b])}")
    print(f"  time {b} / {a}: {ratio_text(comparison.overall['time'])}")
    print(f"report: {report}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Check the flags, then `build_report`, and print the headline figures; bad input is one
    line, exit 2, before anything is loaded."""
    if check_compare(args):
        return run_compare(args)
    options = analysis_options(args)
    args.sources, args.kind = resolve_sources(args.sources, args.kind, args.thesis)
    check_out(args.out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:  # a RunsLoadError reaches the command line's `main`: one line, exit 2
            report = build_report(args.sources, args.out, args.kind, options)
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from exc
    messages = list(dict.fromkeys(str(w.message) for w in caught
                                  if issubclass(w.category, UserWarning)))
    summary = json.loads((report.parent / "summary.json").read_text())
    if not summary["n_analysed"]:
        why = "; ".join(messages[:3])
        raise CliError(f"nothing to analyse: {summary['n_runs']} run(s) read, none finished with "
                       f"a {args.kind} {args.metric}" + (f" ({why})" if why else ""))
    for message in messages:
        print(f"warning: {message}", file=sys.stderr)
    what = args.kind if args.metric == "time" else f"{args.kind} energy, J"
    print(f"{summary['n_runs']} runs, {summary['n_finished']} finished, "
          f"{summary['n_analysed']} analysed ({what})")
    for row in summary["anova"]:
        if row.get("F") is not None:
            print(f"  ANOVA {row['factor']:<15} F = {row['F']:.4f}  p = {row['p']:.3g}  "
                  f"eta² = {row['eta_sq']:.3f}")
    print("  " + loglinear_line(summary))
    print(f"report: {report}")
    return 0
