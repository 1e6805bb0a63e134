"""`timing-trainer pilot SWEEP --out DIR`: short timed slices of a sweep's shapes on this machine,
then the whole sweep's cost predicted from them.

    timing-trainer pilot sweeps/demo.yaml --out demo/pilot [--only NAME=V1,V2 ...] [--count N]
        [--budget-minutes M] [--wandb MODE] [--json]

Bad input (no such sweep file, a file the local agent would refuse, a bad `--only`, `--count`
below 1, a budget that is not a positive number, a data folder the runs would refuse, an `--out`
that cannot be written) is one line and exit status 2 before any slice runs. Exit status 1 when
a slice failed (other than running out of memory), 130 when interrupted. The progress lines go
to stderr, the estimate to stdout (`--json`: its JSON). Light at import: the pilot's modules are
imported when the command runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from timing_trainer.errors import PilotError
from timing_trainer.runtime import exit_codes
from timing_trainer.sweep.agent.plan import WANDB_MODES


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "pilot",
        help="time a short slice of each shape of a sweep, and predict the whole sweep from them",
        description="For each shape of the sweep (model, sequence length, batch sizes, precision, "
        "modes), run a short timed slice of the real program with the real model and data, each "
        "in its own process; then predict every run's time on the clock and wall time from them. "
        "Exit status: 0 done, 1 a slice failed, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("file", metavar="SWEEP", help="sweep YAML, e.g. sweeps/demo.yaml")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the pilot's folder: one run folder per slice and pilot.json")
    parser.add_argument("--only", action="append", metavar="NAME=V1[,V2]",
                        help="pilot only the runs whose parameter NAME has one of these values "
                        "(repeatable; as sweep --only)")
    parser.add_argument("--count", type=int, help="only the sweep's first N runs (after --only)")
    parser.add_argument("--budget-minutes", type=float, metavar="M",
                        help="wall time the slices may take (default: 5%% of the sweep's wall "
                        "time as predicted from the slices so far, and at least one slice per "
                        "model)")
    parser.add_argument("--wandb", choices=WANDB_MODES, default=WANDB_MODES[0],
                        help="W&B mode of the slices, as for sweep (default offline): the same "
                        "as the sweep's, so that its start-up is measured too")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON")
    parser.set_defaults(func=run_pilot)


def _checked_budget(value: float | None) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise PilotError(f"--budget-minutes {value:g}: give a number of minutes above 0")
    return value * 60.0


def _checked_sweep(args: argparse.Namespace):
    """The sweep, expanded and selected."""
    from timing_trainer.pilot.expansion import load_sweep
    from timing_trainer.sweep.config.select import parse_only

    if args.count is not None and args.count < 1:
        raise PilotError("--count must be at least 1")
    only = parse_only(args.only)
    return load_sweep(args.file, only, args.count), only


def _check_program(args: argparse.Namespace, config: dict) -> None:
    """The file as the local agent checks it (the program's arguments: transformers is
    imported, so this goes after the cheaper checks)."""
    from timing_trainer.sweep.config.validate import validate_config

    problems = validate_config(config, args.file, portable=False)
    if problems:
        raise PilotError(f"{args.file}: {problems[0]}"
                         + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))


def _print_estimate(args: argparse.Namespace, only) -> None:
    from timing_trainer.errors import TimingTrainerError
    from timing_trainer.pilot.estimate import estimate_from_pilot

    try:
        estimate = estimate_from_pilot(args.out, args.file, only, count=args.count)
    except TimingTrainerError as exc:
        print(f"estimate: none: {exc}", file=sys.stderr)
        return
    print(json.dumps(estimate.to_dict(), indent=2) if args.json else estimate.text())


def run_pilot(args: argparse.Namespace) -> int:
    from timing_trainer.pilot.budget import Budget
    from timing_trainer.pilot.runner import PilotOptions, PilotRunner

    budget = Budget(_checked_budget(args.budget_minutes))
    sweep, only = _checked_sweep(args)
    options = PilotOptions(out_dir=Path(args.out), budget=budget, wandb_mode=args.wandb,
                           only=only, count=args.count)
    runner = PilotRunner(sweep, options)  # every run's data read: a bad folder refused here
    _check_program(args, sweep.config)
    failed = runner.run()
    _print_estimate(args, only)
    return exit_codes.FAILED if failed else exit_codes.OK
