"""How many training and evaluation examples a sweep's run will read, and where that was read.

A fine-tuning run's optimizer steps scale with its training set, and an inference run's batches
with its evaluation set. Two sweeps that differ only in their data must get predictions in
proportion. Per run, in order:

1. `data_dir`: the rows of the GLUE TSV files the GLUE program would read. These are the task's
   `train.tsv` and its primary evaluation file (`dev.tsv`; MNLI `dev_matched.tsv`), found as the
   program finds them (`timing_trainer.glue.data`: the task's folder or a GLUE root holding one)
   and counted as it reads them (`glue.tsv`: blank lines and QQP's short rows left out).
   A relative `data_dir` is resolved as the program would see it. A sweep's program starts in the
   folder its agent started in (`timing-trainer sweep` and `wandb agent` alike), so the current
   folder comes first, then the sweep file's folder. The source says which one was used. A
   `data_dir` found in neither keeps the task table's sizes, and the source says it was not found.
2. `max_train_samples` / `max_eval_samples`: caps on those counts (the program keeps the first
   rows).
3. Otherwise the task table's sizes of the Hub dataset (`nyu-mll/glue`), which a sweep without
   `data_dir` reads.
A `data_dir` whose files the program would refuse (no task folder, a missing file, a bad row) is
a `CostModelError` naming the problem, because that sweep's runs would not run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from timing_trainer.errors import CostModelError, GlueInputError, UnknownTaskError
from timing_trainer.glue.data import resolve_task_dir, tsv_split_files
from timing_trainer.glue.tsv import check_tsv
from timing_trainer.tasks import GlueTask, get_task

TASK_TABLE = "task table (Hub nyu-mll/glue)"


@dataclass(frozen=True)
class DataSize:
    """A run's training and evaluation examples, and where each count came from."""

    n_train: float
    n_eval: float
    train_source: str
    eval_source: str


class DataSizes:
    """The data sizes of a sweep's runs; each TSV folder is counted once, whatever the number
    of runs that read it."""

    def __init__(self, sweep_file: str | Path | None = None, cwd: str | Path | None = None):
        self.sweep_dir = (Path(sweep_file).expanduser().resolve().parent
                          if sweep_file is not None else None)
        self.cwd = Path(cwd) if cwd is not None else Path.cwd()
        self._counted: dict[tuple[str, str], tuple[int, int, str, str]] = {}

    def of(self, params: dict[str, Any]) -> DataSize:
        """The sizes of one run of the sweep (`params`: its parameters)."""
        try:
            task = get_task(str(params.get("task_name")))
        except UnknownTaskError as exc:
            raise CostModelError(str(exc)) from None
        size = self._read(task, params.get("data_dir"))
        for cap, attr in (("max_train_samples", "n_train"), ("max_eval_samples", "n_eval")):
            limit = _count(params.get(cap))
            if limit is not None and limit < getattr(size, attr):
                source = {"n_train": "train_source", "n_eval": "eval_source"}[attr]
                size = replace(size, **{attr: float(limit), source: cap})
        return size

    def _read(self, task: GlueTask, data_dir: Any) -> DataSize:
        hub = DataSize(float(task.train_size), float(task.eval_size), TASK_TABLE, TASK_TABLE)
        if data_dir is None or not str(data_dir).strip():
            return hub
        key = (task.name, str(data_dir))
        if key not in self._counted:
            self._counted[key] = self._count_rows(task, str(data_dir))
        n_train, n_eval, train_file, eval_file = self._counted[key]
        if n_train < 0:  # not found: the table's sizes, saying so
            why = f"{TASK_TABLE}: data_dir {str(data_dir)!r} not found here ({train_file})"
            return replace(hub, train_source=why, eval_source=why)
        return DataSize(float(n_train), float(n_eval), f"rows of {train_file}",
                        f"rows of {eval_file}")

    def _count_rows(self, task: GlueTask, data_dir: str) -> tuple[int, int, str, str]:
        """(train rows, primary evaluation rows, their files); (-1, -1, where it looked, "")
        when the folder is found nowhere."""
        folder, looked = self._locate(data_dir)
        if folder is None:
            return -1, -1, looked, ""
        try:
            files = tsv_split_files(resolve_task_dir(folder, task), task)
            primary = files[task.eval_splits[0].name]
            return check_tsv(files["train"], task), check_tsv(primary, task), \
                str(files["train"]), str(primary)
        except GlueInputError as exc:
            raise CostModelError(f"data_dir {data_dir!r}: {exc}; the sweep's runs would "
                                 "refuse it") from None

    def _locate(self, data_dir: str) -> tuple[Path | None, str]:
        """The folder `data_dir` names: as given if absolute, else under the current folder,
        then under the sweep file's folder; (None, where it looked) when in neither."""
        given = Path(data_dir).expanduser()
        if given.is_absolute():
            return (given.resolve(), "") if given.is_dir() else (None, "no such folder")
        places = [self.cwd] + ([self.sweep_dir] if self.sweep_dir is not None else [])
        for place in places:
            if (place / given).is_dir():
                return (place / given).resolve(), ""
        looked = f"looked in the current folder {self.cwd}"
        return None, looked + (f" and the sweep's {self.sweep_dir}" if self.sweep_dir else "")


def _count(value: Any) -> int | None:
    """A positive whole count from a sweep parameter; None when it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number >= 1 and number.is_integer() \
        else None
