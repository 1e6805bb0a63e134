"""`timing-trainer sweep FILE.yaml` (the local agent) and `timing-trainer sweeps generate|validate`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing_trainer.errors import CliError
from timing_trainer.runtime import exit_codes
from timing_trainer.sweep.agent.plan import DEFAULT_FAIL_FAST, WANDB_MODES


def register(subparsers) -> None:
    agent = subparsers.add_parser(
        "sweep",
        help="run a W&B sweep file locally, without a W&B server (resumable)",
        description="Run every run of a sweep YAML as a subprocess, in W&B's order, with W&B's "
        "command macros. A second call skips finished runs and retries the rest. Exit status: "
        "0 when every run finished or ran out of memory, 1 when another run failed, 2 for bad "
        "input (sweep file, options, runs folder, a runs folder holding runs of another version "
        "of the sweep, a write the file system refused, a --pilot it cannot read), 130 on Ctrl-C "
        "or SIGTERM. After each run: the predicted remaining wall time, refitted as runs finish.",
    )
    agent.add_argument("file", help="sweep YAML, e.g. sweeps/sweep_rte_cased.yaml")
    agent.add_argument("--runs-dir", help="where run folders go (default runs/<sweep name>)")
    agent.add_argument("--count", type=int, help="run at most N runs in this call (the summary "
                       "lists the runs this call ran, then one line over the whole sweep)")
    agent.add_argument("--only", action="append", metavar="NAME=V1[,V2]",
                       help="run only the runs whose parameter NAME has one of these values "
                       "(repeatable, all must hold), e.g. --only bf16=false; as predict --only")
    agent.add_argument("--gpus", help="comma-separated GPU ids, one worker each (CUDA_VISIBLE_DEVICES); "
                       "default one run at a time")
    agent.add_argument("--wandb", choices=WANDB_MODES, default=WANDB_MODES[0],
                       help="W&B mode of the runs (default offline; disabled also turns "
                       "--report_to=wandb into none)")
    agent.add_argument("--seed", type=int, help="seed of a random sweep's draws (kept in the state file)")
    agent.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    agent.add_argument("--force", action="store_true",
                       help="run a changed sweep in a runs folder that holds runs of an earlier "
                       "version (they are kept; analyze reads the current version)")
    agent.add_argument("--fail-fast", type=int, default=DEFAULT_FAIL_FAST, metavar="N",
                       help="stop after N runs in a row fail the same way before they start "
                       f"(default {DEFAULT_FAIL_FAST}; 0: never)")
    agent.add_argument("--no-progress", action="store_true", help="no progress bar")
    agent.add_argument("--pilot", metavar="DIR",
                       help="a pilot's folder (timing-trainer pilot): each run's predicted wall "
                       "time for the live estimate (without it: fitted on the finished runs)")
    agent.set_defaults(func=run_agent_command)

    tools = subparsers.add_parser("sweeps", help="generate or validate the sweep YAMLs")
    sub = tools.add_subparsers(dest="sweeps_command", metavar="ACTION", required=True)
    gen = sub.add_parser("generate", help="write sweeps/*.yaml from the spec")
    gen.add_argument("--check", action="store_true",
                     help="write nothing; exit 1 naming each file that differs from the spec")
    gen.add_argument("--dir", help="sweeps folder (default: the checkout's sweeps/, and the "
                     "package's copy of demo.yaml; with --dir, that folder only)")
    gen.set_defaults(func=generate_command)
    val = sub.add_parser("validate", help="check sweep files against W&B's schema and the program")
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(func=validate_command)


def _parse_gpus(text: str | None) -> list[str] | None:
    if text is None:
        return None
    gpus = [g.strip() for g in text.split(",") if g.strip()]
    if not gpus:
        raise CliError("--gpus needs at least one GPU id, e.g. --gpus 0,1")
    return gpus


def run_agent_command(args: argparse.Namespace) -> int:
    from timing_trainer.sweep.agent.local import LocalAgent, default_runs_dir
    from timing_trainer.sweep.agent.plan import AgentOptions
    from timing_trainer.sweep.config.runs import load_sweep_file
    from timing_trainer.sweep.config.select import parse_only
    from timing_trainer.sweep.config.validate import validate_config

    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1")
    if args.fail_fast < 0:
        raise CliError("--fail-fast must be 0 (never stop) or more")
    only = parse_only(args.only)
    config = load_sweep_file(args.file)
    problems = validate_config(config, args.file, portable=False)
    if problems:
        raise CliError(f"{args.file}: {problems[0]}"
                       + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    options = AgentOptions(
        runs_dir=Path(args.runs_dir) if args.runs_dir else default_runs_dir(config, args.file),
        count=args.count, gpus=_parse_gpus(args.gpus), wandb_mode=args.wandb,
        dry_run=args.dry_run, seed=args.seed, progress=not args.no_progress, only=only,
        force=args.force, fail_fast=args.fail_fast,
    )
    agent = LocalAgent(config, options, sweep_file=args.file)
    if args.pilot or not args.dry_run:  # the live estimate's inputs: pilot, runs' work
        from timing_trainer.commands.eta import eta_source

        agent.eta_source = eta_source(config, args.file, args.pilot, agent.cwd)
    return agent.run().exit_code


def generate_command(args: argparse.Namespace) -> int:
    from timing_trainer.sweep.config.generate import check_all, default_sweeps_dir, write_all

    sweeps_dir = Path(args.dir) if args.dir else default_sweeps_dir()
    package_copy = not args.dir  # the package's demo.yaml belongs with the checkout's sweeps/
    if args.check:
        problems = check_all(sweeps_dir, package_copy)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print(f"{len(problems)} sweep file(s) differ from the spec; run "
                  "`timing-trainer sweeps generate`", file=sys.stderr)
            return exit_codes.FAILED
        print(f"sweep files in {sweeps_dir} match the spec")
        return 0
    changed = write_all(sweeps_dir, package_copy)
    print(f"{len(changed)} file(s) written in {sweeps_dir}" + (":" if changed else ""))
    for path in changed:
        print(f"  {path}")
    return 0


def validate_command(args: argparse.Namespace) -> int:
    from timing_trainer.sweep.config.validate import validate_file

    bad = 0
    for path in args.files:
        problems = validate_file(path)
        if problems:
            bad += 1
            for line in problems:
                print(line, file=sys.stderr)
        else:
            print(f"{path}: ok")
    return exit_codes.BAD_INPUT if bad else exit_codes.OK
