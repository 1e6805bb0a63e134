"""The `timing-trainer` command line: one entry point, one subcommand per job.

Each subcommand lives in its own module of this package, which exposes `register(subparsers)`:
it adds its parser and sets `func` (a callable taking the parsed namespace and returning an exit
status). They are imported by name, so the import rules and static tools see them; their top
level stays light (no torch import there), since building the parser imports them all.

Bad input is one line on stderr and exit status 2, no traceback: every layer raises its own
`TimingTrainerError` (`timing_trainer.errors`), and `main` is the one place that maps it. So is
a write the file system refuses (a full disk, a read-only folder, a name too long: a
`FileSystemError` from timing_trainer.runtime.atomic, or a library's own `OSError` naming its
file): one line naming the path and the errno's name, exit status 2.

A reader that goes away (`timing-trainer ... | head -1`) changes nothing: inside
`guarded_output` what cannot be printed is dropped, the work goes on to its end, and the exit
status is the command's own (timing_trainer.runtime.pipe_guard).
"""

from __future__ import annotations

import argparse
import os
import sys

from timing_trainer.commands import (
    analyze,
    demo,
    demo_assets,
    eta,
    glue_stats,
    pilot,
    predict,
    run,
    sweep,
    thesis_data,
)
from timing_trainer.errors import TimingTrainerError
from timing_trainer.runtime import exit_codes
from timing_trainer.runtime.atomic import file_system_error
from timing_trainer.runtime.pipe_guard import guarded_output
from timing_trainer.version import __version__

# Order here is the order in `--help`; `sweep` registers `sweep` and `sweeps`.
SUBCOMMANDS = (demo, demo_assets, sweep, analyze, thesis_data, predict, run, glue_stats, eta, pilot)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="timing-trainer",
        description="Time fine-tuning and inference of pre-trained language models, run sweeps, "
        "and analyse and predict their cost.",
    )
    parser.add_argument("--version", action="version", version=f"timing-trainer {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    with guarded_output():  # a reader that goes away (`| head -1`) changes no outcome
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return exit_codes.OK
        return _run_command(args)


def _run_command(args: argparse.Namespace) -> int:
    """The subcommand's status; its bad input, a write the file system refused, or Ctrl-C as
    one line on stderr with its status."""
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # A write around the guard (to the raw descriptor) met a reader that has gone: no
        # traceback, and no second error at exit (Python's recipe, "Note on SIGPIPE"); the
        # status is what a process killed by SIGPIPE reports.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exit_codes.SIGPIPE
    except TimingTrainerError as exc:  # FileSystemError among them
        print(f"timing-trainer {args.command}: error: {exc}", file=sys.stderr)
        return exit_codes.BAD_INPUT
    except OSError as exc:
        refused = file_system_error(exc)
        if refused is None:
            raise
        print(f"timing-trainer {args.command}: error: {refused}", file=sys.stderr)
        return exit_codes.BAD_INPUT
    except KeyboardInterrupt:
        print("timing-trainer: interrupted", file=sys.stderr)
        return exit_codes.SIGINT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
