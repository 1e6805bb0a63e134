"""The local sweep agent: runs a sweep file's runs without a W&B server, resumably.

W&B cannot run sweeps offline (its controller lives on the server), so this agent takes the
controller's part (the run order from W&B's `sweeps` package, see `runs`) and the agent's part
(commands from the file's `command` with W&B's macro meanings, see `macros`), and keeps its own
books, so it works for any program a sweep file names:

    RUNS_DIR/sweep_state.json          the sweep: every run's status, rewritten after every run
    RUNS_DIR/.agent.lock               held while an agent runs the sweep (one agent per folder)
    RUNS_DIR/NNN-KEY/agent_record.json one run: parameters, command, exit status, reason, wall time
    RUNS_DIR/NNN-KEY/run.log           the run's stdout and stderr (every attempt, appended)
    RUNS_DIR/NNN-KEY/...               whatever the program writes there (timing_results.json)

KEY is a hash of the run's parameter values, so a second invocation recognises its runs: finished
ones are skipped, the rest are run again. Grid and random sweeps are expanded up front (`runs`);
a bayes sweep gets one run at a time from W&B's own bayes search (the `sweeps` package), fed with
the metric each finished run wrote in its `timing_results.json` (`eval_metrics`, else a top-level
key; a run without it counts as W&B counts a run without the metric).

Both JSON files are written atomically, and a run's record is the source of truth (the state
file is rebuilt from the records), so killing the agent at any moment loses no finished run. Ctrl-C (or SIGTERM) stops the running child (SIGINT to its
process group, SIGKILL after a grace period), records the run as interrupted, and stops.

Exit status: 0 when every run attempted finished or failed for lack of memory (an out-of-memory
run is a measurement: that configuration does not fit that device); 1 when any other run failed
(crash, non-zero exit); 130 when interrupted.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from timing_trainer.atomic import atomic_write_json
from timing_trainer.sweep.macros import build_command, uses_macro
from timing_trainer.sweep.runs import SweepFileError, expand_runs, run_key

STATE_FILE = "sweep_state.json"
RECORD_FILE = "agent_record.json"
LOG_FILE = "run.log"
RESULTS_FILE = "timing_results.json"  # = timing_trainer.schema.RESULTS_FILENAME
WANDB_MODES = ("offline", "disabled", "online")
OOM_EXIT_CODE = 3  # the GLUE program's exit status for out-of-memory
KILL_GRACE_SECONDS = 10.0


@dataclass
class AgentOptions:
    """How to run a sweep; `cwd` is where runs start (relative paths in the file resolve there)."""

    runs_dir: Path
    count: int | None = None
    gpus: list[str] | None = None
    wandb_mode: str = "offline"
    dry_run: bool = False
    seed: int | None = None
    cwd: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    progress: bool = True


@dataclass
class PlannedRun:
    index: int
    key: str
    params: dict[str, Any]
    dir_name: str


@dataclass
class SweepOutcome:
    """What an invocation did: the records of every run of the sweep, and this call's share."""

    records: dict[str, dict[str, Any]]  # by run key, every run known (earlier calls included)
    attempted: list[str]  # keys run by this invocation
    skipped: int  # finished earlier
    interrupted: bool
    wall_time: float

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        for key in self.attempted:
            rec = self.records[key]
            if rec["status"] != "finished" and rec.get("reason_kind") != "oom":
                return 1
        return 0


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sweep_name(config: dict[str, Any], sweep_file: str | Path | None) -> str:
    name = str(config.get("name") or (Path(sweep_file).stem if sweep_file else "sweep"))
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "sweep"


def default_runs_dir(config: dict[str, Any], sweep_file: str | Path | None) -> Path:
    return Path("runs") / sweep_name(config, sweep_file)


def disable_wandb_reporting(command: list[str]) -> list[str]:
    """`--report_to=wandb` -> `--report_to=none`: with W&B disabled, the program must not need it."""
    out = list(command)
    for i, arg in enumerate(out):
        if arg in ("--report_to=wandb", "--report_to=all"):
            out[i] = "--report_to=none"
        elif arg == "--report_to" and i + 1 < len(out) and out[i + 1] in ("wandb", "all"):
            out[i + 1] = "none"
    return out


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
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


