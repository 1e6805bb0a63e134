"""`timing-trainer analyze SOURCE... [--kind finetuning|inference] --out DIR`."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from timing_trainer.errors import CliError

DESCRIPTION = (
    "Analyse runs from run folders (timing_results.json, searched recursively), W&B runs-table "
    "exports (CSV/XLSX, or folders of them) and the W&B API (wandb:ENTITY/PROJECT[/SWEEP_ID]): "
    "ANOVA, log-linear regression, random forest, time against accuracy. Writes summary.json, "
    "CSV tables, PNG plots and report.md into --out."
)


def register(subparsers) -> None:
    parser = subparsers.add_parser("analyze", help="analyse runs and write a report",
                                   description=DESCRIPTION)
    parser.add_argument("sources", nargs="+", metavar="SOURCE",
                        help="run folder, CSV/XLSX export (or folder of them), or wandb:ENTITY/"
                             "PROJECT[/SWEEP_ID]")
    parser.add_argument("--kind", choices=("finetuning", "inference"), default="finetuning",
                        help="which time to analyse (inference: batch_size = evaluation batch size)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="cache for W&B runs (default: OUT/.wandb_cache)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--folds", type=int, default=5, help="k of the k-fold cross-validations")
    parser.add_argument("--forest-folds", type=int, default=None,
                        help="k for the random forest only (each fold re-fits 500 trees; 0 skips "
                             "its cross-validation on large sweeps); default: --folds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from timing_trainer.analysis.records import RunsLoadError
    from timing_trainer.analysis.report import build_report

    if args.folds < 2:
        raise CliError("--folds must be at least 2")
    if args.forest_folds is not None and args.forest_folds != 0 and args.forest_folds < 2:
        raise CliError("--forest-folds must be 0 (no cross-validation) or at least 2")
    cache_dir = args.cache_dir or (args.out / ".wandb_cache")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            report = build_report(args.sources, args.out, args.kind, cache_dir=cache_dir,
                                  plots_on=not args.no_plots, k=args.folds,
                                  forest_k=args.forest_folds)
        except RunsLoadError as exc:
            raise CliError(str(exc)) from exc
        except FileNotFoundError as exc:
            raise CliError(str(exc)) from exc
    seen = set()
    for w in caught:
        message = str(w.message)
        if message not in seen and issubclass(w.category, UserWarning):
            seen.add(message)
            print(f"warning: {message}", file=sys.stderr)
    summary = json.loads((report.parent / "summary.json").read_text())
    print(f"{summary['n_runs']} runs, {summary['n_finished']} finished, "
          f"{summary['n_analysed']} analysed ({args.kind})")
    for row in summary["anova"]:
        if row.get("F") is not None:
            print(f"  ANOVA {row['factor']:<15} F = {row['F']:.4f}  p = {row['p']:.3g}  "
                  f"eta² = {row['eta_sq']:.3f}")
    if summary.get("loglinear"):
        ll = summary["loglinear"]
        cv = ll["cv"]["r2_mean"]
        print(f"  log-linear R² = {ll['r2']:.4f} (adj. {ll['adj_r2']:.4f}, n = {ll['n']}), "
              f"{ll['cv']['k']}-fold CV R² = {'n/a' if cv is None else f'{cv:.4f}'}")
    print(f"report: {report}")
    return 0
