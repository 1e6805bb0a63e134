"""How much work a sweep run does: optimizer steps and samples per fine-tuning iteration, the
iterations, and the examples it evaluates; read from the sweep's data size, never assumed.

Steps per iteration are transformers' count: `ceil(n_train / batch)` batches an epoch,
`ceil(batches / gradient_accumulation_steps)` optimizer steps an epoch, times the epochs (a
fraction of an epoch rounds up), or the run's `max_steps` where it sets one (> 0). The samples an
iteration trains on are `n_train x epochs` (or `max_steps x batch x accumulation`): on a CPU a
step's time follows its samples (a last, short batch costs less), on a GPU its count (a short
batch costs a whole kernel launch), so both are kept (timing_trainer.pilot.clock picks).

The data size comes from timing_trainer.costmodel.data_size (rows of `data_dir`'s TSV files,
`max_train_samples`/`max_eval_samples`, else the task table's Hub sizes); a task with several
evaluation sets (MNLI) evaluates them all, so the others are added at the task table's ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.costmodel.data_size import DataSizes
from timing_trainer.errors import CostModelError, PilotError, UnknownTaskError
from timing_trainer.pilot.grouping import DEFAULTS
from timing_trainer.tasks import get_task

EPOCHS_DEFAULT = 3.0  # TrainingArguments' num_train_epochs
ITERS_DEFAULT = 3  # TimingOptions' finetuning_iters


@dataclass(frozen=True)
class RunWork:
    """One run's work: per iteration `steps` and `samples`; `iters` iterations; `n_eval`
    examples evaluated (every evaluation set); where the training size was read."""

    n_train: float
    n_eval: float
    n_train_source: str
    steps: float
    samples: float
    iters: int


def _number(params: dict[str, Any], name: str, default: float) -> float:
    value = params.get(name)
    try:
        return default if value is None else float(value)
    except (TypeError, ValueError):
        return default


def _all_eval_splits(task_name: Any, n_eval: float) -> float:
    """The examples of every evaluation set, from the primary one's count."""
    try:
        task = get_task(str(task_name))
    except UnknownTaskError:
        return n_eval
    primary = task.eval_splits[0].size
    return n_eval * sum(split.size for split in task.eval_splits) / primary


def steps_and_samples(n_train: float, params: dict[str, Any]) -> tuple[float, float]:
    """(optimizer steps, samples) of one fine-tuning iteration (see the module docstring)."""
    batch = _number(params, "per_device_train_batch_size", DEFAULTS["per_device_train_batch_size"])
    accumulation = max(1.0, _number(params, "gradient_accumulation_steps", 1.0))
    max_steps = _number(params, "max_steps", -1.0)
    if max_steps > 0:
        return max_steps, max_steps * batch * accumulation
    epochs = _number(params, "num_train_epochs", EPOCHS_DEFAULT)
    per_epoch = math.ceil(math.ceil(n_train / batch) / accumulation)
    return float(math.ceil(per_epoch * epochs)), n_train * epochs


class WorkReader:
    """The work of a sweep's runs; each data folder is counted once (`DataSizes`)."""

    def __init__(self, sweep_file: str | Path | None, cwd: Path):
        self.cwd = Path(cwd)
        self.sizes = DataSizes(sweep_file, cwd)

    def check_data_dir(self, params: dict[str, Any]) -> None:
        """`PilotError` unless the run's `data_dir` (if any) is a folder seen from `cwd`, where
        its program starts."""
        data_dir = params.get("data_dir")
        if data_dir is None or not str(data_dir).strip():
            return
        folder = Path(str(data_dir)).expanduser()
        if not (folder if folder.is_absolute() else self.cwd / folder).is_dir():
            raise PilotError(f"data_dir {str(data_dir)!r}: no such folder (seen from {self.cwd}, "
                             "where the runs start)")

    def of(self, params: dict[str, Any]) -> RunWork:
        """`PilotError` where the run's data cannot be read (the run would not run either)."""
        try:
            size = self.sizes.of(params)
        except CostModelError as exc:
            raise PilotError(str(exc)) from None
        steps, samples = steps_and_samples(size.n_train, params)
        iters = int(_number(params, "finetuning_iters", ITERS_DEFAULT))
        return RunWork(size.n_train, _all_eval_splits(params.get("task_name"), size.n_eval),
                       size.train_source, steps, samples, max(1, iters))
