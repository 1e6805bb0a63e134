"""`timing-trainer predict`: cross-validated error figures, or a sweep's cost before it runs.

    timing-trainer predict --runs SOURCE... --cv leave-one-task-out [--kind K] [--json]
    timing-trainer predict --runs SOURCE... --sweep sweeps/sweep_rte_cased.yaml [--only bf16=false]
        [--price-per-hour PRICE] [--grid-intensity GCO2E_PER_KWH] [--force]

Where every run of the sweep lies far outside the fitted runs, the estimate gives no total (the
headline says so and prints the pilot command that measures this machine instead); `--force`
prints it anyway, labelled (costmodel/trust.py).

Where the runs carry energy, energy is predicted beside time (energy.py): `--cv` scores both,
`--sweep` gives hours and kWh, and money and emissions at the given rates (sweep_costs.py).

A pilot's folder first in `--runs` (`timing-trainer pilot`: it holds `pilot.json`) predicts the
sweep from its slices, on the clock and in wall time (timing_trainer.pilot); any further sources
are the runs the cost model fits for the shapes no slice measured.

Light at import: pandas and the fit are imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from timing_trainer.errors import CliError, CostModelError

CV_CHOICES = ("kfold", "leave-one-task-out", "leave-one-model-out")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict run and sweep cost from measured runs (cost model)",
        description="Fit a first-principles cost model on measured runs; print its "
        "cross-validated error (--cv) or the predicted time of every run of a sweep (--sweep). "
        "Where the runs carry energy, energy is predicted and scored beside time.",
    )
    parser.add_argument("--runs", nargs="+", required=True, metavar="SOURCE",
                        help="run folders, W&B CSV/XLSX exports, or wandb:ENTITY/PROJECT[/SWEEP]; "
                        "a pilot's folder first (timing-trainer pilot) predicts --sweep from "
                        "its slices")
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
    parser.add_argument("--price-per-hour", metavar="PRICE",
                        help="--sweep: price of an hour of machine time; adds money = hours x "
                        "PRICE, with its interval")
    parser.add_argument("--grid-intensity", metavar="G",
                        help="--sweep: gCO2e per kWh of the machine's grid; adds emissions = "
                        "kWh x G, with its interval (needs runs with energy)")
    parser.add_argument("--force", action="store_true",
                        help="--sweep: give the total even where every run lies far outside the "
                        "fitted runs (no interval can cover it; the pilot measures it instead)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def _load(sources: list[str], kind: str):
    """The runs table. What the loader refuses (`RunsLoadError`) reaches the command line's
    `main` as it is; anything else a reader trips on (an `OSError`, an XLSX cut short, a zip named
    `.xlsx`) is still one line and exit 2 here, never a traceback."""
    from timing_trainer.analysis.table.load import load_runs
    from timing_trainer.errors import RunsLoadError

    try:
        return load_runs(sources, kind=kind)
    except RunsLoadError:
        raise
    except (OSError, ValueError) as exc:
        raise CliError(_first_line(exc)) from None
    except Exception as exc:  # a reader that tripped on a broken file: still one line
        raise CliError(f"cannot read the runs in {' '.join(sources)}: "
                       f"{type(exc).__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _require_usable(table, kind: str, sources: list[str], caught: list) -> None:
    """One line when no run can be used, with the first warning (the likely why)."""
    from timing_trainer.costmodel.selection import usable_runs

    runs, counts = usable_runs(table)
    if runs.empty:
        why = (f"; first of {len(caught)} warning(s): {caught[0].message}" if caught else "")
        raise CostModelError(f"no finished runs with a usable {kind} time in "
                             f"{' '.join(sources)} ({counts.describe()}){why}")


def _cross_validate(args: argparse.Namespace, table) -> str:
    """Time's errors; energy's beside them where runs carry energy (else why not: one line)."""
    from timing_trainer.costmodel.cross_validation import cross_validate
    from timing_trainer.costmodel.energy import cross_validate_energy

    result = cross_validate(table, args.kind, args.cv, k=args.k)
    summary = result.summary()
    if summary["n"] == 0:
        raise CostModelError(f"{args.cv}: no run could be scored (too few runs per fold)")
    energy, note = cross_validate_energy(table, args.kind, args.cv, k=args.k)
    energy_summary = energy.summary() if energy is not None else None
    if energy_summary is not None and energy_summary["n"] == 0:
        energy_summary, note = None, f"not scored: {args.cv}: too few runs per fold"
    if args.json:
        return json.dumps({**summary, "energy": energy_summary, "energy_note": note or None},
                          indent=2)
    lines = [_cv_line(f"{args.kind} time", args.cv, summary),
             f"runs: {result.counts.describe()}"]
    if energy_summary is None:
        return "\n".join([*lines, f"energy: {note}"])
    return "\n".join([*lines, _cv_line(f"{args.kind} energy", args.cv, energy_summary),
                      f"runs with energy: {energy.counts.describe()}"])


def _cv_line(what: str, cv: str, summary: dict) -> str:
    return (f"{what}, {cv}: n={summary['n']} (unscored {summary['n_unscored']}), absolute "
            f"percentage error: median {summary['median_ape']:.2f}%, mean "
            f"{summary['mean_ape']:.2f}%, p90 {summary['p90_ape']:.2f}%")


def _checked_only(args: argparse.Namespace) -> dict[str, list[str]]:
    """`--only` parsed and the sweep expanded and filtered: bad input fails before the runs
    are read and the model is fitted (both slower)."""
    from timing_trainer.costmodel.sweep_estimate import sweep_runs
    from timing_trainer.sweep.config.select import parse_only

    only = parse_only(args.only)
    sweep_runs(args.sweep, only, args.kind)
    return only


def _checked_rates(args: argparse.Namespace):
    """`--price-per-hour` and `--grid-intensity`: numbers >= 0, for `--sweep` only; checked
    before anything is read or fitted."""
    from timing_trainer.costmodel.sweep_costs import RATE_OPTIONS, Rates, parse_rate

    given = {name: getattr(args, name) for name in RATE_OPTIONS}
    if args.cv:
        for name, value in given.items():
            if value is not None:
                raise CliError(f"{RATE_OPTIONS[name]} prices a sweep's estimate; use it with "
                               "--sweep, not --cv")
    return Rates(**{name: parse_rate(RATE_OPTIONS[name], value) for name, value in given.items()})


def _estimate(args: argparse.Namespace, table, only: dict[str, list[str]], rates) -> str:
    from timing_trainer.costmodel.energy import fit_energy
    from timing_trainer.costmodel.model import fit_cost_model
    from timing_trainer.costmodel.sweep_estimate import estimate_sweep
    from timing_trainer.costmodel.sweep_text import format_estimate

    model = fit_cost_model(table, args.kind)
    if model.n_without_shape:
        warnings.warn(f"{model.n_without_shape} finished run(s) have a model of unknown size "
                      "(no table entry, no config.json in a local folder or the Hub cache) and are "
                      "not in the fit",
                      stacklevel=2)
    estimate = estimate_sweep(model, args.sweep, only=only,
                              device=args.device, world_size=args.world_size,
                              energy=fit_energy(table, args.kind), rates=rates,
                              force=args.force)
    return json.dumps(estimate.to_dict(), indent=2) if args.json else format_estimate(estimate)


def _pilot_folder(sources: list[str]):
    """The first source when it is a pilot's folder, else None."""
    from pathlib import Path

    from timing_trainer.pilot.manifest import PILOT_FILE

    first = Path(sources[0])
    return first if (first / PILOT_FILE).is_file() else None


