"""The `timing-trainer` command line: one entry point, one subcommand per job.

Each subcommand lives in its own module, which exposes `register(subparsers)`: it adds its parser
and sets `func` (a callable taking the parsed namespace and returning an exit code). Modules are
imported only to build the parser, so their top level must stay light (no torch import there).
A module that is missing or broken does not take the other subcommands down with it.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from timing_trainer import __version__
from timing_trainer.errors import CliError

# Order here is the order in `--help`.
SUBCOMMAND_MODULES = (
    "timing_trainer.demo",  # demo
    "timing_trainer.glue.demo_assets",  # demo-assets
    "timing_trainer.sweep.cli",  # sweep, sweeps
    "timing_trainer.analysis.cli",  # analyze
    "timing_trainer.analysis.thesis_data",  # thesis-data
    "timing_trainer.costmodel.cli",  # predict
    "timing_trainer.script_runner",  # run
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timing-trainer",
        description="Time fine-tuning and inference of pre-trained language models, run sweeps, "
        "and analyse and predict their cost.",
    )
    parser.add_argument("--version", action="version", version=f"timing-trainer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"timing-trainer {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("timing-trainer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
