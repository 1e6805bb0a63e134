"""What a finished child process means: the run's status, reason kind and reason, from its exit
status, its `timing_results.json` and the last line of its log.

- exit 0 and results not saying otherwise: finished. A results file still saying `running` is
  not finished (the program was stopped before its final write), whatever the exit status.
- the results' `error.kind` when the program recorded one (`oom`, `exception`, `interrupted`).
- exit 130 or 143 (the GLUE program's SIGINT and SIGTERM), or death by SIGINT/SIGTERM:
  interrupted, like the agent's own Ctrl-C; a resume runs it again.
- exit 3: out of memory; death by another signal: killed; anything else: its exit status and
  the log's last line.
- before all that: a child the agent stopped (non-zero exit) is interrupted, and a command that
  could not start is `not_started` with the log's last line (the error it wrote there).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from timing_trainer.results.file import RunResults
from timing_trainer.runtime import exit_codes

INTERRUPT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
INTERRUPT_EXIT_CODES = {exit_codes.SIGINT: signal.SIGINT.name,
                       exit_codes.SIGTERM: signal.SIGTERM.name}


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in the agent's own files (records, sweep state), or None when there is
    none to read. A run's results file has its own reader, `read_run_results`."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def read_run_results(path: Path) -> dict[str, Any] | None:
    """A run's results as its program left them, or None when there are none to read.

    Read by the results file's own type (timing_trainer.results.file) at the "object" level:
    any JSON object counts, even a partial one, since the program a sweep runs may be a user's
    own script that writes only `status` and its metric; what the file says is then judged by
    `classify`, not refused here."""
    try:
        return RunResults.read(path, check="object").data
    except (OSError, ValueError):  # ResultsValidationError is a ValueError
        return None


def last_log_line(log_path: Path, limit: int = 200) -> str:
    """The last non-empty line of a run's log (usually the program's one-line reason)."""
    try:
        with open(log_path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 8192))
            tail = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _without_results_error(returncode: int, status: Any, log_path: Path) -> tuple[str, str, str]:
    """(status, kind, message) when the results file names no error."""
    if returncode in INTERRUPT_EXIT_CODES:
        return ("interrupted", "interrupted",
                f"exit status {returncode} ({INTERRUPT_EXIT_CODES[returncode]})")
    if returncode == exit_codes.OOM:
        return "failed", "oom", last_log_line(log_path) or f"out of memory (exit status {exit_codes.OOM})"
    if returncode < 0:
        name = _signal_name(-returncode)
        kind = "interrupted" if -returncode in INTERRUPT_SIGNALS else "killed"
        return ("interrupted" if kind == "interrupted" else "failed"), kind, f"killed by signal {name}"
    if returncode == 0 and status == "running":
        return "failed", "incomplete", "exit status 0, but the results file still says running"
    if returncode == 0:
        return "failed", "failed", "results file says failed"
    return "failed", "nonzero_exit", f"exit status {returncode}: {last_log_line(log_path)}"


def classify(returncode: int, results: dict[str, Any] | None, log_path: Path, *,
             started: bool = True, stopped: bool = False) -> tuple[str, str | None, str | None]:
    """(status, reason kind, reason message) of a child process that has ended (`stopped`: by
    the agent; `started`: False when the command could not be started)."""
    if stopped and returncode != 0:
        return "interrupted", "interrupted", "stopped by the agent (Ctrl-C)"
    if not started:
        return "failed", "not_started", last_log_line(log_path)
    status = (results or {}).get("status")
    error = (results or {}).get("error") or {}
    if returncode == 0 and status not in ("failed", "running"):
        return "finished", None, None
    if isinstance(error, dict) and error.get("kind"):
        kind = str(error["kind"])
        run_status = "interrupted" if kind == "interrupted" else "failed"
        return run_status, kind, str(error.get("message") or "")[:300]
    return _without_results_error(returncode, status, log_path)


def metric_value(results: dict[str, Any] | None, name: str | None) -> float | None:
    """The sweep's metric from a run's results (`eval_metrics`, else a top-level key)."""
    if not results or not name:
        return None
    value = (results.get("eval_metrics") or {}).get(name, results.get(name))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
