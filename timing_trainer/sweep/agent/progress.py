"""What the local agent prints: a progress bar, one line per run as it ends, and a summary (or,
for `--dry-run`, the commands it would run).

The summary lists the runs this call touched (a `--count 1` call on a 72-run grid prints one
row, not 72) and ends with one line over the whole sweep: how many runs are finished, failed
(by reason), interrupted or pending, and how much of the runs' wall time was on the clock;
before it, how far the runs this call finished were from their predictions (`eta`).
Parameter values are masked first (`timing_trainer.runtime.masking`): a token given as a parameter is
never printed.
"""

from __future__ import annotations

import shlex
from collections import Counter
from typing import Any

from timing_trainer.runtime.durations import duration
from timing_trainer.runtime.masking import mask_mapping
from timing_trainer.sweep.agent.walltime import describe_split, total_split


def progress_bar(total: int, name: str, out, enabled: bool):
    """tqdm's bar on `out`; disabled (`--no-progress`, nothing to run) it draws nothing, and its
    `write(text, file=out)` still prints each run's line."""
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="run", file=out, dynamic_ncols=True,
                disable=not enabled or total == 0)


def short_params(params: dict[str, Any], limit: int = 110) -> str:
    """`k=v` pairs for the table; paths and Hub ids shown by their last part; secrets masked."""
    shown = []
    for key, value in mask_mapping(params).items():
        if isinstance(value, (dict, list)):
            continue
        if isinstance(value, str) and "/" in value:
            value = value.rstrip("/").rsplit("/", 1)[-1]
        shown.append(f"{key}={value}")
    text = " ".join(shown)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def run_line(record: dict[str, Any], total: int, eta: str = "") -> str:
    """`[3/72] finished in 18.2 s (on clock 4.9 s (27%), startup 3.1 s, setup 2.0 s)`, then
    its prediction and error where it had one (`predicted 10s, +82%`) and the live estimate
    (`eta: 12m30s remaining (5 runs left)`, see `eta`)."""
    status = record["status"]
    if status != "finished":
        detail = f" ({record['reason_kind']}: {record.get('reason') or ''})"
    else:
        split = describe_split(record)
        detail = f" ({split})" if split else ""
    line = f"[{record['index'] + 1}/{total}] {status} in {record['wall_time']:.1f} s{detail}"
    error = record.get("prediction_error")
    if error is not None and record.get("predicted_wall_time") is not None:
        line += f"; predicted {duration(record['predicted_wall_time'])}, {error:+.0%}"
    return line + (f"; {eta}" if eta else "")


def _row(run: Any, rec: dict[str, Any] | None, varying: list[str]) -> str:
    status = rec["status"] if rec else "pending"
    wall = f"{rec['wall_time']:.1f}" if rec and rec.get("wall_time") is not None else "-"
    share = rec.get("on_clock_share") if rec else None
    clock = f"{share:.0%}" if isinstance(share, (int, float)) else "-"
    shown = {k: run.params.get(k) for k in varying} or run.params
    text = short_params(shown)
    if rec and status not in ("finished", "running"):
        text += f"  <- {rec.get('reason_kind')}: {rec.get('reason') or ''}"[:160]
    return f"{run.dir_name:<16} {status:<11} {wall:>8} {clock:>6}  {text}"


def _total_line(agent: Any, outcome: Any) -> str:
    records = [outcome.records.get(r.key) or {} for r in agent.plan]
    counts = Counter(rec.get("status", "pending") for rec in records)
    failed = Counter(rec.get("reason_kind") for rec in records if rec.get("status") == "failed")
    why = ", ".join(f"{k}: {v}" for k, v in sorted(failed.items(), key=lambda kv: str(kv[0])))
    line = (
        f"{counts.get('finished', 0)} finished, {counts.get('failed', 0)} failed"
        + (f" ({why})" if why else "")
        + (f", {counts['interrupted']} interrupted" if counts.get("interrupted") else "")
        + (f", {counts['pending']} pending" if counts.get("pending") else "")
        + f" of {len(agent.plan)}; this call ran {len(outcome.attempted)} "
        f"({outcome.skipped} finished earlier) in {outcome.wall_time:.1f} s"
    )
    split = total_split([outcome.records[k] for k in outcome.attempted if k in outcome.records])
    return line + (f"; {split}" if split else "")


def summary_table(agent: Any, outcome: Any) -> str:
    """The runs this call touched (status, wall time, on-clock share, parameters or the reason
    it failed), then one line over the whole sweep."""
    varying = [k for k, spec in agent.config["parameters"].items() if "values" in spec]
    touched = set(outcome.attempted)
    lines = []
    if touched:
        lines.append(f"{'run':<16} {'status':<11} {'time s':>8} {'clock':>6}  parameters / reason")
        lines += [_row(run, outcome.records.get(run.key), varying)
                  for run in agent.plan if run.key in touched]
    eta = getattr(agent, "eta", None)
    if eta is not None and eta.summary():
        lines.append(eta.summary())
    lines.append(_total_line(agent, outcome))
    return "\n".join(lines)


def print_dry_run(agent: Any, todo: list[Any], skipped: int) -> None:
    """`--dry-run`: the commands of the runs a call would run, secrets masked, on stdout."""
    if agent.config["method"] == "bayes":
        print(f"# sweep {agent.name} (bayes): {len(agent.plan)} runs so far, {skipped} finished; "
              "each new run is proposed from the results before it, so none can be printed")
    print(f"# sweep {agent.name}: {len(agent.plan)} runs, {skipped} finished earlier, "
          f"{len(todo)} would run (cwd {agent.cwd})")
    gpus = agent.options.gpus or [None]
    for i, run in enumerate(todo):
        command = agent.attempts.command_for(run, agent.run_dir(run), masked=True)
        prefix = f"CUDA_VISIBLE_DEVICES={gpus[i % len(gpus)]} " if gpus[0] is not None else ""
        print(f"{prefix}{shlex.join(command)}")