def classify(returncode: int, results: dict[str, Any] | None, log_path: Path) -> tuple[str, str | None, str | None]:
    """(status, reason kind, reason message) of a finished child process."""
    error = (results or {}).get("error") or {}
    if returncode == 0 and (results is None or results.get("status") != "failed"):
        return "finished", None, None
    if isinstance(error, dict) and error.get("kind"):
        return "failed", str(error["kind"]), str(error.get("message") or "")[:300]
    if returncode == OOM_EXIT_CODE:
        return "failed", "oom", last_log_line(log_path) or "out of memory (exit status 3)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return "failed", "killed", f"killed by signal {name}"
    if returncode == 0:
        return "failed", "failed", "results file says failed"
    return "failed", "nonzero_exit", f"exit status {returncode}: {last_log_line(log_path)}"


class LocalAgent:
    """Runs one sweep config's runs as subprocesses; see the module docstring."""

    def __init__(self, config: dict[str, Any], options: AgentOptions, sweep_file: str | None = None):
        if options.wandb_mode not in WANDB_MODES:
            raise SweepFileError(f"--wandb must be one of {', '.join(WANDB_MODES)}")
        if config.get("method") == "bayes":
            if not options.count and not config.get("run_cap"):
                raise SweepFileError("a bayes sweep needs a run count: --count N or `run_cap`")
            if not isinstance(config.get("metric"), dict) or not config["metric"].get("name"):
                raise SweepFileError("a bayes sweep needs `metric: {name: ..., goal: ...}`")
        self.config = config
        self.options = options
        self.sweep_file = sweep_file
        self.name = sweep_name(config, sweep_file)
        self.runs_dir = Path(options.runs_dir)
        self.cwd = Path(options.cwd) if options.cwd else Path.cwd()
        program = config.get("program")
        if uses_macro(config.get("command"), "program"):
            if not program:
                raise SweepFileError("the command uses ${program} but the file names no `program`")
            if not (self.cwd / str(program)).exists():
                raise SweepFileError(f"program {program!r} not found (relative to {self.cwd})")
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._active: dict[str, subprocess.Popen] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.seed = self._resolve_seed()
        self.plan = self._plan()

    # -- planning -------------------------------------------------------------------------

    def _resolve_seed(self) -> int | None:
        if self.config["method"] not in ("random", "bayes"):
            return self.options.seed
        if self.options.seed is not None:
            return self.options.seed
        previous = read_json(self.runs_dir / STATE_FILE) or {}
        if isinstance(previous.get("seed"), int):
            return previous["seed"]  # same draws as the invocation that started this sweep
        return random.SystemRandom().randrange(2**31)

    def _plan(self) -> list[PlannedRun]:
        if self.config["method"] == "bayes":
            return []  # proposed one at a time, from the results so far (see _propose)
        count = None
        if self.config["method"] == "random" and not self.config.get("run_cap"):
            count = self.options.count
        runs = expand_runs(self.config, seed=self.seed, count=count)
        plan = []
        for index, params in enumerate(runs):
            key = run_key(params)
            plan.append(PlannedRun(index, key, params, f"{index:03d}-{key}"))
        return plan

    def load_records(self) -> None:
        """Every run record already on disk (the source of truth for resuming)."""
        if not self.runs_dir.is_dir():
            return
        for path in sorted(self.runs_dir.glob(f"*/{RECORD_FILE}")):
            record = read_json(path)
            if record and isinstance(record.get("key"), str):
                record["dir"] = path.parent.name
                self.records[record["key"]] = record

    def pending(self) -> list[PlannedRun]:
        todo = [r for r in self.plan if self.records.get(r.key, {}).get("status") != "finished"]
        return todo[: self.options.count] if self.options.count is not None else todo

    # -- bayes: W&B's controller code, fed with the runs' results read from their folders ------

    def _adopt_recorded_runs(self) -> None:
        """A bayes sweep's plan is the runs proposed so far, as their records say."""
        recs = sorted(self.records.values(), key=lambda r: r.get("index", 0))
        self.plan = [PlannedRun(r["index"], r["key"], r["params"], r["dir"]) for r in recs]

    def _bayes_budget(self, retries: int) -> int:
        """How many new runs this call may propose."""
        cap = self.config.get("run_cap")
        room = (cap - len(self.plan)) if isinstance(cap, int) and cap > 0 else None
        mine = (self.options.count - retries) if self.options.count is not None else None
        budget = min(x for x in (room, mine) if x is not None)
        return max(0, budget)

    def _propose(self) -> PlannedRun:
        """The next run from W&B's bayes search (caller holds the lock)."""
        import numpy as np

        from timing_trainer.sweep.runs import _flatten_run_config, import_wandb_sweeps, run_key

        wandb_sweeps = import_wandb_sweeps()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import sweeps.bayes_search  # noqa: F401  (before seeding: its import draws numbers)
        metric = self.config["metric"]["name"]
        history = []
        for run in self.plan:
            rec = self.records.get(run.key) or {}
            status = rec.get("status", "running")
            state = {"finished": "finished", "failed": "failed"}.get(status, "running")
            summary = {metric: rec["metric"]} if rec.get("metric") is not None else {}
            history.append(wandb_sweeps.SweepRun(
                config={k: {"value": v} for k, v in run.params.items()},
                state=state, summaryMetrics=summary,
            ))
        if self.seed is not None:
            np.random.seed((self.seed + len(self.plan)) % 2**32)
        with warnings.catch_warnings():  # the Gaussian process's convergence chatter
            warnings.simplefilter("ignore")
            proposed = wandb_sweeps.next_run(self.config, history, validate=False)
        params = _flatten_run_config(proposed.config, list(self.config["parameters"]))
        index = len(self.plan)
        run = PlannedRun(index, run_key(params), params, f"{index:03d}-{run_key(params)}")
        self.plan.append(run)
        return run

    # -- commands -------------------------------------------------------------------------

    def command_for(self, run: PlannedRun, run_dir: Path) -> list[str]:
        program = self.config.get("program")
        args_json_file = None
        if uses_macro(self.config.get("command"), "args_json_file"):
            args_json_file = str((run_dir / "args.json").resolve())
        command = build_command(
            self.config.get("command"), run.params,
            program=str(program) if program is not None else None,
            args_json_file=args_json_file,
            environ={**os.environ, **self.options.extra_env},
        )
        if self.options.wandb_mode == "disabled":
            command = disable_wandb_reporting(command)
        return command

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

    # -- running --------------------------------------------------------------------------

    def _run_dir(self, run: PlannedRun) -> Path:
        known = self.records.get(run.key, {}).get("dir")
        return self.runs_dir / (known or run.dir_name)

    def execute(self, run: PlannedRun, gpu: str | None) -> dict[str, Any]:
        """Run one run to its end (or until stopped) and record it."""
        run_dir = self._run_dir(run)
        run_dir.mkdir(parents=True, exist_ok=True)
        stale = run_dir / RESULTS_FILE
        if stale.exists():  # an earlier attempt's results must not be read as this one's
            stale.unlink()
        previous = self.records.get(run.key, {})
        command = self.command_for(run, run_dir)
        if uses_macro(self.config.get("command"), "args_json_file"):
            atomic_write_json(run_dir / "args.json", run.params)
        record: dict[str, Any] = {
            "sweep": self.name,
            "index": run.index,
            "key": run.key,
            "dir": run_dir.name,
            "params": run.params,
            "command": command,
            "gpu": gpu,
            "status": "running",
            "attempts": int(previous.get("attempts", 0)) + 1,
            "started_at": now_iso(),
        }
        log_path = run_dir / LOG_FILE
        env = self.env_for(run, run_dir, gpu)
        start = time.monotonic()
        with open(log_path, "ab") as log:
            header = f"=== attempt {record['attempts']} at {record['started_at']}: {shlex.join(command)}\n"
            log.write(header.encode("utf-8"))
            log.flush()
            try:
                proc = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    cwd=self.cwd, env=env, start_new_session=True,
                )
            except OSError as exc:
                proc = None
                returncode = 127
                log.write(f"cannot start the command: {exc}\n".encode())
            if proc is not None:
                record["pid"] = proc.pid
                self._write_record(run_dir, record)
                with self._lock:
                    self._active[run.key] = proc
                if self._stop.is_set():
                    self._terminate(proc)
                returncode = proc.wait()
                with self._lock:
                    self._active.pop(run.key, None)
        wall = time.monotonic() - start
        results = read_json(run_dir / RESULTS_FILE)
        if self._stop.is_set() and returncode != 0:
            status, kind, message = "interrupted", "interrupted", "stopped by the agent (Ctrl-C)"
        elif returncode == 127 and proc is None:
            status, kind, message = "failed", "not_started", last_log_line(log_path)
        else:
            status, kind, message = classify(returncode, results, log_path)
        record.update(
            metric=_metric_value(results, (self.config.get("metric") or {}).get("name")),
            status=status, exit_code=returncode, reason_kind=kind, reason=message,
            wall_time=round(wall, 3), ended_at=now_iso(),
            results_file=RESULTS_FILE if results is not None else None,
        )
        record.pop("pid", None)
        self._write_record(run_dir, record)
        with self._lock:
            self.records[run.key] = record
            self._write_state()
        return record

    def _write_record(self, run_dir: Path, record: dict[str, Any]) -> None:
        atomic_write_json(run_dir / RECORD_FILE, record)

    def _write_state(self) -> None:
        """The sweep's state file (caller holds the lock)."""
        runs = []
        for run in self.plan:
            rec = self.records.get(run.key)
            runs.append({
                "index": run.index, "key": run.key,
                "dir": rec.get("dir") if rec else run.dir_name,
                "status": rec["status"] if rec else "pending",
                "reason_kind": rec.get("reason_kind") if rec else None,
                "reason": rec.get("reason") if rec else None,
                "exit_code": rec.get("exit_code") if rec else None,
                "wall_time": rec.get("wall_time") if rec else None,
                "attempts": rec.get("attempts", 0) if rec else 0,
                "params": run.params,
            })
        counts = Counter(r["status"] for r in runs)
        state = {
            "sweep": self.name,
            "sweep_file": str(self.sweep_file) if self.sweep_file else None,
            "method": self.config["method"],
            "seed": self.seed,
            "total_runs": len(runs),
            "counts": dict(counts),
            "updated_at": now_iso(),
            "runs": runs,
        }
        atomic_write_json(self.runs_dir / STATE_FILE, state)

    def _terminate(self, proc: subprocess.Popen) -> None:
        """SIGINT to the child's process group, SIGKILL after a grace period."""
        for sig, wait in ((signal.SIGINT, KILL_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                return
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            try:
                proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            active = list(self._active.values())
        threads = [threading.Thread(target=self._terminate, args=(p,)) for p in active]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def run(self, out=None) -> SweepOutcome:
        """Run every pending run (at most `count`), one worker per GPU (CPU: one at a time)."""
        out = out or sys.stderr
        self.load_records()
        bayes = self.config["method"] == "bayes"
        if bayes:
            self._adopt_recorded_runs()
        todo = self.pending()
        new_runs = self._bayes_budget(len(todo)) if bayes else 0
        skipped = sum(1 for r in self.plan if self.records.get(r.key, {}).get("status") == "finished")
        start = time.monotonic()
        if self.options.dry_run:
            self._print_dry_run(todo, skipped)
            return SweepOutcome(self.records, [], skipped, False, 0.0)
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        lock = _lock_runs_dir(self.runs_dir)
        with self._lock:
            self._write_state()
        print(f"sweep {self.name}: {len(self.plan)} runs, {skipped} finished earlier, "
              f"{len(todo) + new_runs} to run; runs in {self.runs_dir}", file=out)
        queue = list(todo)
        attempted: list[str] = []
        proposals = [new_runs]
        bar = _progress_bar(len(todo) + new_runs, self.name, out, self.options.progress)

        errors: list[BaseException] = []

        def work(gpu: str | None) -> None:
            while not self._stop.is_set():
                with self._lock:
                    if queue:
                        run = queue.pop(0)
                    elif proposals[0] > 0:
                        proposals[0] -= 1
                        run = self._propose()
                    else:
                        return
                    attempted.append(run.key)
                record = self.execute(run, gpu)
                with self._lock:
                    bar.update(1)
                    bar.write(_run_line(record, len(self.plan)), file=out)

        slots = self.options.gpus or [None]
        finished = [0]
        all_done = threading.Event()

        def worker(gpu: str | None) -> None:
            try:
                work(gpu)
            except BaseException as exc:  # the agent's own fault: stop everything, report it
                errors.append(exc)
                self.stop()
            finally:
                with self._lock:
                    finished[0] += 1
                    if finished[0] >= len(slots):
                        all_done.set()

        threads = [threading.Thread(target=worker, args=(g,), daemon=True) for g in slots]
        interrupted = False
        restore = _sigterm_as_interrupt()
        try:
            for t in threads:
                t.start()
            # Wait on an Event, not Thread.join: a Ctrl-C landing inside join(timeout) can mark
            # a running thread as stopped (CPython 3.11), and the agent would not wait for it.
            while not all_done.wait(0.2):
                pass
        except KeyboardInterrupt:
            interrupted = True
            bar.write(f"interrupted: stopping {len(self._active)} running run(s)...", file=out)
            self.stop()
            with self._lock:  # threads that never started will not say they are done
                finished[0] += sum(1 for t in threads if t.ident is None)
                if finished[0] >= len(slots):
                    all_done.set()
            all_done.wait()
        finally:
            restore()
            bar.close()
            lock.close()
        if errors:
            raise SweepFileError(f"the agent stopped: {type(errors[0]).__name__}: {errors[0]}")
        outcome = SweepOutcome(self.records, attempted, skipped, interrupted,
                               time.monotonic() - start)
        print(summary_table(self, outcome), file=out)
        return outcome

    def _print_dry_run(self, todo: list[PlannedRun], skipped: int) -> None:
        if self.config["method"] == "bayes":
            print(f"# sweep {self.name} (bayes): {len(self.plan)} runs so far, {skipped} finished; "
                  "each new run is proposed from the results before it, so none can be printed")
        print(f"# sweep {self.name}: {len(self.plan)} runs, {skipped} finished earlier, "
              f"{len(todo)} would run (cwd {self.cwd})")
        gpus = self.options.gpus or [None]
        for i, run in enumerate(todo):
            run_dir = self._run_dir(run)
            prefix = f"CUDA_VISIBLE_DEVICES={gpus[i % len(gpus)]} " if gpus[0] is not None else ""
            print(f"{prefix}{shlex.join(self.command_for(run, run_dir))}")


def _metric_value(results: dict[str, Any] | None, name: str | None) -> float | None:
    """The sweep's metric from a run's results (`eval_metrics`, else a top-level key)."""
    if not results or not name:
        return None
    value = (results.get("eval_metrics") or {}).get(name, results.get(name))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _lock_runs_dir(runs_dir: Path):
    """One agent per runs folder: a second would run the same runs (use --gpus for several GPUs).

    An advisory `flock`, released by the kernel when the agent ends, even by SIGKILL, so a killed
    agent leaves no stale lock. Returns the open lock file (close it to release).
    """
    handle = open(runs_dir / ".agent.lock", "a+")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise SweepFileError(
            f"another agent is running the sweep in {runs_dir}; wait for it, or run one agent "
            "with --gpus 0,1,... to use several GPUs"
        ) from None
    return handle


def _sigterm_as_interrupt():
    """SIGTERM (SLURM's time limit, `kill`) stops the agent like Ctrl-C; returns the restorer."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def write(self, text: str, file=None) -> None:
        print(text, file=file or sys.stderr)

    def close(self) -> None:
        pass


def _progress_bar(total: int, name: str, out, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="run", file=out, dynamic_ncols=True)


def _short_params(params: dict[str, Any], limit: int = 110) -> str:
    """`k=v` pairs for the table; paths and Hub ids shown by their last part."""
    shown = []
    for key, value in params.items():
        if isinstance(value, (dict, list)):
            continue
        if isinstance(value, str) and "/" in value:
            value = value.rstrip("/").rsplit("/", 1)[-1]
        shown.append(f"{key}={value}")
    text = " ".join(shown)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _run_line(record: dict[str, Any], total: int) -> str:
    status = record["status"]
    reason = f" ({record['reason_kind']}: {record.get('reason') or ''})" if status != "finished" else ""
    return f"[{record['index'] + 1}/{total}] {status} in {record['wall_time']:.1f} s{reason}"


def summary_table(agent: LocalAgent, outcome: SweepOutcome) -> str:
    """The end-of-sweep table: every run's status, why the failed ones failed, and the time."""
    varying = [k for k, spec in agent.config["parameters"].items() if "values" in spec]
    lines = [f"{'run':<16} {'status':<11} {'time s':>8}  parameters / reason"]
    for run in agent.plan:
        rec = outcome.records.get(run.key)
        status = rec["status"] if rec else "pending"
        wall = f"{rec['wall_time']:.1f}" if rec and rec.get("wall_time") is not None else "-"
        shown = {k: run.params.get(k) for k in varying} or run.params
        text = _short_params(shown)
        if rec and status not in ("finished", "running"):
            text += f"  <- {rec.get('reason_kind')}: {rec.get('reason') or ''}"[:160]
        lines.append(f"{run.dir_name:<16} {status:<11} {wall:>8}  {text}")
    counts = Counter((outcome.records.get(r.key) or {}).get("status", "pending") for r in agent.plan)
    failed = Counter(
        (outcome.records.get(r.key) or {}).get("reason_kind") for r in agent.plan
        if (outcome.records.get(r.key) or {}).get("status") in ("failed", "interrupted")
    )
    why = ", ".join(f"{k}: {v}" for k, v in sorted(failed.items(), key=lambda kv: str(kv[0])))
    lines.append(
        f"{counts.get('finished', 0)} finished, {counts.get('failed', 0)} failed"
        + (f" ({why})" if why else "")
        + (f", {counts['interrupted']} interrupted" if counts.get("interrupted") else "")
        + (f", {counts['pending']} pending" if counts.get("pending") else "")
        + f" of {len(agent.plan)}; this call ran {len(outcome.attempted)} "
        f"({outcome.skipped} finished earlier) in {outcome.wall_time:.1f} s"
    )
    return "\n".join(lines)
