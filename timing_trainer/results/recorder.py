"""The results side of a `TimingTrainer`: its file, W&B, failures and the end of the run.

`TrainerResults` is an object the trainer holds, not a base class of it: what is measured lives
in timing_trainer.trainer, how it is written and when it is finished lives here, and what this
side may touch of the trainer is spelled out (`ResultsOwner`, plus the W&B reporter and the
config defaults handed over at construction) instead of being the whole Trainer. See
timing_trainer.runtime.lifecycle for the rules of `running` and `finished`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from timing_trainer.errors import NOT_LOGGED_IN, ResultsWriteError, WandbNotLoggedInError
from timing_trainer.results.placement import claim_results_file
from timing_trainer.results.run_results import TimingResults, classify_error
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.results.wandb_logging import (
    WandbReporter,
    check_wandb_login,
    is_login_failure,
    wandb_config,
)
from timing_trainer.results.writer import ResultsWriter, failure_message

if TYPE_CHECKING:
    from transformers import TrainingArguments

    from timing_trainer.arguments import TimingOptions

logger = logging.getLogger(__name__)


class ResultsOwner(Protocol):
    """What the recorder reads from its trainer. Read at each call, never copied: the warm-up
    swaps `args` for a copy while it runs, and rank 0 is the Trainer's own answer."""

    args: TrainingArguments
    timing_options: TimingOptions
    timing_results: TimingResults

    def is_world_process_zero(self) -> bool: ...


class TrainerResults:
    """Writing, finishing and failing a trainer's timing results (rank 0 writes).

    `config_defaults(precision)` gives the config a results file falls back on for keys still
    null when it is saved (the trainer's own description of the run). The `ResultsWriter` is
    made here, from the owner's results: the exit fallback keeps it, never the trainer.
    """

    def __init__(self, owner: ResultsOwner, reporter: WandbReporter,
                 config_defaults: Callable[[str], dict[str, Any]]):
        self._owner = owner
        self._writer = ResultsWriter(owner.timing_results, reporter, owner.is_world_process_zero())
        self._reporter = reporter
        self._config_defaults = config_defaults
        self._claimed: Path | None = None  # this run's file in the output folder, once claimed

    @property
    def writer(self) -> ResultsWriter:
        return self._writer

    @property
    def path(self) -> Path | None:
        """The results file last written (None before the first write, or without a file)."""
        return self._writer.path

    def check_wandb_login(self) -> None:
        """Fail at construction, with the fixes in one line, when W&B would need a login."""
        if not self._reporter.enabled:
            return
        try:
            check_wandb_login()
        except WandbNotLoggedInError as exc:
            self.record_failure(exc)
            raise

    def wandb_config(self) -> dict[str, Any]:
        owner = self._owner
        return wandb_config(owner.args, owner.timing_options, owner.timing_results.config,
                            owner.timing_results.environment)

    def writes_file(self) -> bool:
        return bool(self._owner.timing_options.write_timing_results and self._owner.args.output_dir)

    def write_running(self) -> None:
        """The first write: the results file exists, `running`, from the start of the work."""
        if not self._owner.is_world_process_zero():
            return
        if self._writer.path is None and self.writes_file():
            self.save()

    def after_measurement(self) -> None:
        """Push figures to W&B and write the results file (rank 0; outside any timed region)."""
        if not self._owner.is_world_process_zero():
            return
        self._reporter.update_config(self.wandb_config())
        self._write()

    @contextmanager
    def failure_recorded(self) -> Iterator[None]:
        """The work of `train()`, `evaluate()` or `predict()`: when it raises, the results say
        `failed` (written, W&B run failed) and W&B's own "no API key" error becomes the one line
        of WandbNotLoggedInError."""
        try:
            yield
        except BaseException as exc:
            self.record_failure(exc)
            if is_login_failure(exc) and not isinstance(exc, WandbNotLoggedInError):
                raise WandbNotLoggedInError() from None
            raise

    def record_failure(self, exc: BaseException) -> None:
        """Mark the results failed, write them and fail the W&B run; never raises."""
        try:
            if is_login_failure(exc):
                self._reporter.disable()  # recording the failure must not try W&B again
            results = self._owner.timing_results
            if results.status != "failed":
                message = NOT_LOGGED_IN if is_login_failure(exc) else failure_message(exc)
                results.mark_failed(classify_error(exc), message)
            if self._owner.is_world_process_zero():
                self._write()
        except Exception as inner:  # noqa: BLE001 - the original error matters more
            logger.warning("could not record the failure in the timing results: %s", inner)

    def _write(self) -> None:
        """The file (which also updates W&B's summary), or W&B's summary alone without one."""
        if self.writes_file():
            self.save()
        else:
            self._writer.write(None)

    def results_path(self, path: str | Path | None = None) -> Path:
        """`path` (a file or a folder), or this run's own file in `args.output_dir` (claimed
        at the first call: timing_trainer.results.placement)."""
        if path is None:
            if self._claimed is None:
                self._claimed = claim_results_file(self._owner.args.output_dir)
            return self._claimed
        target = Path(path)
        return target / RESULTS_FILENAME if target.is_dir() else target

    def save(self, path: str | Path | None = None) -> Path:
        """`TimingTrainer.save_timing_results`: write atomically on rank 0, keeping the status;
        returns the file's path on every rank."""
        target = self.results_path(path)
        if not self._owner.is_world_process_zero():
            return target
        results = self._owner.timing_results
        precision = results.environment.get("precision") or "fp32"
        for key, value in self._config_defaults(precision).items():
            if results.config.get(key) is None:
                results.config[key] = value
        self._writer.write(target)
        return target

    def writer_to_finish(self) -> ResultsWriter | None:
        """The first half of `TimingTrainer.finish_timing_results`: on rank 0, the writer to
        close as finished, pointed at the default file when nothing was written yet (None on
        the other ranks). The closing is left to the trainer's method itself because
        `ResultsWriter.close` warns with a stacklevel that names the caller of
        `finish_timing_results` only when called from that method directly."""
        if not self._owner.is_world_process_zero():
            return None
        if self._writer.path is None and self.writes_file():
            self._writer.path = self.results_path()
        return self._writer


def check_output_dir(output_dir: Any) -> None:
    """Fail at construction, in one line, when the results could never be written."""
    if not output_dir:
        return
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as exc:
        raise ResultsWriteError(f"output folder {output_dir} is not writable "
                                f"({exc.strerror or exc})") from exc
    if not os.access(output_dir, os.W_OK):
        raise ResultsWriteError(f"output folder {output_dir} is not writable")