def _check_pilot_options(args: argparse.Namespace, rates) -> None:
    """What a pilot's estimate does not take: one line each, before anything is read."""
    given = [option for option, bad in (
        ("--kind inference", args.kind != "finetuning"), ("--device", args.device is not None),
        ("--world-size", args.world_size != 1), ("--force", args.force),
        ("--price-per-hour", rates.price_per_hour is not None),
        ("--grid-intensity", rates.grid_intensity is not None)) if bad]
    if given:
        raise CliError(f"{given[0]}: not with a pilot's folder ({args.runs[0]}), whose slices "
                       "measured this machine as the sweep will run (fine-tuning and evaluation "
                       "both, wall time beside the clock); leave it out")


def _pilot_estimate(args: argparse.Namespace, only: dict[str, list[str]], pilot) -> str:
    """The sweep from the pilot's slices; the other sources, where given, fit the cost model
    for the shapes no slice measured (else the slices do: pilot.fallback)."""
    from timing_trainer.pilot.estimate import estimate_from_pilot

    fitted = _load(args.runs[1:], "finetuning") if len(args.runs) > 1 else None
    estimate = estimate_from_pilot(pilot, args.sweep, only, fitted=fitted)
    return json.dumps(estimate.to_dict(), indent=2) if args.json else estimate.text()


def _from_runs(args: argparse.Namespace, only: dict[str, list[str]], rates, caught: list) -> str:
    """The cost model fitted on the runs: its cross-validated error, or the sweep's estimate."""
    table = _load(args.runs, args.kind)
    _require_usable(table, args.kind, args.runs, caught)
    return _cross_validate(args, table) if args.cv else _estimate(args, table, only, rates)


def run(args: argparse.Namespace) -> int:
    """Checks, load, fit: warnings collected and printed once each, one line apiece, before
    the result; on a refusal only its one line is printed."""
    if args.k < 2:
        raise CliError(f"--k {args.k}: k-fold cross-validation needs at least 2 folds")
    if args.force and not args.sweep:
        raise CliError("--force gives a sweep's total; use it with --sweep, not --cv")
    rates = _checked_rates(args)
    only = _checked_only(args) if args.sweep else {}
    pilot = _pilot_folder(args.runs) if args.sweep else None
    if pilot is not None:
        _check_pilot_options(args, rates)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = (_pilot_estimate(args, only, pilot) if pilot is not None
                else _from_runs(args, only, rates, caught))
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"warning: {message}", file=sys.stderr)
    print(text)
    return 0
