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

KEY is a hash of the whole command the run runs (program, command template, parameter values:
`sweep.config.version`), so a second invocation recognises its runs: finished ones are skipped,
the rest are run again. A changed sweep whose folder holds runs it would not count is refused in
one line naming what changed, unless `--force` (`versions`); records are checked as they are read
(`books`). Grid and random sweeps are expanded up front (`runs`);
a bayes sweep gets one run at a time from W&B's own bayes search (the `sweeps` package), fed with
the metric each finished run wrote in its `timing_results.json` (`eval_metrics`, else a top-level
key; a run without it counts as W&B counts a run without the metric).

This module plans the runs and keeps the books; one attempt at a run (its command, its child,
its record) is `attempt`, the workers over GPUs are `workers`. Both JSON files are written
atomically, and a run's record is the source of truth (the state file is rebuilt from the
records), so killing the agent at any moment loses no finished run. Ctrl-C (or SIGTERM) stops
the running children (`child`: SIGINT to each process group, SIGKILL after a grace period),
records the runs as interrupted, writes the summary and stops; further signals meanwhile are
absorbed (`stopping`). A write the file system refuses stops the agent in one line (`disk`);
runs failing alike before they start stop it after `--fail-fast` of them (`fail_fast`). W&B's
`early_terminate` is refused: W&B's agent applies it, this one cannot. A record left `running` by a killed agent whose child still lives on
this host makes a resume refuse, naming the pid (`liveness`). Secrets never reach the records,
the state, the log's command line or the printed commands (`redact`). `--only` restricts a call
to some runs (`select`); each run's line and the summary show its on-clock share (`walltime`).
Each run's line also shows the remaining runs' predicted wall time, refitted after every
finished run (`eta`, from a pilot or the finished runs, see `eta_source`), and each run's record
its prediction and error; the summary, how far the runs were from their predictions.

Exit status: 0 when every run attempted finished or failed for lack of memory (an out-of-memory
run is a measurement: that configuration does not fit that device); 1 when any other run failed
(crash, non-zero exit, a child interrupted by someone else); 130 when interrupted; 2 (one line)
for bad input and for a write the file system refused.
"""

from __future__ import annotations

import random
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.errors import FileSystemError, SweepFileError
from timing_trainer.runtime import exit_codes
from timing_trainer.sweep.agent.attempt import AttemptRunner, write_record
from timing_trainer.sweep.agent.bayes import propose_params, unmasked
from timing_trainer.sweep.agent.books import STATE_FILE, read_records, write_state
from timing_trainer.sweep.agent.child import Children
from timing_trainer.sweep.agent.disk import stopped_by, writing
from timing_trainer.sweep.agent.eta import Eta, Prediction
from timing_trainer.sweep.agent.eta_source import EtaSource, build_eta, record_fields
from timing_trainer.sweep.agent.fail_fast import FailFast
from timing_trainer.sweep.agent.liveness import live_child
from timing_trainer.sweep.agent.outcomes import read_json
from timing_trainer.sweep.agent.plan import WANDB_MODES, AgentOptions, PlannedRun
from timing_trainer.sweep.agent.progress import (
    print_dry_run,
    progress_bar,
    run_line,
    summary_table,
)
from timing_trainer.sweep.agent.runs_dir import check_runs_dir, lock_runs_dir
from timing_trainer.sweep.agent.stopping import StopSignals
from timing_trainer.sweep.agent.versions import check_version, superseded
from timing_trainer.sweep.agent.workers import run_workers
from timing_trainer.sweep.config.macros import uses_macro
from timing_trainer.sweep.config.runs import expand_runs, run_cap
from timing_trainer.sweep.config.select import select_runs
from timing_trainer.sweep.config.version import run_basis, sweep_definition, sweep_version

__all__ = ["STATE_FILE", "LocalAgent", "SweepOutcome", "default_runs_dir", "sweep_name"]
EARLY_TERMINATE = ("early_terminate: the local agent does not stop runs early; W&B's agent "
                   "applies it (`wandb agent`); remove it from the file to run the sweep here")


@dataclass
class SweepOutcome:
    """What an invocation did: the records of every run of the sweep, and this call's share."""

    records: dict[str, dict[str, Any]]  # by run key, every run known (earlier calls included)
    attempted: list[str]  # keys run by this invocation
    skipped: int  # finished earlier
    interrupted: bool
    wall_time: float
    stopped: str | None = None  # why the agent started no further run (--fail-fast)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return exit_codes.SIGINT  # Ctrl-C or SIGTERM alike: the agent stopped before its end
        for key in self.attempted:
            rec = self.records[key]
            if rec["status"] != "finished" and rec.get("reason_kind") != "oom":
                return exit_codes.FAILED
        return exit_codes.OK


