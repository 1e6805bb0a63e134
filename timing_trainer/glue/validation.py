"""The GLUE program's arguments checked before any model or data is loaded.

`TrainingArguments` accepts a batch size of 0, a learning rate of `nan` or `inf`, `--report_to
bogus` and `--fp16` on a CPU. Such a run either crashed after the model had loaded and the data
had been tokenized (exit 1, "exception"), or, worse, trained to a null loss and said `finished`
with chance accuracy. Here each is one line naming the argument, exit status 2, before anything
slow happens; `check_max_seq_length` is the one check that needs the tokenizer (and the model's
config), and runs right after they load, before the model's weights do.

Precision: `--fp16` on a CPU is refused (CPU autocast has no fp16 path that the Trainer uses, so
the run would compute in fp32 and be recorded as fp16); `--bf16` on a CPU runs (CPU autocast in
bf16) and is recorded as such; `--bf16` on a GPU without bf16 is refused.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from timing_trainer.errors import GlueInputError
from timing_trainer.tasks import GlueTask

POSITIVE_INTEGERS = (
    "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
)
OPTIONAL_POSITIVE_INTEGERS = ("eval_accumulation_steps",)
NON_NEGATIVE_INTEGERS = ("dataloader_num_workers",)
NON_NEGATIVE_FINITE = ("learning_rate", "weight_decay", "adam_epsilon")
FINITE = ("max_grad_norm",)
UNIT_INTERVAL = ("adam_beta1", "adam_beta2")  # 0 <= beta < 1
SEEDS = ("seed", "data_seed")  # numpy takes 0 .. 2**32 - 1
ALWAYS_VALID_REPORTS = ("all", "none")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _refuse(name: str, value: Any, expected: str) -> GlueInputError:
    shown = f"{value!r} (text)" if isinstance(value, str) else value  # from a .json file
    return GlueInputError(f"--{name} {shown}: {expected}")


# (names, the value when the arguments lack the field, what an integer must satisfy, the message);
# a rule whose names may be None (not given) has None as its default.
_INTEGER_RULES = (
    (POSITIVE_INTEGERS, 1, lambda value: value >= 1, "must be an integer >= 1"),
    (OPTIONAL_POSITIVE_INTEGERS, None, lambda value: value >= 1,
     "must be an integer >= 1 when given"),
    (NON_NEGATIVE_INTEGERS, 0, lambda value: value >= 0, "must be an integer >= 0"),
    (SEEDS, None, lambda value: 0 <= value < 2**32, "must be an integer from 0 to 4294967295"),
)


def _check_integers(args: Any) -> None:
    for names, default, accepted, message in _INTEGER_RULES:
        for name in names:
            value = getattr(args, name, default)
            if value is None and default is None:
                continue  # optional, and not given
            if not isinstance(value, int) or not accepted(value):
                raise _refuse(name, value, message)


def _check_floats(args: Any) -> None:
    for name in NON_NEGATIVE_FINITE:
        value = getattr(args, name, 0.0)
        if not _is_number(value) or not math.isfinite(value) or value < 0:
            raise _refuse(name, value, "must be a finite number >= 0")
    for name in FINITE:
        value = getattr(args, name, 0.0)
        if value is not None and (not _is_number(value) or math.isnan(value)):
            raise _refuse(name, value, "must be a number")
    for name in UNIT_INTERVAL:
        value = getattr(args, name, 0.9)
        if not _is_number(value) or not 0 <= value < 1:
            raise _refuse(name, value, "must be a number from 0 up to (not including) 1")


def _check_length_of_training(args: Any) -> None:
    """Epochs must be finite and positive unless `--max_steps` (> 0) sets the length."""
    max_steps = getattr(args, "max_steps", -1)
    if not isinstance(max_steps, int):
        raise _refuse("max_steps", max_steps, "must be an integer")
    epochs = getattr(args, "num_train_epochs", 1.0)
    if not _is_number(epochs) or not math.isfinite(epochs) or epochs < 0:
        raise _refuse("num_train_epochs", epochs, "must be a finite number > 0")
    if epochs == 0 and max_steps <= 0 and steps_requested(args)[0]:
        raise _refuse("num_train_epochs", epochs,
                      "nothing to train; give a number > 0, or --max_steps N")


def steps_requested(args: Any) -> tuple[bool, bool]:
    """(train, evaluate): both unless the command names exactly one with --do_train/--do_eval."""
    if args.do_train or args.do_eval:
        return bool(args.do_train), bool(args.do_eval)
    return True, True


def known_reports() -> set[str]:
    """The `--report_to` names this transformers knows (its integrations, `all`, `none`)."""
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    return set(INTEGRATION_TO_CALLBACK) | set(ALWAYS_VALID_REPORTS)


def _check_report_to(args: Any) -> None:
    wanted = getattr(args, "report_to", None) or []
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    known = known_reports()
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise GlueInputError(
            f"--report_to {','.join(unknown)}: unknown; use one of {', '.join(sorted(known))}"
        )


def _check_precision(args: Any) -> None:
    if not (getattr(args, "fp16", False) or getattr(args, "bf16", False)):
        return
    device = args.device  # what the Trainer will run on (--use_cpu, CUDA_VISIBLE_DEVICES)
    if args.fp16 and device.type == "cpu":
        raise GlueInputError(
            "--fp16: this run is on the CPU, where the Trainer does not run fp16 (it would "
            "compute in fp32 and be recorded as fp16); drop --fp16, or use --bf16"
        )
    if args.bf16 and device.type == "cuda":
        import torch

        if not torch.cuda.is_bf16_supported():
            name = torch.cuda.get_device_name(device)
            raise GlueInputError(f"--bf16: {name} cannot compute in bf16; use --fp16 or neither")


def check_output_dir(output_dir: str) -> None:
    """The output folder must be a folder, or creatable in a writable one (before: two lines
    and exit 1 after the model had loaded)."""
    path = Path(output_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise GlueInputError(f"--output_dir {output_dir!r} is a file, not a folder")
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise GlueInputError(f"--output_dir {output_dir!r} cannot be made: {str(existing)!r} "
                             "is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise GlueInputError(f"--output_dir {output_dir!r} cannot be written: "
                             f"{str(existing)!r} is read-only")


def validate_arguments(training_args: Any) -> None:
    """Raise `GlueInputError` (one line naming the argument) for anything the run cannot use.

    The model and data arguments are checked by their dataclasses and by `model_files`; this
    covers the training arguments, which `TrainingArguments` itself lets through.
    """
    _check_integers(training_args)
    _check_floats(training_args)
    _check_length_of_training(training_args)
    _check_report_to(training_args)
    _check_precision(training_args)
    check_output_dir(training_args.output_dir)


def max_supported_length(tokenizer: Any, config: Any) -> int | None:
    """The longest input the model takes: the tokenizer's limit, else the position table's
    (`config`: the model's, as loaded before its weights)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 100_000:
        return limit
    positions = getattr(config, "max_position_embeddings", None)
    return positions if isinstance(positions, int) and positions > 0 else None


def check_max_seq_length(tokenizer: Any, config: Any, task: GlueTask, max_seq_length: int,
                         model_name: str) -> None:
    """`--max_seq_length` must fit the model, and leave room for at least one token of text
    after the tokenizer's special tokens (`num_special_tokens_to_add` for the task's pair or
    single layout); shorter, a run either crashed in collation ("expected sequence of length 21
    at dim 1 (got 25)") or trained on special tokens alone. It needs the tokenizer and the
    config only, so it runs before the model's weights load (no load report, no wait)."""
    limit = max_supported_length(tokenizer, config)
    if limit is not None and max_seq_length > limit:
        raise GlueInputError(
            f"max_seq_length {max_seq_length} exceeds what {model_name!r} takes ({limit})"
        )
    try:
        special = int(tokenizer.num_special_tokens_to_add(pair=task.is_pair))
    except Exception:  # noqa: BLE001 - a tokenizer without the method: nothing to check
        return
    needed = special + 1
    if max_seq_length < needed:
        what = "sentence pair" if task.is_pair else "sentence"
        raise GlueInputError(
            f"--max_seq_length {max_seq_length} is too small: the tokenizer adds {special} "
            f"special tokens to each {what} of {task.display_name}; use at least {needed}"
        )
