"""`timing-trainer run SCRIPT [ARGS...]`: time an unmodified training script from the shell.

The script runs in this process as `__main__` (as `python SCRIPT ARGS...` would run it) after
`patch_trainer()`, so every `transformers.Trainer` it builds, and every subclass
(`Seq2SeqTrainer`, TRL's `SFTTrainer`, the script's own), is timed and writes its results file
into its `output_dir`, printing one summary line per `train()` and `evaluate()`. `--tag
KEY=VALUE` (repeatable) puts values such as `task_name` into every result's config. The patch is
undone when the script ends.

When the script ends, its results are closed: `finished` when it returned (or exited with
status 0), `failed` when it raised (kind of the exception) or exited non-zero (`nonzero_exit`).
Ctrl-C and SIGTERM are interrupts: status `failed`, kind `interrupted`, exit 130 or 143.
"""

from __future__ import annotations

import argparse
import sys
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from timing_trainer.errors import CliError
from timing_trainer.options import TimingOptions
from timing_trainer.runtime import exit_codes

PROG = "timing-trainer run"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run an unmodified training script with transformers.Trainer timed",
        description="Run SCRIPT as __main__ with transformers.Trainer replaced by TimingTrainer "
        "(patch_trainer), so its fine-tuning is repeated and timed and timing_results.json lands "
        "in its output_dir. Options before SCRIPT are ours; everything after it is the script's.",
    )
    add_timing_options(parser)
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE",
                        help="a value for the results' config, e.g. task_name=rte (repeatable)")
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="the script's arguments")
    parser.set_defaults(func=run_script)


def add_timing_options(parser: argparse.ArgumentParser) -> None:
    """One flag per `TimingOptions` field, generated, so that a field added, renamed or removed
    there is one here too: `finetuning_iters` -> `--finetuning-iters N`, a boolean ->
    `--flag`/`--no-flag`; the field's default and its `metadata["help"]`."""
    group = parser.add_argument_group("timing options (TimingOptions; patch_trainer's keywords)")
    hints = typing.get_type_hints(TimingOptions)
    for item in fields(TimingOptions):
        flag = "--" + item.name.replace("_", "-")
        default = item.default if item.default is not MISSING else item.default_factory()
        kind = _value_type(hints[item.name])
        text = item.metadata.get("help", "").replace("%", "%%")
        if default is not None and not (kind is bool and sys.version_info < (3, 11)):
            text += " (default: %(default)s)"  # 3.10's BooleanOptionalAction adds it itself
        if kind is bool:
            group.add_argument(flag, dest=item.name, action=argparse.BooleanOptionalAction,
                               default=default, help=text)
        else:
            group.add_argument(flag, dest=item.name, type=kind, default=default, help=text,
                               metavar=kind.__name__.upper())


def _value_type(hint: Any) -> type:
    """The type a flag's value converts to: `int`, `float`, `bool`; `X | None` -> X."""
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    kind = args[0] if args else hint
    if kind not in (int, float, bool, str):
        raise TypeError(f"TimingOptions field of type {hint!r} has no command-line form")
    return kind


def timing_options(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed timing options as patch_trainer's keywords, checked by `TimingOptions` itself
    (CliError: one line, exit 2)."""
    values = {item.name: getattr(args, item.name) for item in fields(TimingOptions)}
    try:
        TimingOptions(**values)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return values


def parse_tags(items: list[str]) -> dict[str, Any]:
    """`["task_name=rte", "max_seq_length=128"]` -> `{"task_name": "rte", "max_seq_length": 128}`
    (integers and decimals become numbers); CliError for anything not KEY=VALUE."""
    tags: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CliError(f"--tag expects KEY=VALUE (e.g. --tag task_name=rte), got {item!r}")
        tags[key.strip()] = _number_or_text(value)
    return tags


def _number_or_text(value: str) -> Any:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def run_script(args: argparse.Namespace) -> int:
    options = timing_options(args)  # bad input: one line, before torch or the script loads
    tags = parse_tags(args.tag)
    script = Path(args.script)
    if not script.is_file():
        raise CliError(f"no such script: {args.script}")

    from timing_trainer.patch import patch_trainer, unpatch_trainer
    from timing_trainer.runtime.signals import sigterm_as_interrupt

    try:
        patch_trainer(tags=tags, **options)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args.script_args]
    sys.path.insert(0, str(script.resolve().parent))  # as `python SCRIPT` would
    try:
        with sigterm_as_interrupt():
            return _run(script)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        unpatch_trainer()


def _run(script: Path) -> int:
    """Run the script and close its results according to how it ended; the exit status."""
    import runpy

    from timing_trainer.errors import WandbNotLoggedInError
    from timing_trainer.runtime import lifecycle
    from timing_trainer.runtime.signals import describe_interrupt, exit_status

    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:  # the script's own exit status
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        lifecycle.close_all("finished" if code == 0 else "failed", None if code == 0 else exc)
        return code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (signals.Terminated)
        lifecycle.close_all("failed", exc)
        print(f"{PROG}: {describe_interrupt(exc)}", file=sys.stderr)
        return exit_status(exc)
    except WandbNotLoggedInError as exc:
        lifecycle.close_all("failed", exc)
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exit_codes.FAILED
    except BaseException as exc:
        lifecycle.close_all("failed", exc)
        raise
    lifecycle.close_all("finished")
    return 0
