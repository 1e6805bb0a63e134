"""How the GLUE program reports a run that did not finish: exit status, one line on stderr, the
results file marked `failed`, the traceback file, and the W&B run marked failed.

The exit codes are described in `timing_trainer.glue.run`; interrupts take theirs from
`timing_trainer.runtime.signals` (130 for Ctrl-C, 143 for SIGTERM). Only the main process writes files.
A failure to write the failed results file is said in its own line and never hides the run's
failure.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing_trainer.errors import one_line
from timing_trainer.runtime import exit_codes

logger = logging.getLogger("timing_trainer.glue")

PROG = "timing_trainer.glue"
TRACEBACK_FILE = "error_traceback.txt"
_LABELS = {"oom": "out of memory"}


def report_bad_input(exc: BaseException) -> int:
    print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
    return exit_codes.BAD_INPUT


def report_failure(glue_run: Any, exc: BaseException) -> int:
    """A failure during the run (`glue_run` is a `GlueRun`): results file, W&B, one line, and
    the exit status for its kind."""
    from timing_trainer.results.run_results import classify_error

    kind = classify_error(exc)
    saved = _saved(glue_run, lambda: _save_failed(glue_run, kind, exc))
    if kind == "interrupted":
        from timing_trainer.runtime.signals import exit_status

        reason = one_line(exc) if str(exc) else "SIGINT (Ctrl-C)"  # KeyboardInterrupt says ""
        print(f"{PROG}: interrupted: {reason}{saved}", file=sys.stderr)
        return exit_status(exc)  # 130 for Ctrl-C, 143 for SIGTERM
    print(f"{PROG}: {_LABELS.get(kind, 'failed')}: {one_line(exc)}{saved}", file=sys.stderr)
    return exit_codes.OOM if kind == "oom" else exit_codes.FAILED


def report_wandb_login(glue_run: Any, exc: BaseException) -> int:
    """W&B online without a login: one line naming the fixes, a failed results file, exit 1
    (no traceback, and no W&B run to mark failed: W&B is the problem)."""
    saved = _saved(glue_run, lambda: _save_failed_without_trainer(
        glue_run, "exception", str(exc), wandb=False))
    print(f"{PROG}: failed: {exc}{saved}", file=sys.stderr)
    return exit_codes.FAILED


def report_file_system(glue_run: Any, exc: BaseException) -> int:
    """The file system refused a write (`exc`: a `FileSystemError`, full disk, read-only folder,
    name too long, no permission): the results marked failed with that reason where they can
    still be written, one line naming the path, exit status 2. No traceback file: the line says
    it all, and the disk may have no room for one."""
    note = ""
    if glue_run.is_main_process():
        try:
            glue_run.output_dir.mkdir(parents=True, exist_ok=True)
            note = f" (results: {_mark_failed(glue_run, 'exception', f'FileSystemError: {exc}')})"
        except Exception as inner:  # noqa: BLE001 - the refusal itself is the line to print
            note = f"; the results could not be marked failed either ({_why_not(inner, exc)})"
    print(f"{PROG}: error: {one_line(exc)}{note}", file=sys.stderr)
    return exit_codes.BAD_INPUT


def _why_not(inner: BaseException, refusal: BaseException) -> str:
    """Why the failed results could not be written: the errno's name when the file system
    refused them too (the same path: only that), else the error's first line."""
    from timing_trainer.runtime.atomic import file_system_error

    refused = file_system_error(inner)
    if refused is None:
        return one_line(inner)
    same = refused.path == getattr(refusal, "path", None)
    return refused.errno_name if same else str(refused)


def _saved(glue_run: Any, save: Callable[[], Path]) -> str:
    """` (results: PATH)` once `save` has written the failed results file, else ``."""
    if not glue_run.is_main_process():
        return ""
    try:
        glue_run.output_dir.mkdir(parents=True, exist_ok=True)
        return f" (results: {save()})"
    except Exception as inner:  # noqa: BLE001 - never hide the original failure
        print(f"{PROG}: could not write the failed results file: {one_line(inner)}",
              file=sys.stderr)
        return ""


def _save_failed(glue_run: Any, kind: str, exc: BaseException) -> Path:
    """The traceback file (kind `exception`) and the results file, status failed."""
    if kind == "exception":
        from timing_trainer.runtime.atomic import atomic_write_text

        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        atomic_write_text(glue_run.output_dir / TRACEBACK_FILE, text)
    return _mark_failed(glue_run, kind, f"{type(exc).__name__}: {one_line(exc)}")


def _mark_failed(glue_run: Any, kind: str, message: str) -> Path:
    """The results file, status failed with `kind` and `message`."""
    if glue_run.trainer is None:
        return _save_failed_without_trainer(glue_run, kind, message)
    # Whatever the trainer measured, marked failed; saving also ends its W&B run as failed.
    results = glue_run.trainer.timing_results
    if results.status != "failed":  # the trainer records failures inside train()/evaluate()
        results.mark_failed(kind, message)
    return Path(glue_run.trainer.save_timing_results())


def _save_failed_without_trainer(glue_run: Any, kind: str, message: str, wandb: bool = True
                                 ) -> Path:
    """Failure while loading (e.g. out of memory): results from the config and setup times,
    and, when reporting to W&B, a run that carries the config and ends failed. The file is
    written like every results file, validated and atomically (`save`, through `RunResults`)."""
    from timing_trainer.results.placement import claim_results_file, release_results_file
    from timing_trainer.results.run_results import TimingResults
    from timing_trainer.runtime.environment import collect_environment, precision_of

    environment = collect_environment(precision_of(glue_run.training_args))
    results = TimingResults(environment=environment)
    glue_run.record_into(results)
    results.mark_failed(kind, message)
    if wandb:
        results.wandb_run_id = _fail_wandb_run(glue_run.training_args, results)
    path = claim_results_file(glue_run.output_dir)  # this run's own file: no overwrite
    try:
        return results.save(path)
    finally:
        release_results_file(path)


def _fail_wandb_run(training_args: Any, results: Any) -> str | None:
    """Mark the W&B run failed (started here when none is); returns its id."""
    try:
        from timing_trainer.results.wandb_logging import WandbReporter, reports_to_wandb

        if not reports_to_wandb(training_args):
            return None
        reporter = WandbReporter(enabled=True, run_name=training_args.run_name)
        reporter.update_config({**results.config, "environment": results.environment})
        run_id = reporter.run_id()
        reporter.update_summary({**results.summary(), "wandb_run_id": run_id})
        reporter.finish_failed()
        return run_id
    except Exception as exc:  # noqa: BLE001 - W&B trouble must not hide the run's failure
        logger.warning("could not mark the W&B run failed: %s", one_line(exc))
        return None
