"""`timing-trainer predict`: cross-validated error figures, or a sweep's cost before it runs.

    timing-trainer predict --runs SOURCE... --cv leave-one-task-out [--kind K] [--json]
    timing-trainer predict --runs SOURCE... --sweep sweeps/sweep_rte_cased.yaml [--only bf16=false]

Light at import: pandas and the fit are imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from timing_trainer.errors import CliError

CV_CHOICES = ("kfold", "leave-one-task-out", "leave-one-model-out")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict run and sweep cost from measured runs (cost model)",
        description="Fit a first-principles cost model on measured runs; print its "
        "cross-validated error (--cv) or the predicted time of every run of a sweep (--sweep).",
    )
    parser.add_argument("--runs", nargs="+", required=True, metavar="SOURCE",
                        help="run folders, W&B CSV/XLSX exports, or wandb:ENTITY/PROJECT[/SWEEP]")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--cv", choices=CV_CHOICES, help="cross-validation mode for the error")
    what.add_argument("--sweep", metavar="YAML", help="sweep file whose runs to predict")
    parser.add_argument("--kind", choices=("finetuning", "inference"), default="finetuning",
                        help="which time to model (default: finetuning)")
    parser.add_argument("--k", type=int, default=10, help="folds for --cv kfold (default 10)")
    parser.add_argument("--only", action="append", metavar="NAME=V1[,V2]",
                        help="keep only sweep runs whose parameter NAME has one of these values "
                        "(repeatable), e.g. --only max_seq_length=128,256 --only bf16=false")
    parser.add_argument("--device", help="device to predict for (cpu, or a GPU name); default: "
                        "the fitted runs' only device")
    parser.add_argument("--world-size", type=int, default=1,
                        help="processes (GPUs) per run for --sweep (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def _load(sources: list[str], kind: str):
    from timing_trainer.analysis.load import load_runs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table = load_runs(sources, kind=kind)
        except (OSError, ValueError) as exc:
            raise CliError(str(exc).splitlines()[0]) from None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    return table


def run(args: argparse.Namespace) -> int:
    from timing_trainer.costmodel.model import CostModelError, finished, fit_cost_model
    from timing_trainer.costmodel.validation import cross_validate

    table = _load(args.runs, args.kind)
    if finished(table).empty:
        raise CostModelError(
            f"no finished runs with a {args.kind} time in {' '.join(args.runs)} "
            f"({len(table)} run(s) read)")
    if args.cv:
        result = cross_validate(table, args.kind, args.cv, k=args.k)
        summary = result.summary()
        if summary["n"] == 0:
            raise CostModelError(f"{args.cv}: no run could be scored (too few runs per fold)")
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(f"{args.kind} time, {args.cv}: n={summary['n']} "
                  f"(unscored {summary['n_unscored']}), absolute percentage error: median "
                  f"{summary['median_ape']:.2f}%, mean {summary['mean_ape']:.2f}%, "
                  f"p90 {summary['p90_ape']:.2f}%")
        return 0

    from timing_trainer.costmodel.sweep_estimate import (
        estimate_sweep,
        format_estimate,
        parse_only,
        sweep_runs,
    )

    only = parse_only(args.only)
    sweep_runs(args.sweep, only, args.kind)  # a broken sweep file fails before the (slower) fit
    model = fit_cost_model(table, args.kind)
    if model.n_without_shape:
        print(f"warning: {model.n_without_shape} finished run(s) have a model of unknown size "
              "(no table entry, no local config.json) and are not in the fit", file=sys.stderr)
    estimate = estimate_sweep(model, args.sweep, fitted=finished(table), only=only,
                              device=args.device, world_size=args.world_size)
    if args.json:
        print(json.dumps(estimate.to_dict(), indent=2))
    else:
        print(format_estimate(estimate))
    return 0