def sweep_name(config: dict[str, Any], sweep_file: str | Path | None) -> str:
    name = str(config.get("name") or (Path(sweep_file).stem if sweep_file else "sweep"))
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "sweep"


def default_runs_dir(config: dict[str, Any], sweep_file: str | Path | None) -> Path:
    return Path("runs") / sweep_name(config, sweep_file)


class LocalAgent:
    """Runs one sweep config's runs as subprocesses; see the module docstring."""

    def __init__(self, config: dict[str, Any], options: AgentOptions, sweep_file: str | None = None):
        if options.wandb_mode not in WANDB_MODES:
            raise SweepFileError(f"--wandb must be one of {', '.join(WANDB_MODES)}")
        cap = run_cap(config)  # an odd `run_cap` is one line here, as in `sweeps validate`
        if config.get("early_terminate") is not None:
            raise SweepFileError(EARLY_TERMINATE)
        if config.get("method") == "bayes":
            if not options.count and cap is None:
                raise SweepFileError("a bayes sweep needs a run count: --count N or `run_cap`")
            if not isinstance(config.get("metric"), dict) or not config["metric"].get("name"):
                raise SweepFileError("a bayes sweep needs `metric: {name: ..., goal: ...}`")
            if options.only:
                raise SweepFileError("--only selects among runs listed ahead (grid, random); a "
                                     "bayes sweep proposes each run from the results before it")
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
        self._lock = threading.Lock()  # the plan, the records and the state file
        self.children = Children()
        self.definition = sweep_definition(config)
        self.version = sweep_version(config)
        self.basis = run_basis(config)
        self.attempts = AttemptRunner(config, options, self.name, self.cwd, self.children,
                                      self.version)
        self.records: dict[str, dict[str, Any]] = {}
        self.seed = self._resolve_seed()
        self.selected: set[str] | None = None  # run keys --only keeps (None: every run)
        self.plan = self._plan()
        # the pilot's and the cost model's inputs: set by the command line once this
        # constructor's cheaper checks have passed (commands.eta.eta_source)
        self.eta_source = EtaSource()
        self.eta: Eta | None = None  # the live estimate, from the start of the runs

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
        if self.config["method"] == "random" and run_cap(self.config) is None:
            count = self.options.count
        runs = expand_runs(self.config, seed=self.seed, count=count)
        plan = [PlannedRun.at(index, params, self.basis) for index, params in enumerate(runs)]
        if self.options.only:
            self.selected = self._select(plan)
        return plan

    def _select(self, plan: list[PlannedRun]) -> set[str]:
        """Keys of the runs `--only` keeps. The plan stays whole, so run folders keep the index
        they have in the full sweep and a later call without `--only` recognises them."""
        kept = select_runs([run.params for run in plan], self.options.only)
        if not kept:
            wanted = " ".join(f"{k}={','.join(v)}" for k, v in self.options.only.items())
            raise SweepFileError(f"--only {wanted}: no run of the sweep has these values")
        kept_ids = {id(params) for params in kept}
        return {run.key for run in plan if id(run.params) in kept_ids}

    def load_records(self) -> list[str]:
        """Every run record already on disk (the source of truth for resuming), checked; the
        notes to print (a finished run whose results are gone runs again)."""
        self.records, notes = read_records(self.runs_dir)
        return notes

    def check_version(self) -> str | None:
        """Refuse a changed sweep whose folder holds runs it would not count (see `versions`);
        the note to print under `--force`."""
        earlier = superseded(self.records, {run.key for run in self.plan}, self.version)
        return check_version(self.runs_dir, read_json(self.runs_dir / STATE_FILE), earlier,
                             self.definition, self.version, self.options.force)

    def pending(self) -> list[PlannedRun]:
        todo = [r for r in self.plan if self.records.get(r.key, {}).get("status") != "finished"
                and (self.selected is None or r.key in self.selected)]
        return todo[: self.options.count] if self.options.count is not None else todo

    def refuse_live_orphans(self) -> None:
        """A record left `running` whose child still runs on this host (the agent that started
        it was killed): starting the run again would put two processes in one folder."""
        for record in self.records.values():
            pid = live_child(record)
            if pid is not None:
                raise SweepFileError(
                    f"run {record.get('dir')} is still running as pid {pid} (its agent was "
                    f"stopped); wait for it or stop it (kill {pid}), then resume"
                )

    # -- bayes: W&B's controller code, fed with the runs' results read from their folders ------

    def _adopt_recorded_runs(self) -> None:
        """A bayes sweep's plan is the runs this version proposed so far, as their records say."""
        recs = sorted((r for r in self.records.values() if r.get("sweep_version") == self.version),
                      key=lambda r: r["index"])
        self.plan = [PlannedRun(r["index"], r["key"], unmasked(self.config, r["params"]), r["dir"])
                     for r in recs]

    def _bayes_budget(self, retries: int) -> int:
        """How many new runs this call may propose (`__init__` made sure of a count or a cap)."""
        cap = run_cap(self.config)
        room = (cap - len(self.plan)) if cap is not None else None
        mine = (self.options.count - retries) if self.options.count is not None else None
        budget = min(x for x in (room, mine) if x is not None)
        return max(0, budget)

    def _propose(self) -> PlannedRun:
        """The next run from W&B's bayes search (caller holds the lock)."""
        params = propose_params(self.config, self.plan, self.records, self.seed)
        run = PlannedRun.at(len(self.plan), params, self.basis)
        self.plan.append(run)
        if self.eta is not None:
            self.eta.add_run(run.index, self.eta_source.work_of([params])[0])
        return run

    # -- running --------------------------------------------------------------------------

    def _run_dir(self, run: PlannedRun) -> Path:
        known = self.records.get(run.key, {}).get("dir")
        return self.runs_dir / (known or run.dir_name)

    def execute(self, run: PlannedRun, gpu: str | None) -> dict[str, Any]:
        """Run one run to its end (or until stopped) and record it (see `attempt`)."""
        attempt = self.records.get(run.key, {}).get("attempts", 0) + 1
        run_dir = self._run_dir(run)
        with self._lock:
            prediction = self.eta.start(run.index) if self.eta is not None else None
        record = self.attempts.run(run, run_dir, attempt, gpu)
        with self._lock:
            if prediction is not None:
                self._judge(run, run_dir, record, prediction)
            self.records[run.key] = record
            self._write_state()
        return record

    def _judge(self, run: PlannedRun, run_dir: Path, record: dict[str, Any],
               prediction: Prediction) -> None:
        """The run's prediction and error into its record, and a finished run's wall time into
        the estimate (caller holds the lock)."""
        outcome = None
        if record["status"] == "finished" and record.get("wall_time") is not None:
            outcome = self.eta.finish(run.index, record["wall_time"])
        else:
            self.eta.drop(run.index)
        record.update(record_fields(prediction, outcome))
        write_record(run_dir, record)

    def run_dir(self, run: PlannedRun) -> Path:
        """Where `run` runs (its recorded folder, else `NNN-KEY`)."""
        return self._run_dir(run)

    def _write_state(self) -> None:
        """The sweep's state file (caller holds the lock)."""
        head = {"sweep": self.name,
                "sweep_file": str(self.sweep_file) if self.sweep_file else None,
                "sweep_version": self.version, "definition": self.definition,
                "method": self.config["method"], "seed": self.seed}
        write_state(self.runs_dir, head, self.plan, self.records)

    def _again(self) -> str:
        """The command that resumes this sweep, for the one-line messages."""
        return f"timing-trainer sweep {self.sweep_file or '...'} --runs-dir {self.runs_dir}"

    def run(self, out=None) -> SweepOutcome:
        """Run every pending run (at most `count`), one worker per GPU (CPU: one at a time)."""
        out = out or sys.stderr
        notes = self.load_records()
        if self.config["method"] == "bayes":
            self._adopt_recorded_runs()
        notes += [note for note in [self.check_version()] if note]
        check_runs_dir(self.runs_dir, create=not self.options.dry_run)
        if self.options.dry_run:
            todo = self.pending()
            print_dry_run(self, todo, self._skipped())
            return SweepOutcome(self.records, [], self._skipped(), False, 0.0)
        try:
            return self._run_locked(notes, out)
        except FileSystemError as exc:
            raise stopped_by(exc, self._again()) from None

    def _skipped(self) -> int:
        return sum(1 for r in self.plan if self.records.get(r.key, {}).get("status") == "finished")

    def _run_locked(self, notes: list[str], out) -> SweepOutcome:
        """The runs, with the runs folder locked (one agent per folder)."""
        with writing(self.runs_dir / ".agent.lock"):
            lock = lock_runs_dir(self.runs_dir)
        try:
            self.refuse_live_orphans()  # under the lock: no other agent can own such a child
            todo = self.pending()
            new_runs = self._bayes_budget(len(todo)) if self.config["method"] == "bayes" else 0
            self.eta = build_eta(self.plan, todo, self.records, self.eta_source,
                                 workers=len(self.options.gpus or [None]), unplanned=new_runs)
            with self._lock:
                self._write_state()
            for note in notes:
                print(note, file=out)
            print(f"sweep {self.name}: {len(self.plan)} runs, {self._skipped()} finished "
                  f"earlier, {len(todo) + new_runs} to run; runs in {self.runs_dir}", file=out)
            if todo or new_runs:
                print(self.eta.remaining().text(), file=out)
            with StopSignals():  # later signals wait until the summary is out
                outcome = self._run_workers(list(todo), new_runs, self._skipped(), out)
                print(summary_table(self, outcome), file=out)
                if outcome.stopped:
                    print(outcome.stopped, file=out)
        finally:
            lock.close()
        return outcome

    def _next_run(self, queue: list[PlannedRun], proposals: list[int]) -> PlannedRun | None:
        """The next run to start (caller holds the lock): queued first, then bayes proposals."""
        if queue:
            return queue.pop(0)
        if proposals[0] > 0:
            proposals[0] -= 1
            return self._propose()
        return None

    def _run_workers(self, queue: list[PlannedRun], new_runs: int, skipped: int,
                     out) -> SweepOutcome:
        """Workers (one per GPU slot, see `workers`) take runs until none is left or the agent
        is stopped."""
        start = time.monotonic()
        attempted: list[str] = []
        proposals = [new_runs]
        bar = progress_bar(len(queue) + new_runs, self.name, out, self.options.progress)
        fail_fast = FailFast(self.options.fail_fast)

        def take() -> PlannedRun | None:
            with self._lock:
                if fail_fast.reason is not None:
                    return None
                run = self._next_run(queue, proposals)
                if run is not None:
                    attempted.append(run.key)
                return run

        def work(run: PlannedRun, gpu: str | None) -> None:
            record = self.execute(run, gpu)
            with self._lock:
                bar.update(1)
                bar.write(run_line(record, len(self.plan), self.eta.remaining().text()),
                          file=out)
                fail_fast.observe(record, run.params)

        try:
            interrupted = run_workers(self.options.gpus or [None], take, work, self.children,
                                      say=lambda text: bar.write(text, file=out))
        finally:
            bar.close()
        stopped = fail_fast.message(self._again()) if fail_fast.reason else None
        return SweepOutcome(self.records, attempted, skipped, interrupted,
                            time.monotonic() - start, stopped)
