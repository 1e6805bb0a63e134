"""The results side of a `TimingTrainer`: its file, W&B, failures and the end of the run.

A mixin of the trainer (it uses the trainer's `args`, `timing_options`, `timing_results`,
`_wandb` and `_writer`), kept apart from the timing hooks: what is measured lives in
timing_trainer.trainer, how it is written and when it is finished lives here (see
timing_trainer.runtime.lifecycle for the rules of `running` and `finished`).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from timing_trainer.errors import NOT_LOGGED_IN, ResultsWriteError, WandbNotLoggedInError
from timing_trainer.results.run_results import classify_error
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.results.wandb_logging import check_wandb_login, is_login_failure, wandb_config
from timing_trainer.results.writer import failure_message
from timing_trainer.runtime.distributed import on_main_process

logger = logging.getLogger(__name__)


class TrainerResultsMixin:
    """Writing, finishing and failing a trainer's timing results (rank 0 writes)."""

    def _check_wandb_login(self) -> None:
        """Fail at construction, with the fixes in one line, when W&B would need a login."""
        if not self._wandb.enabled:
            return
        try:
            check_wandb_login()
        except WandbNotLoggedInError as exc:
            self._record_failure(exc)
            raise

    def _wandb_config(self) -> dict[str, Any]:
        return wandb_config(self.args, self.timing_options, self.timing_results.config,
                            self.timing_results.environment)

    def _writes_file(self) -> bool:
        return bool(self.timing_options.write_timing_results and self.args.output_dir)

    @on_main_process
    def _write_running(self) -> None:
        """The first write: the results file exists, `running`, from the start of the work."""
        if self._writer.path is None and self._writes_file():
            self.save_timing_results()

    @on_main_process
    def _after_measurement(self) -> None:
        """Push figures to W&B and write the results file (rank 0; outside any timed region)."""
        self._wandb.update_config(self._wandb_config())
        if self._writes_file():
            self.save_timing_results()  # also updates the W&B summary
        else:
            self._writer.write(None)

    @contextmanager
    def _failure_recorded(self) -> Iterator[None]:
        """The work of `train()`, `evaluate()` or `predict()`: when it raises, the results say
        `failed` (written, W&B run failed) and W&B's own "no API key" error becomes the one line
        of WandbNotLoggedInError."""
        try:
            yield
        except BaseException as exc:
            self._record_failure(exc)
            if is_login_failure(exc) and not isinstance(exc, WandbNotLoggedInError):
                raise WandbNotLoggedInError() from None
            raise

    def _record_failure(self, exc: BaseException) -> None:
        """Mark the results failed, write them and fail the W&B run; never raises."""
        try:
            if is_login_failure(exc):
                self._wandb.disable()  # recording the failure must not try W&B again
            if self.timing_results.status != "failed":
                message = NOT_LOGGED_IN if is_login_failure(exc) else failure_message(exc)
                self.timing_results.mark_failed(classify_error(exc), message)
            if not self.is_world_process_zero():
                return
            if self._writes_file():
                self.save_timing_results()
            else:
                self._writer.write(None)
        except Exception as inner:  # noqa: BLE001 - the original error matters more
            logger.warning("could not record the failure in the timing results: %s", inner)

    @on_main_process
    def _print_line(self, line: str) -> None:
        if type(self)._print_summary_lines:
            print(line, file=sys.stderr, flush=True)

    def _results_path(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path is not None else Path(self.args.output_dir) / RESULTS_FILENAME
        return target / RESULTS_FILENAME if target.is_dir() else target

    def save_timing_results(self, path: str | Path | None = None) -> Path:
        """Write `timing_results.json` (into `args.output_dir` by default) atomically, on rank 0.

        `path` may be a file or a folder. Returns the file's path on every rank. A failed run
        also ends its W&B run as failed. The status stays as it is (`running` until
        `finish_timing_results()`).
        """
        target = self._results_path(path)
        if not self.is_world_process_zero():
            return target
        results = self.timing_results
        for key, value in self._base_config(results.environment.get("precision") or "fp32").items():
            if results.config.get(key) is None:
                results.config[key] = value
        self._writer.write(target)
        return target

    def finish_timing_results(self) -> Path | None:
        """The run has ended: status `finished` (a failed run stays failed), the final write,
        and one warning naming the figures that could not be computed. Call it after the last
        `train()`/`evaluate()`; without it, the exit fallback of timing_trainer.runtime.lifecycle does
        the same when the interpreter ends normally. Returns the file's path (None when no
        file is written)."""
        if not self.is_world_process_zero():
            return self._writer.path
        if self._writer.path is None and self._writes_file():
            self._writer.path = self._results_path()
        return self._writer.close("finished")


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
