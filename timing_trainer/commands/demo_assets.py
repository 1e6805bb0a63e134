"""`timing-trainer demo-assets DIR [--tasks rte sst2] [--train-size N] [--dev-size N]`: the
offline GLUE-format data and tiny models (`timing_trainer.glue.demo_assets`) on disk."""

from __future__ import annotations

import argparse

from timing_trainer.errors import CliError, UnknownTaskError
from timing_trainer.glue.demo_assets import (
    DEFAULT_DEV_SIZE,
    DEFAULT_TRAIN_SIZE,
    MODEL_NAMES,
    write_demo_assets,
)
from timing_trainer.tasks import TASK_NAMES, get_task


def _run(args: argparse.Namespace) -> int:
    if args.train_size < 1 or args.dev_size < 1:
        raise CliError("--train-size and --dev-size must be at least 1")
    try:
        tasks = [get_task(t).name for t in args.tasks] if args.tasks else None
    except UnknownTaskError as exc:
        raise CliError(str(exc)) from None
    out = write_demo_assets(args.dir, tasks, args.train_size, args.dev_size, args.seed)
    names = [get_task(t).display_name for t in (tasks or TASK_NAMES)]
    print(f"wrote {', '.join(names)} TSV folders and models/{{{','.join(MODEL_NAMES)}}} to {out}")
    return 0


def register(subparsers) -> None:
    """Add `demo-assets DIR [--tasks ...] [--train-size N] [--dev-size N] [--seed S]`."""
    parser = subparsers.add_parser(
        "demo-assets",
        help="write offline GLUE-format TSV data and two tiny local models",
        description="Write GLUE-format TSV folders (GLUE-baselines layout, a learnable "
        "pattern) and two tiny local BERT models with their tokenizers (models/tiny-cased, "
        "models/tiny-uncased) into DIR. Nothing is downloaded; the same seed writes the same "
        "files.",
    )
    parser.add_argument("dir", help="folder to write into (created if missing)")
    parser.add_argument(
        "--tasks", nargs="+", metavar="TASK",
        help=f"tasks to write, any spelling (default: all nine: {', '.join(TASK_NAMES)})",
    )
    parser.add_argument("--train-size", type=int, default=DEFAULT_TRAIN_SIZE,
                        help=f"training examples per task (default {DEFAULT_TRAIN_SIZE})")
    parser.add_argument("--dev-size", type=int, default=DEFAULT_DEV_SIZE,
                        help=f"examples per dev file (default {DEFAULT_DEV_SIZE})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.set_defaults(func=_run)
