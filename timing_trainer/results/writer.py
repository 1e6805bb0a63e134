"""Writing one run's results: the file, W&B's summary, and the end of the run's lifecycle.

A `ResultsWriter` is what a `TimingTrainer` (rank 0) writes through. Every write validates the
results (every null figure with its reason), replaces the file atomically (`TimingResults.save`,
through `RunResults.write` of timing_trainer.results.file, the file's one writer; the writer keeps
calling `save` so a test or a script can wrap it) and mirrors the figures into W&B's summary. While the results say `running`, the writer stays registered with
timing_trainer.runtime.lifecycle, whose exit fallback closes it; `close("finished")` marks the results
finished and warns once about the figures that could not be computed.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from timing_trainer.errors import (
    FileSystemError,
    ResultsWriteError,
    UnavailableFiguresWarning,
)
from timing_trainer.results.placement import release_results_file
from timing_trainer.results.reasons import describe
from timing_trainer.results.run_results import classify_error
from timing_trainer.runtime import lifecycle

_NOT_MEASUREMENTS = ("wandb_run_id",)  # null by choice: in the file's reasons, not the warning


class ResultsWriter:
    """Writes a TimingResults to its file and W&B; closes it as finished or failed."""

    def __init__(self, results: Any, reporter: Any, main_process: bool = True):
        self.results = results
        self.reporter = reporter
        self.main_process = main_process
        self.path: Path | None = None  # the last file written

    def write(self, path: Path | None, start_wandb: bool = True) -> Path | None:
        """Validate and write atomically to `path` (None: W&B only); update W&B's summary
        (starting a W&B run when none is active, unless `start_wandb` is False)."""
        if not self.main_process:
            return path
        results = self.results
        results.wandb_run_id = self.reporter.run_id() or results.wandb_run_id
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                results.save(path)
            except FileSystemError:
                raise  # already one line naming the file and the refusal (ENOSPC, ...)
            except OSError as exc:
                raise ResultsWriteError(
                    f"cannot write timing results to {path}: the output folder is not writable "
                    f"({exc.strerror or exc})") from exc
            self.path = path
        self.reporter.update_summary(results.summary(), start=start_wandb)
        if results.status == "running":
            lifecycle.register(self)
        else:
            lifecycle.unregister(self)
            if self.path is not None:
                release_results_file(self.path)  # the run has ended: the folder is free
            if results.status == "failed":
                self.reporter.finish_failed()
        return path

    def close(self, outcome: str, exc: BaseException | None = None,
              stacklevel: int = 4) -> Path | None:
        """End the lifecycle: `outcome` "finished", or "failed" with the exception behind it."""
        lifecycle.unregister(self)
        results = self.results
        if results.status != "running":
            return self.path
        if self.path is not None and not self.path.parent.is_dir():
            return None  # the output folder is gone (a removed temporary folder): nothing to mark
        if outcome == "finished":
            results.mark_finished()
            self.warn_unavailable(stacklevel)
        else:
            kind = classify_error(exc) if exc is not None else "exception"
            results.mark_failed(kind, failure_message(exc))
        return self.write(self.path, start_wandb=False)

    def warn_unavailable(self, stacklevel: int = 4) -> None:
        """One warning naming every figure left null and why (rank 0 only)."""
        reasons = {key: reason for key, reason in self.results.to_dict()["unavailable"].items()
                   if key not in _NOT_MEASUREMENTS}
        if reasons and self.main_process:
            where = f" (`unavailable` in {self.path})" if self.path else ""
            warnings.warn(f"timing figures unavailable{where}: {describe(reasons)}",
                          UnavailableFiguresWarning, stacklevel=stacklevel)


def failure_message(exc: BaseException | None) -> str:
    """What a failed results file says about the exception that ended the run."""
    if exc is None:
        return "the run ended without finishing"
    from timing_trainer.runtime.signals import describe_interrupt

    if isinstance(exc, KeyboardInterrupt):
        return f"{type(exc).__name__}: {describe_interrupt(exc)}"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")
