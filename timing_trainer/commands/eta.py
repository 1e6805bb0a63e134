"""`timing-trainer eta`: how much wall time a sweep in progress has left, and how far its
finished runs were from their predictions.

    timing-trainer eta RUNS_DIR --sweep SWEEP.yaml [--pilot DIR] [--only NAME=V1[,V2]]
        [--workers N] [--json]

For sweeps run by `wandb agent` (each run's folder holds a results file, matched to the sweep's
runs by the parameters in its config) and by the local agent (each run's `agent_record.json`):
the finished runs' wall times (a record's measured one; from a results file, time on the clock
plus the setup parts, labelled approximate) are replayed into the same live estimate that
`timing-trainer sweep` keeps (timing_trainer.sweep.agent.eta, eta_match).

This module also gives `timing-trainer sweep` its estimate's inputs (`eta_source`): a pilot's
per-run wall times (timing_trainer.pilot) and each run's work (the cost model's features).
Both import the sweeps package, so the agent cannot import them; the command line can.
Light at import: pandas, the cost model and the pilot load only when used.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path
from typing import Any

from timing_trainer.errors import CliError
from timing_trainer.runtime import exit_codes


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eta",
        help="the remaining wall time of a sweep in progress (wandb agent or local agent)",
        description="Match the runs in RUNS_DIR (run folders of `wandb agent`, or the local "
        "agent's runs folder) to the runs of a sweep file, and print the predicted remaining "
        "wall time, the runs left, and how far the finished runs were from their predictions "
        "(from a pilot, or fitted on the finished runs). Exit status: 0, or 2 for bad input.",
    )
    parser.add_argument("runs_dir", metavar="RUNS_DIR", help="folder holding the sweep's runs")
    parser.add_argument("--sweep", required=True, metavar="YAML", help="the sweep file")
    parser.add_argument("--pilot", metavar="DIR", help="a pilot's folder (timing-trainer pilot): "
                        "its per-run predictions, scaled by what the finished runs measured")
    parser.add_argument("--only", action="append", metavar="NAME=V1[,V2]",
                        help="count only the runs whose parameter NAME has one of these values "
                        "(repeatable), as sweep --only")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="agents running the sweep in parallel (default 1)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


# -- the estimate's inputs (also for `timing-trainer sweep`) -------------------------------------

def eta_source(config: dict[str, Any], sweep_file: str, pilot_dir: str | None,
               cwd: Path) -> Any:
    """What the live estimate starts from: the pilot's predictions (by run key) where `--pilot`
    is given, and the runs' work where the sweep's runs name a task and a model."""
    from timing_trainer.sweep.agent.eta_source import EtaSource

    pilot = pilot_walls(config, sweep_file, pilot_dir) if pilot_dir else {}
    params = config.get("parameters") or {}
    glue_like = "task_name" in params and "model_name_or_path" in params
    works = (lambda runs: run_works(runs, cwd, sweep_file)) if glue_like else None
    return EtaSource(pilot=pilot, works=works, label=pilot_dir or "")


def pilot_walls(config: dict[str, Any], sweep_file: str, pilot_dir: str) -> dict[str, float]:
    """{run key: predicted wall s} from the pilot in `pilot_dir` (one line where it cannot)."""
    from timing_trainer.sweep.agent.plan import PlannedRun
    from timing_trainer.sweep.config.runs import expand_runs
    from timing_trainer.sweep.config.version import run_basis

    if config.get("method") != "grid":
        raise CliError("--pilot: only for grid sweeps (a random or bayes sweep's runs are drawn "
                       "as it goes, the pilot predicts the file's own list of runs)")
    if not Path(pilot_dir).is_dir():
        raise CliError(f"--pilot {pilot_dir}: no such folder (timing-trainer pilot SWEEP --out "
                       "DIR writes one)")
    from timing_trainer.pilot.estimate import predict_run_walls

    walls = predict_run_walls(pilot_dir, sweep_file, only=None)
    runs, basis = expand_runs(config), run_basis(config)
    return {PlannedRun.at(i, runs[i], basis).key: float(w) for i, w in walls.items()
            if isinstance(i, int) and 0 <= i < len(runs) and isinstance(w, (int, float))
            and math.isfinite(w) and w > 0}


def run_works(runs: list[dict[str, Any]], cwd: Path,
              sweep_file: str | Path | None = None) -> list[float | None]:
    """Each run's work, TFLOP: optimizer steps x (linear + attention) TFLOP per step x repeats
    (the cost model's features: steps from the rows of the run's `data_dir` as the program
    would read them from `cwd`, else the task table's sizes); None for a run the cost model
    cannot featurise (no task, a model of unknown size, data the program would refuse)."""
    try:
        return _works(runs, cwd, sweep_file)
    except Exception:  # any run the cost model trips on: without its work, the estimate
        if len(runs) <= 1:  # prices it at the finished runs' mean (the sweep never stops here)
            return [None] * len(runs)
        return [run_works([params], cwd, sweep_file)[0] for params in runs]


def _works(runs: list[dict[str, Any]], cwd: Path,
           sweep_file: str | Path | None) -> list[float | None]:
    from timing_trainer.costmodel.data_size import DataSizes
    from timing_trainer.costmodel.features import run_features
    from timing_trainer.costmodel.sweep_rows import runs_table

    table = runs_table(runs, device="cpu", gpu_name=None, world_size=1,
                       sizes=DataSizes(sweep_file, cwd))
    feats = run_features(table, "finetuning", (cwd,))
    work = (feats["steps"] * (feats["linear_tflop"] + feats["attention_tflop"])
            * table["finetuning_iters"].astype(float).clip(lower=1))
    return [float(w) if ok and math.isfinite(w) and w > 0 else None
            for w, ok in zip(work, feats["has_shape"])]


# -- the command ----------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    from timing_trainer.sweep.agent.eta import Eta
    from timing_trainer.sweep.agent.eta_match import replay
    from timing_trainer.sweep.config.runs import load_sweep_file
    from timing_trainer.sweep.config.select import parse_only

    runs_dir = Path(args.runs_dir)
    if not runs_dir.is_dir():
        raise CliError(f"{runs_dir}: no such folder (the folder that holds the sweep's runs)")
    if args.workers < 1:
        raise CliError("--workers must be at least 1")
    only = parse_only(args.only)
    config = load_sweep_file(args.sweep)
    plan = _plan(config, runs_dir)
    selected = _select(plan, only)
    source = eta_source(config, args.sweep, args.pilot, Path.cwd())
    found, unreadable = _found(runs_dir, plan)
    wanted = {run.index for run in selected}
    used = [f for f in found if f.index is not None and (f.index in wanted
                                                          or f.status == "finished")]
    needed = wanted | {f.index for f in used}
    eta = Eta(sorted(wanted), workers=args.workers, clock=time.time,
              pilot={r.index: source.pilot[r.key] for r in plan if r.key in source.pilot},
              work=dict(zip(sorted(needed), source.work_of([plan[i].params
                                                            for i in sorted(needed)]))))
    replay(eta, used)
    report = _report(config, args, runs_dir, eta, found, wanted, unreadable)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_text(report, eta))
    return exit_codes.OK


def _plan(config: dict[str, Any], runs_dir: Path) -> list[Any]:
    """The sweep's runs in W&B's order (a random sweep's as the local agent drew them)."""
    from timing_trainer.sweep.agent.books import STATE_FILE
    from timing_trainer.sweep.agent.outcomes import read_json
    from timing_trainer.sweep.agent.plan import PlannedRun
    from timing_trainer.sweep.config.runs import expand_runs, run_cap
    from timing_trainer.sweep.config.version import run_basis

    seed = count = None
    if config["method"] != "grid":
        state = read_json(runs_dir / STATE_FILE) or {}
        if config["method"] == "bayes" or not isinstance(state.get("seed"), int):
            raise CliError(f"eta lists the runs left of a grid sweep, or of a random sweep the "
                           f"local agent runs (its {STATE_FILE} keeps the seed); this "
                           f"{config['method']} sweep's runs are drawn as it goes")
        seed = state["seed"]
        count = None if run_cap(config) is not None else state.get("total_runs")
    runs, basis = expand_runs(config, seed=seed, count=count), run_basis(config)
    return [PlannedRun.at(index, params, basis) for index, params in enumerate(runs)]


def _select(plan: list[Any], only: dict[str, list[str]]) -> list[Any]:
    from timing_trainer.sweep.config.select import select_runs

    if not only:
        return plan
    kept = {id(params) for params in select_runs([run.params for run in plan], only)}
    chosen = [run for run in plan if id(run.params) in kept]
    if not chosen:
        raise CliError("--only: no run of the sweep has these values")
    return chosen


def _found(runs_dir: Path, plan: list[Any]) -> tuple[list[Any], int]:
    """Every run in the folder (agent records first; results files of folders without one),
    one per sweep run, and how many results files could not be read."""
    from timing_trainer.analysis.table.run_folders import read_results, results_files
    from timing_trainer.results.schema import RESULTS_FILENAME
    from timing_trainer.sweep.agent.books import read_records
    from timing_trainer.sweep.agent.eta_match import from_record, from_results, one_per_run

    records, _ = read_records(runs_dir)
    keys = {run.key: run.index for run in plan}
    found = [from_record(record, keys) for record in records.values()]
    recorded = {os.path.realpath(runs_dir / record["dir"]) for record in records.values()}
    pairs = [(run.index, run.params) for run in plan]
    unreadable = 0
    for path in results_files(runs_dir):
        if os.path.realpath(os.path.dirname(path)) in recorded:
            continue
        try:
            results = read_results(path)
        except Exception:  # any content: counted, the others go on (as the analysis does)
            unreadable += 1
            continue
        name = os.path.relpath(path, runs_dir)  # the folder, or folder/file for a later run's
        name = os.path.dirname(name) if os.path.basename(path) == RESULTS_FILENAME else name
        found.append(from_results(results, name, pairs, os.path.getmtime(path)))
    return one_per_run(found), unreadable


def _report(config: dict[str, Any], args: argparse.Namespace, runs_dir: Path, eta: Any,
            found: list[Any], wanted: set[int], unreadable: int) -> dict[str, Any]:
    """What `eta` says, as the JSON it prints (the text is made from it)."""
    mine = [f for f in found if f.index in wanted]
    count = {s: sum(1 for f in mine if f.status == s) for s in ("finished", "running")}
    failed = sum(1 for f in mine if f.status not in ("finished", "running"))
    errors = eta.errors()
    outcomes = [f for f in found if f.outcome is not None]
    return {
        "sweep": str(config.get("name") or Path(args.sweep).stem), "sweep_file": args.sweep,
        "runs_dir": str(runs_dir), "n_runs": len(wanted), **count, "failed": failed,
        **eta.remaining().to_dict(),
        "pilot": args.pilot,
        "median_abs_error": round(statistics.median(abs(e) for e in errors), 4) if errors
        else None,
        "median_error": round(statistics.median(errors), 4) if errors else None,
        "runs": [_run_entry(f) for f in sorted(outcomes, key=lambda f: f.index)],
        "unmatched": [{"name": f.name, "why": f.why} for f in found if f.index is None],
        "unreadable_results": unreadable,
    }


def _run_entry(found: Any) -> dict[str, Any]:
    outcome = found.outcome
    return {"index": found.index, "name": found.name, "wall_s": round(outcome.wall, 3),
            "wall_source": found.wall_source,
            "predicted_wall_s": None if outcome.predicted is None else round(outcome.predicted, 3),
            "prediction_error": None if outcome.error is None else round(outcome.error, 4),
            "prediction_basis": outcome.basis}


def _text(report: dict[str, Any], eta: Any) -> str:
    """The report as a few lines and a table of the finished runs."""
    from timing_trainer.sweep.agent.eta import Remaining

    remaining = Remaining(report["remaining_s"], report["remaining_low_s"],
                          report["remaining_high_s"], report["runs_left"], report["workers"],
                          report["basis"], report["interval_note"] or "")
    failed = (f", {report['failed']} failed (counted as left: the local agent runs them "
              "again)" if report["failed"] else "")
    lines = [f"sweep {report['sweep']}: {report['n_runs']} runs; {report['finished']} finished, "
             f"{report['running']} running{failed}", remaining.text()]
    if report["runs_left"]:
        lines.append(f"  prediction: {report['basis']}"
                     + (f"; {report['interval_note']}" if report["interval_note"] else ""))
    summary = eta.summary()
    if summary:
        lines.append(summary)
    if any(r["wall_source"] != "agent record" for r in report["runs"]):
        lines.append("  wall times read from results files are approximate (time on the clock "
                     "plus the setup parts): start-up before the program's clock and its final "
                     "writes are not in them")
    if report["runs"]:
        lines.append(f"  {'run':<28} {'wall':>8} {'predicted':>10} {'error':>7}")
        lines += [_row(r) for r in report["runs"]]
    if report["unmatched"]:
        first = report["unmatched"][0]
        lines.append(f"{len(report['unmatched'])} run(s) in the folder match no run of the "
                     f"sweep, e.g. {first['name']}: {first['why']}")
    if report["unreadable_results"]:
        lines.append(f"{report['unreadable_results']} results file(s) could not be read")
    return "\n".join(lines)


def _row(entry: dict[str, Any]) -> str:
    from timing_trainer.runtime.durations import duration

    error = entry["prediction_error"]
    return (f"  {entry['name'][:28]:<28} {duration(entry['wall_s']):>8} "
            f"{duration(entry['predicted_wall_s']):>10} "
            f"{'-' if error is None else f'{error:+.0%}':>7}")
