"""One attempt at one run: its folder, its command and environment, its child, its record.

The record (`agent_record.json`) is written twice: `running` with the child's pid, host and start
time as soon as the child has started (a resume after the agent was killed tells by them whether
the child lives on, see `liveness`), then with the run's end: status and reason (`records`),
exit status, wall time and its on-clock share (`walltime`). The record, the log's command line
and a printed command show secrets masked; the log is scrubbed of their values when the child
ends, and an `${args_json_file}` that holds one is owner-only while the run lasts and removed
after it (`redact`). The record names the sweep version it ran under (`sweep_version`). A
write the file system refuses marks the run failed with that reason where it can, and stops the
agent (`disk`).
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Any

from timing_trainer.errors import FileSystemError
from timing_trainer.results.placement import is_results_filename
from timing_trainer.results.schema import RESULTS_FILENAME as RESULTS_FILE
from timing_trainer.runtime.atomic import atomic_write_json
from timing_trainer.runtime.masking import mask_argv, mask_mapping, scrub_text, secret_values
from timing_trainer.sweep.agent.books import RECORD_FILE, now_iso
from timing_trainer.sweep.agent.child import Children
from timing_trainer.sweep.agent.disk import writing
from timing_trainer.sweep.agent.liveness import process_identity
from timing_trainer.sweep.agent.outcomes import classify, metric_value, read_run_results
from timing_trainer.sweep.agent.plan import AgentOptions, PlannedRun
from timing_trainer.sweep.agent.redact import run_secrets, scrub_file
from timing_trainer.sweep.agent.walltime import wall_split
from timing_trainer.sweep.config.macros import build_command, uses_macro

__all__ = ["RECORD_FILE", "AttemptRunner", "disable_wandb_reporting", "now_iso"]
LOG_FILE = "run.log"
ARGS_JSON_FILE = "args.json"


def disable_wandb_reporting(command: list[str]) -> list[str]:
    """`--report_to=wandb` -> `--report_to=none`: with W&B disabled, the program must not need it."""
    out = list(command)
    for i, arg in enumerate(out):
        if arg in ("--report_to=wandb", "--report_to=all"):
            out[i] = "--report_to=none"
        elif arg == "--report_to" and i + 1 < len(out) and out[i + 1] in ("wandb", "all"):
            out[i + 1] = "none"
    return out


def write_record(run_dir: Path, record: dict[str, Any]) -> None:
    atomic_write_json(run_dir / RECORD_FILE, record)


class AttemptRunner:
    """Runs attempts at a sweep's runs; `children` is shared by all workers (one stop)."""

    def __init__(self, config: dict[str, Any], options: AgentOptions, name: str, cwd: Path,
                 children: Children, version: str | None = None):
        self.config = config
        self.version = version
        self.options = options
        self.name = name
        self.cwd = cwd
        self.children = children
        self.args_json_file = uses_macro(config.get("command"), "args_json_file")

    def command_for(self, run: PlannedRun, run_dir: Path, masked: bool = False) -> list[str]:
        """The run's argument list; `masked=True` gives the one that is written and printed
        (secret parameters and environment variables as `***`, see `redact`)."""
        program = self.config.get("program")
        environ = {**os.environ, **self.options.extra_env}
        command = build_command(
            self.config.get("command"), mask_mapping(run.params) if masked else run.params,
            program=str(program) if program is not None else None,
            args_json_file=str((run_dir / ARGS_JSON_FILE).resolve()) if self.args_json_file
            else None,
            environ=mask_mapping(environ) if masked else environ,
        )
        if self.options.wandb_mode == "disabled":
            command = disable_wandb_reporting(command)
        return mask_argv(command) if masked else command

    def env_for(self, run: PlannedRun, run_dir: Path, gpu: str | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.options.extra_env)
        env["TIMING_TRAINER_RUN_DIR"] = str(run_dir.resolve())
        env["WANDB_MODE"] = self.options.wandb_mode
        env.setdefault("WANDB_DIR", str(run_dir.resolve()))
        env["WANDB_RUN_GROUP"] = self.name
        env["WANDB_NAME"] = f"{self.name}-{run.dir_name}"
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpu
        return env

    def _prepare_run_dir(self, run: PlannedRun, run_dir: Path) -> None:
        with writing(run_dir):
            run_dir.mkdir(parents=True, exist_ok=True)
        for stale in sorted(run_dir.iterdir()):  # an earlier attempt's results (each run of
            if is_results_filename(stale.name):  # a folder has its own file) are not this one's
                with writing(stale):
                    stale.unlink()
        if self.args_json_file:
            # The program reads its parameters from this file: real values, owner-only while
            # the run lasts when one is a secret (removed when it ends, see _finish).
            path = atomic_write_json(run_dir / ARGS_JSON_FILE, run.params)
            if secret_values(run.params):
                with writing(path):
                    os.chmod(path, 0o600)

    def run(self, run: PlannedRun, run_dir: Path, attempt: int, gpu: str | None) -> dict[str, Any]:
        """Run one attempt to its end (or until the children are stopped) and record it."""
        record: dict[str, Any] = {
            "sweep": self.name, "sweep_version": self.version, "index": run.index,
            "key": run.key, "dir": run_dir.name, "params": mask_mapping(run.params),
            "command": self.command_for(run, run_dir, masked=True),
            "gpu": gpu, "status": "running", "attempts": attempt, "started_at": now_iso(),
        }
        try:
            self._prepare_run_dir(run, run_dir)
            self._start(run, run_dir, record, gpu)
        except FileSystemError as exc:
            mark_refused(run_dir, record, exc)
            raise
        return record

    def _start(self, run: PlannedRun, run_dir: Path, record: dict[str, Any],
               gpu: str | None) -> None:
        """The child, from its start to its record."""
        attempt = record["attempts"]
        header = f"=== attempt {attempt} at {record['started_at']}: {shlex.join(record['command'])}\n"

        def started(pid: int) -> None:  # the record says `running` with the child's pid
            record.update(process_identity(pid))
            write_record(run_dir, record)

        start = time.monotonic()
        with writing(run_dir / LOG_FILE):
            returncode, did_start = self.children.run(
                run.key, self.command_for(run, run_dir), run_dir / LOG_FILE, header, started,
                cwd=self.cwd, env=self.env_for(run, run_dir, gpu),
            )
        self._finish(run, run_dir, record, returncode, did_start, time.monotonic() - start)

    def _finish(self, run: PlannedRun, run_dir: Path, record: dict[str, Any], returncode: int,
                started: bool, wall: float) -> None:
        """Classify the ended child, scrub secrets, write the record."""
        log_path = run_dir / LOG_FILE
        results = read_run_results(run_dir / RESULTS_FILE)
        status, kind, message = classify(returncode, results, log_path, started=started,
                                         stopped=self.children.stopped)
        secrets = run_secrets(run.params, {**os.environ, **self.options.extra_env})
        record.update(
            metric=metric_value(results, (self.config.get("metric") or {}).get("name")),
            status=status, exit_code=returncode, reason_kind=kind,
            reason=scrub_text(message, secrets) if message else message,
            wall_time=round(wall, 3), ended_at=now_iso(),
            results_file=RESULTS_FILE if results is not None else None,
            **wall_split(results if status == "finished" else None, wall),
        )
        for name in ("pid", "host", "pid_start"):
            record.pop(name, None)
        with writing(log_path):
            scrub_file(log_path, secrets)
        if self.args_json_file and secret_values(run.params):
            with writing(run_dir / ARGS_JSON_FILE):
                (run_dir / ARGS_JSON_FILE).unlink(missing_ok=True)
        write_record(run_dir, record)


def mark_refused(run_dir: Path, record: dict[str, Any], exc: FileSystemError) -> None:
    """The run failed for want of a write: say so in its record, where the disk still allows."""
    record.update(status="failed", reason_kind="write_error", reason=str(exc), ended_at=now_iso())
    for name in ("pid", "host", "pid_start"):
        record.pop(name, None)
    try:
        write_record(run_dir, record)
    except OSError:  # refused again: the record stays `running`, a resume runs the run again
        pass
