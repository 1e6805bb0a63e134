"""The GLUE program's arguments: model, data, and `TimingTrainingArguments`, via HfArgumentParser.

`HfArgumentParser` gives the forms a W&B agent uses (`--learning_rate=2.0e-5`, `--fp16=False`)
and the usual ones (`--fp16`, `--no_use_tokenization_cache`), and a single `.json` file argument.
Bad input (unknown option, unknown task, `--max_seq_length 0`, an impossible TrainingArguments
combination) raises `GlueInputError` with one line instead of argparse's usage text, because a
sweep's log should say in one line why a run did not start.

`argument_names()` lists every option the program accepts; the sweep validator checks a sweep's
parameters against it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from timing_trainer.errors import GlueInputError, UnknownTaskError, one_line
from timing_trainer.glue.modes import ATTN_IMPLEMENTATIONS, check_compile_warm_up
from timing_trainer.tasks import TASK_NAMES, canonical_task_name

if TYPE_CHECKING:  # pragma: no cover
    from timing_trainer.arguments import TimingTrainingArguments

RUN_DIR_ENV = "TIMING_TRAINER_RUN_DIR"


@dataclass
class ModelArguments:
    """Which model, config and tokenizer to fine-tune, and where to cache downloads."""

    model_name_or_path: str = field(
        metadata={"help": "Hub model id (google-bert/bert-base-cased) or a local folder with a "
                          "config, weights and tokenizer."},
    )
    config_name: str | None = field(
        default=None, metadata={"help": "Config name or path, if not the model's own."},
    )
    tokenizer_name: str | None = field(
        default=None, metadata={"help": "Tokenizer name or path, if not the model's own."},
    )
    cache_dir: str | None = field(
        default=None,
        metadata={"help": "Where models and Hub datasets downloaded from huggingface.co are kept."},
    )
    model_revision: str = field(
        default="main", metadata={"help": "Model version on the Hub: branch, tag or commit."},
    )
    use_fast_tokenizer: bool = field(
        default=True, metadata={"help": "Use a fast (Rust) tokenizer where one exists."},
    )
    ignore_mismatched_sizes: bool = field(
        default=False,
        metadata={"help": "Load a checkpoint whose classifier head has another number of labels "
                          "(the head is then initialised anew)."},
    )

    attn_implementation: str | None = field(
        default=None,
        metadata={"help": "Attention kernel: eager, sdpa or flash_attention_2 (CUDA and the "
                          "flash_attn package); default: the model's own choice. The one used is "
                          "recorded as config.attn_implementation.",
                  "choices": list(ATTN_IMPLEMENTATIONS)},
    )
    lora_r: int = field(
        default=0,
        metadata={"help": "LoRA rank (peft); 0 fine-tunes every weight. The classifier head "
                          "stays fully trainable."},
    )
    lora_alpha: float | None = field(
        default=None, metadata={"help": "LoRA scaling alpha (default: 2 * lora_r)."},
    )
    lora_target_modules: str | None = field(
        default=None,
        metadata={"help": "Comma list of module names LoRA adapts (default: the attention's "
                          "query, key and value projections, found by the model's module names)."},
    )

    def __post_init__(self) -> None:
        if not str(self.model_name_or_path).strip():
            raise ValueError("model_name_or_path must not be empty")
        from timing_trainer.glue.modes import check_mode_arguments

        check_mode_arguments(self)


@dataclass
class DataArguments:
    """Which GLUE task, where its data comes from, and how it is tokenized."""

    task_name: str = field(
        metadata={"help": f"GLUE task, any spelling ({', '.join(TASK_NAMES)}; SST-2, STS-B, "
                          "CoLA, ...). Stored in canonical form."},
    )
    data_dir: str | None = field(
        default=None,
        metadata={"help": "GLUE-baselines TSV data: the task's folder (train.tsv, dev.tsv) or a "
                          "GLUE root folder holding one folder per task. Without it, the Hub "
                          "dataset is used."},
    )
    dataset_name: str = field(
        default="nyu-mll/glue",
        metadata={"help": "Hub dataset to load when --data_dir is not given."},
    )
    max_seq_length: int = field(
        default=128,
        metadata={"help": "Maximum tokens per example after tokenization; longer inputs are "
                          "truncated, shorter ones padded (see --pad_to_max_length)."},
    )
    pad_to_max_length: bool = field(
        default=True,
        metadata={"help": "Pad every example to max_seq_length (as the thesis did, so the time "
                          "depends on max_seq_length); False pads each batch to its longest."},
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Use only the first N training examples."},
    )
    max_eval_samples: int | None = field(
        default=None,
        metadata={"help": "Use only the first N examples of each evaluation set."},
    )
    tokenization_cache_dir: str | None = field(
        default=None,
        metadata={"help": "Folder of the tokenized-data cache (default: $TIMING_TRAINER_CACHE, "
                          "else ~/.cache/timing-trainer/tokenized)."},
    )
    padding_free: bool = field(
        default=False,
        metadata={"help": "Padding-free batches (transformers' DataCollatorWithFlattening: each "
                          "batch one row, no pad tokens); implies --pad_to_max_length False. "
                          "Refused where the model cannot classify a flattened batch."},
    )
    use_tokenization_cache: bool = field(
        default=True,
        metadata={"help": "Reuse tokenized data across runs with the same tokenizer, task, length, "
                          "sample limits and data files."},
    )

    def __post_init__(self) -> None:
        self.task_name = canonical_task_name(self.task_name)  # UnknownTaskError lists the tasks
        if self.max_seq_length is None or self.max_seq_length < 1:
            raise ValueError(f"max_seq_length must be at least 1, got {self.max_seq_length}")
        for name in ("max_train_samples", "max_eval_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 when given, got {value}")
        if self.padding_free:
            self.pad_to_max_length = False  # a flattened batch has no padding to add
        if not self.tokenization_cache_dir:
            from timing_trainer.glue.tokenization import default_cache_dir

            self.tokenization_cache_dir = default_cache_dir()


def build_parser():
    """The program's parser: an HfArgumentParser over the three dataclasses whose errors raise
    GlueInputError (one line) instead of printing usage and exiting."""
    from transformers import HfArgumentParser

    from timing_trainer.arguments import TimingTrainingArguments

    class OneLineParser(HfArgumentParser):
        def error(self, message: str):  # argparse calls this for any bad option
            raise GlueInputError(message)

    parser = OneLineParser(
        (ModelArguments, DataArguments, TimingTrainingArguments),
        prog="python -m timing_trainer.glue",
        description="Fine-tune and evaluate a model on one GLUE task, timing both "
                    "(see timing_trainer.glue.run for the exit codes).",
    )
    _output_dir_optional(parser)
    # The program measures; it keeps no model unless asked (`--save_strategy steps`): a
    # checkpoint per run of a sweep would fill a disk (and pickles the arguments, tokens too).
    parser.set_defaults(save_strategy="no")
    return parser


def _output_dir_optional(parser) -> None:
    """transformers 4.x declares `TrainingArguments.output_dir` without a default, so its parser
    marks `--output_dir` required before the program's own default (`default_output_dir`) can
    apply; 5.x gives it a default. Here it is optional on both."""
    for action in parser._actions:
        if action.dest == "output_dir":
            action.required = False
            action.default = None


def argument_names() -> set[str]:
    """Every option the program accepts, by its field name (`learning_rate`, `task_name`, ...).

    W&B sweep parameters are passed as `--NAME=value`, so a sweep parameter is valid exactly when
    its name is in this set.
    """
    from timing_trainer.arguments import TimingTrainingArguments

    names: set[str] = set()
    for cls in (ModelArguments, DataArguments, TimingTrainingArguments):
        names.update(f.name for f in fields(cls) if f.init)
    return names


def _safe(text: str) -> str:
    """One path component from an id: no separators, and never `.` or `..` (an id such as
    `WANDB_RUN_ID=..` must not lead out of `runs/`)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-") or "run"


