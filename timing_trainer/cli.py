"""The `timing-trainer` command line: one entry point, one subcommand per job.

Each subcommand lives in its own module, which exposes `register(subparsers)`: it adds its parser
and sets `func` (a callable taking the parsed namespace and returning an exit code). Modules are
imported only to build the parser, so their top level must stay light (no torch import there).

Bad input is one line on stderr and exit status 2, no traceback. The libraries raise their own
errors (`ValueError`s for their callers, no command line's); `main` is the one place that maps
them, with the subcommands' own `CliError`, to that line (`BAD_INPUT`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from timing_trainer.analysis.errors import NoEnergyError, RunsLoadError
from timing_trainer.costmodel.errors import CostModelError
from timing_trainer.errors import CliError
from timing_trainer.version import __version__

# Order here is the order in `--help`.
SUBCOMMAND_MODULES = (
    "timing_trainer.demo",  # demo
    "timing_trainer.glue.demo_assets",  # demo-assets
    "timing_trainer.sweep.cli",  # sweep, sweeps
    "timing_trainer.report",  # analyze (the analysis's report with the cost model's section)
    "timing_trainer.analysis.thesis_data",  # thesis-data
    "timing_trainer.costmodel.cli",  # predict
    "timing_trainer.script_runner",  # run
)

# Errors that mean bad input, whichever layer raised them: one line, exit status 2.
BAD_INPUT = (CliError, RunsLoadError, NoEnergyError, CostModelError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timing-trainer",
        description="Time fine-tuning and inference of pre-trained language models, run sweeps, "
        "and analyse and predict their cost.",
    )
    parser.add_argument("--version", action="version", version=f"timing-trainer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, so that a reader that has gone (`| head`) is caught below
        return code
    except BrokenPipeError:
        # The reader has what it wanted: no traceback, and no second error at exit (Python's
        # recipe, "Note on SIGPIPE"); 141 is what a process killed by SIGPIPE reports to a shell.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except BAD_INPUT as exc:
        print(f"timing-trainer {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("timing-trainer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
