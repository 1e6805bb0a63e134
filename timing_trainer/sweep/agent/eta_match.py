"""A sweep's runs found in a runs folder, matched to the sweep's planned runs, and replayed into
the live estimate: what `timing-trainer eta` reads.

Two kinds of folder. The local agent's: each run's `agent_record.json` names its run key and its
wall time (exact). `wandb agent`'s: each run writes its own folder with a results file whose
`config` holds the program's arguments; it is matched to the one sweep run whose parameters all
agree with that config where the config records them (values compare as `--only` compares
them: text case-folded, numbers by value; a task by its canonical name; a path by its trailing
components, since a run may record the resolved path). No such run, or several (the config
lacks a parameter that tells them apart), leaves it unmatched with the reason. Its wall time is
approximated by the time on the clock plus the setup parts (`setup_time_parts`): interpreter
start-up before the program's first clock, evaluation bookkeeping and the final writes are not
in it, so it reads low, and is labelled so.

The replay feeds the runs' starts and ends to the estimate in the order they happened (their
timestamps), so each finished run is judged against the prediction it would have had live.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from timing_trainer.errors import UnknownTaskError
from timing_trainer.sweep.agent.eta import Eta, Outcome
from timing_trainer.sweep.agent.walltime import on_clock_seconds
from timing_trainer.sweep.config.select import value_matches
from timing_trainer.tasks import get_task

RECORDED = "agent record"
APPROXIMATE = "approximate: on clock + setup parts, from the results"


@dataclass
class FoundRun:
    """One run found in the folder: the sweep run it is (None: unmatched, `why`), its status,
    wall time and where that came from, and when it started and ended (epoch seconds)."""

    name: str
    index: int | None
    status: str
    wall: float | None = None
    wall_source: str = ""
    started: float | None = None
    ended: float | None = None
    why: str = ""
    outcome: Outcome | None = None  # set by `replay` for a finished run


def epoch(text: Any) -> float | None:
    """An ISO timestamp (`...Z` too) as epoch seconds; None where it is not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo else None


def from_record(record: dict[str, Any], keys: dict[str, int]) -> FoundRun:
    """A local agent's run record, matched by its run key."""
    wall = record.get("wall_time")
    index = keys.get(record["key"])
    return FoundRun(
        name=str(record.get("dir")), index=index, status=str(record["status"]),
        wall=float(wall) if isinstance(wall, (int, float)) else None, wall_source=RECORDED,
        started=epoch(record.get("started_at")), ended=epoch(record.get("ended_at")),
        why="" if index is not None else "its run key is not one of this sweep's runs "
        "(another version of the sweep, or other parameters)")


def approximate_wall(results: dict[str, Any]) -> float | None:
    """On-clock time plus the setup parts: a lower bound of the run's wall time."""
    on_clock = on_clock_seconds(results)
    parts = results.get("setup_time_parts")
    setup = sum(v for v in parts.values() if isinstance(v, (int, float)) and v >= 0) \
        if isinstance(parts, dict) else 0.0
    return None if on_clock is None else on_clock + setup


def from_results(results: dict[str, Any], name: str, runs: list[tuple[int, dict[str, Any]]],
                 mtime: float | None = None) -> FoundRun:
    """A results file (a `wandb agent` run), matched by its config's parameters."""
    config = results.get("config") if isinstance(results.get("config"), dict) else {}
    matches = [index for index, params in runs if _agrees(params, config)]
    index = matches[0] if len(matches) == 1 else None
    why = "" if index is not None else (
        "its config matches no run of this sweep" if not matches else
        f"its config matches {len(matches)} runs of this sweep (it does not record the "
        "parameters that tell them apart)")
    status = str(results.get("status") or "unknown")
    wall = approximate_wall(results) if status == "finished" else None
    started = epoch(results.get("created_at"))
    started = started if started is not None else mtime
    ended = started + wall if started is not None and wall is not None else mtime
    return FoundRun(name=name, index=index, status=status, wall=wall,
                    wall_source=APPROXIMATE if wall is not None else "", started=started,
                    ended=ended, why=why)


def _agrees(params: dict[str, Any], config: dict[str, Any]) -> bool:
    return all(same_value(name, value, config[name])
               for name, value in params.items() if name in config)


def same_value(name: str, wanted: Any, recorded: Any) -> bool:
    """Whether a run's recorded value is the sweep's value (see the module docstring)."""
    if wanted is None or recorded is None:
        return wanted is recorded
    if name == "task_name":
        try:
            return get_task(str(wanted)).name == get_task(str(recorded)).name
        except UnknownTaskError:
            pass
    if value_matches(recorded, [str(wanted).lower()]) or value_matches(
            wanted, [str(recorded).lower()]):
        return True
    if isinstance(wanted, str) and isinstance(recorded, str) and ("/" in wanted or "/" in recorded):
        a, b = _parts(wanted), _parts(recorded)
        short, long = (a, b) if len(a) <= len(b) else (b, a)
        return bool(short) and long[len(long) - len(short):] == short
    return False


def _parts(path: str) -> list[str]:
    return [p for p in os.path.normpath(path).split(os.sep) if p not in ("", ".")]


def replay(eta: Eta, found: list[FoundRun]) -> None:
    """Feed the matched runs to `eta` in the order they happened: starts and ends by time (an
    end before a start at the same moment), runs without timestamps by their index, after."""
    events = []
    for run in found:
        if run.index is None:
            continue
        if run.status == "finished" and run.wall is not None:
            start = run.started if run.started is not None else run.ended
            end = run.ended if run.ended is not None else start
            # timestamps in whole seconds: an end no later than its own start goes after
            # every start of that moment, never before its own
            events.append((start, _START, run))
            events.append((end, _END if start is None or end > start else _LATE_END, run))
        elif run.status == "running":
            events.append((run.started, _START, run))
    events.sort(key=_event_order)
    for moment, kind, run in events:
        if kind == _START:
            eta.start(run.index, at=moment)
        else:
            run.outcome = eta.finish(run.index, run.wall)


_END, _START, _LATE_END = 0, 1, 2  # at one moment: ends, then starts, then ends of those


def _event_order(event: tuple[float | None, int, FoundRun]) -> tuple:
    moment, kind, run = event
    if moment is None:  # no timestamps: by index, each start before its end
        return (1, run.index, 0 if kind == _START else 1)
    return (0, moment, kind, run.index)


_RANK = {"finished": 2, "running": 1}


def one_per_run(found: list[FoundRun]) -> list[FoundRun]:
    """Each sweep run once (a run run again has several folders or results files): a finished
    attempt first (the latest), else a running one, else the latest; unmatched runs as they are."""
    best: dict[int, FoundRun] = {}
    for run in found:
        if run.index is None:
            continue
        held = best.get(run.index)
        if held is None or (_RANK.get(run.status, 0), run.ended or 0.0) >= (
                _RANK.get(held.status, 0), held.ended or 0.0):
            best[run.index] = run
    return [r for r in found if r.index is None] + sorted(best.values(), key=lambda r: r.index)
