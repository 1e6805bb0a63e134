"""`timing-trainer run SCRIPT [ARGS...]`: time an unmodified training script from the shell.

The script runs in this process as `__main__` (as `python SCRIPT ARGS...` would run it) after
`patch_trainer()`, so every `transformers.Trainer` it builds is a `TimingTrainer` and writes
`timing_results.json` into its `output_dir`. The patch is undone when the script ends. A script
that subclasses `Trainer` (or imports it) before running is covered too, since the patch is in
place before the script's first line runs; `Seq2SeqTrainer` and other subclasses defined inside
transformers are not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from timing_trainer.errors import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run an unmodified training script with transformers.Trainer timed",
        description="Run SCRIPT as __main__ with transformers.Trainer replaced by TimingTrainer "
        "(patch_trainer), so its fine-tuning is repeated and timed and timing_results.json lands "
        "in its output_dir. Options before SCRIPT are ours; everything after it is the script's.",
    )
    parser.add_argument("--finetuning-iters", type=int, default=3,
                        help="whole fine-tunings from the same initial state (default 3)")
    parser.add_argument("--inference-warmup-batches", type=int, default=None,
                        help="evaluation batches left out of the latency statistics")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's peak TFLOP/s for MFU (default: datasheet table)")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="the script's arguments")
    parser.set_defaults(func=run_script)


def run_script(args: argparse.Namespace) -> int:
    import runpy

    from timing_trainer.patch import patch_trainer, unpatch_trainer

    script = Path(args.script)
    if not script.is_file():
        raise CliError(f"no such script: {args.script}")
    options = {}
    if args.inference_warmup_batches is not None:
        options["inference_warmup_batches"] = args.inference_warmup_batches
    if args.peak_tflops is not None:
        options["peak_tflops"] = args.peak_tflops
    try:
        patch_trainer(finetuning_iters=args.finetuning_iters, **options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args.script_args]
    sys.path.insert(0, str(script.resolve().parent))  # as `python SCRIPT` would
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:  # the script's own exit status
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        unpatch_trainer()
    return 0