def default_output_dir(task_name: str | None, model_name_or_path: str | None) -> str:
    """Where a run writes when `--output_dir` is not given.

    `$TIMING_TRAINER_RUN_DIR` (the local sweep agent sets one per run), else
    `runs/<WANDB_SWEEP_ID or glue>/<WANDB_RUN_ID or time-task-model-pid>`: the W&B agent sets
    both ids, so several runs of one agent on a machine never write into the same folder.
    (transformers 5 would otherwise fall back to one shared `trainer_output` folder.)
    """
    run_dir = os.environ.get(RUN_DIR_ENV)
    if run_dir:
        return run_dir
    sweep = os.environ.get("WANDB_SWEEP_ID") or "glue"
    run = os.environ.get("WANDB_RUN_ID")
    if not run:
        from timing_trainer.models import short_model_name

        task = task_name or "task"
        try:
            task = canonical_task_name(task)
        except UnknownTaskError:
            pass
        model = short_model_name(model_name_or_path) if model_name_or_path else "model"
        run = f"{time.strftime('%Y%m%d-%H%M%S')}-{task}-{model}-{os.getpid()}"
    return str(Path("runs") / _safe(sweep) / _safe(run))


def _parse(parser, argv: list[str]):
    if len(argv) == 1 and argv[0].endswith(".json"):
        path = Path(argv[0]).expanduser()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GlueInputError(f"cannot read arguments file {str(path)!r}: {one_line(exc)}") from None
        if not isinstance(data, dict):
            raise GlueInputError(f"arguments file {str(path)!r} must hold a JSON object")
        if isinstance(data.get("output_dir"), str) and not data["output_dir"].strip():
            raise GlueInputError(f"arguments file {str(path)!r}: output_dir is empty")
        if not data.get("output_dir"):
            data["output_dir"] = default_output_dir(data.get("task_name"),
                                                    data.get("model_name_or_path"))
        check_compile_warm_up(data)
        return parser.parse_dict(data)
    namespace, _ = parser.parse_known_args(argv)
    check_compile_warm_up(vars(namespace))
    if getattr(namespace, "output_dir", None) is not None and not namespace.output_dir.strip():
        raise GlueInputError("--output_dir is empty; give a folder, or leave it out for the "
                             "default runs/... folder")
    if getattr(namespace, "output_dir", None) is None:
        argv = [*argv, "--output_dir",
                default_output_dir(namespace.task_name, namespace.model_name_or_path)]
    return parser.parse_args_into_dataclasses(argv, look_for_args_file=False)


def parse_args(
    argv: list[str] | None = None,
) -> tuple[ModelArguments, DataArguments, TimingTrainingArguments]:
    """Parse the command line (or one `.json` file) into the three argument objects.

    Returns `(ModelArguments, DataArguments, TimingTrainingArguments)`; raises GlueInputError
    (one line) for anything the program cannot run with.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        model_args, data_args, training_args = _parse(parser, argv)
    except GlueInputError:
        raise
    except (ValueError, TypeError) as exc:  # dataclass checks, TrainingArguments' own checks
        raise GlueInputError(one_line(exc)) from None
    return model_args, data_args, training_args
