"""What a sweep runs, as one value: its definition, the version hash of it, and what changed.

Before this, the local agent knew a run by its parameter values alone, so adding
`--max_steps=1` to a sweep's `command` and calling it again said "4 finished earlier, 0 to run":
the runs of the old command counted for the new one. Now two things are kept apart:

- a run's identity (`run_basis`): the program, the command template (its fixed arguments
  included) and, with the run's parameter values, the whole command the run runs; a run is the
  same run exactly when these are the same (`timing_trainer.sweep.agent.plan.run_key`);
- the sweep's version (`sweep_version`): a hash of everything that decides which runs the sweep
  has (method, program, command, parameters, metric, run_cap), recorded in the runs folder so
  that a resume (`sweep.agent.versions`) and `analyze` can tell a runs folder that holds runs of
  several versions of one sweep, and `describe_changes` can name what changed in one line.

Secret values are masked first: a rotated token is not a new sweep, and no hash is taken of one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from timing_trainer.runtime.masking import MASK, is_secret_name, mask_argv
from timing_trainer.sweep.config.macros import DEFAULT_COMMAND

DEFINITION_KEYS = ("method", "program", "command", "parameters", "metric", "run_cap")


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _masked_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """Each parameter's spec, with a secret's `value`/`values` masked."""
    out = {}
    for name, spec in parameters.items():
        masked = dict(spec) if isinstance(spec, dict) else spec
        if isinstance(masked, dict) and is_secret_name(str(name)):
            masked = {k: (MASK if k in ("value", "values") else v) for k, v in masked.items()}
        out[name] = masked
    return out


def sweep_definition(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a sweep file that decide its runs (the default command written out)."""
    return {
        "method": config.get("method"),
        "program": config.get("program"),
        "command": mask_argv([str(c) for c in (config.get("command") or DEFAULT_COMMAND)]),
        "parameters": _masked_parameters(config.get("parameters") or {}),
        "metric": config.get("metric"),
        "run_cap": config.get("run_cap"),
    }


def sweep_version(config: dict[str, Any]) -> str:
    """A short hash of `sweep_definition(config)`: equal for files that run the same runs."""
    return _hash(sweep_definition(config))


def run_basis(config: dict[str, Any]) -> dict[str, Any]:
    """The part of every run's identity that the file gives (program and command template)."""
    definition = sweep_definition(config)
    return {"program": definition["program"], "command": definition["command"]}


def run_identity(basis: dict[str, Any], params: dict[str, Any]) -> str:
    """A run's key: a hash of its program, command template and parameter values."""
    return _hash({**basis, "params": params})


def _command_change(old: list[str], new: list[str]) -> str:
    added = [c for c in new if c not in old]
    removed = [c for c in old if c not in new]
    parts = ([f"added {' '.join(added)}"] if added else []) + (
        [f"removed {' '.join(removed)}"] if removed else [])
    return "command: " + ("; ".join(parts) if parts else "reordered")


def _parameter_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = [f"parameter {n} added" for n in new if n not in old]
    changes += [f"parameter {n} removed" for n in old if n not in new]
    for name in (n for n in new if n in old and new[n] != old[n]):
        before, after = old[name], new[name]
        if isinstance(before, dict) and isinstance(after, dict) and "values" in before \
                and "values" in after and isinstance(before["values"], list) \
                and isinstance(after["values"], list):
            gone = [v for v in before["values"] if v not in after["values"]]
            extra = [v for v in after["values"] if v not in before["values"]]
            text = ", ".join(([f"values {gone} removed"] if gone else [])
                             + ([f"values {extra} added"] if extra else [])) or "reordered"
            changes.append(f"parameter {name}: {text}")
        else:
            changes.append(f"parameter {name}: {_short(before)} -> {_short(after)}")
    return changes


def _short(spec: Any) -> str:
    if isinstance(spec, dict) and set(spec) == {"value"}:
        return json.dumps(spec["value"], default=str)
    return json.dumps(spec, sort_keys=True, default=str)[:80]


def describe_changes(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """What differs between two definitions, in a few words (`command: added --max_steps=1`)."""
    if not isinstance(old, dict):
        return "the earlier runs were recorded without their sweep's definition"
    changes = []
    if old.get("command") != new["command"]:
        changes.append(_command_change(list(old.get("command") or []), new["command"]))
    for key in ("method", "program", "metric", "run_cap"):
        if old.get(key) != new[key]:
            changes.append(f"{key}: {_short(old.get(key))} -> {_short(new[key])}")
    old_params = old.get("parameters") if isinstance(old.get("parameters"), dict) else {}
    changes += _parameter_changes(old_params, new["parameters"])
    return "; ".join(changes) or "no difference in what runs"
