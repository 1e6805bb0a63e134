"""Check sweep files before a controller or an agent meets them.

Two checks from the issue, and a few that catch what a sweep would only discover hours in:
- W&B's own schema (`sweeps.schema_violations_from_proposed_config`, the schema W&B's local
  controller uses) and that the grid expands;
- every parameter is an argument of the program, when the program is ours (`-m
  timing_trainer.glue`), and each of its values one the program's parser takes
  (`program_args`); another program's arguments cannot be known, so those checks are skipped;
- the command passes the parameters on (one of the `${args...}` macros);
- no absolute paths (a sweep file travels between machines), no number written so that YAML reads
  a string (`2e-5`), known task names, and the metric is the key the program logs for the task.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from timing_trainer.errors import SweepFileError
from timing_trainer.sweep.config.controller import import_wandb_sweeps
from timing_trainer.sweep.config.macros import DEFAULT_COMMAND
from timing_trainer.sweep.config.program_args import type_problems
from timing_trainer.sweep.config.runs import (
    check_sweep_config,
    expand_runs,
    load_sweep_file,
    run_cap,
)
from timing_trainer.sweep.config.spec import PROGRAM_MODULE

ARGS_MACROS = (
    "args", "args_no_hyphens", "args_no_equals", "args_no_boolean_flags", "args_json",
    "args_json_file", "args_append_hydra", "args_override_hydra",
)
# Top-level keys W&B's server accepts that the local controller's schema (sweeps 0.2) predates.
SERVER_ONLY_KEYS = ("run_cap",)
_NUMBER_AS_STRING = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")


def runs_glue_program(config: dict[str, Any]) -> bool:
    """Whether the sweep's command runs `python -m timing_trainer.glue`."""
    command = [str(c) for c in (config.get("command") or DEFAULT_COMMAND)]
    return any(a == "-m" and b == PROGRAM_MODULE for a, b in zip(command, command[1:]))


def parameter_values(spec: dict[str, Any]) -> list[Any]:
    if "values" in spec and isinstance(spec["values"], list):
        return list(spec["values"])
    if "value" in spec:
        return [spec["value"]]
    return []


def _glue_argument_names() -> set[str]:
    from timing_trainer.glue.arguments import argument_names

    return set(argument_names())


def _glue_checks(config: dict[str, Any]) -> list[str]:
    from timing_trainer.errors import UnknownTaskError
    from timing_trainer.tasks import get_task

    problems = []
    params = config["parameters"]
    known = _glue_argument_names()
    unknown = [name for name in params if name not in known]
    if unknown:
        problems.append(
            "parameter(s) not accepted by python -m timing_trainer.glue: " + ", ".join(unknown)
        )
    problems.extend(type_problems(config, known))
    tasks = parameter_values(params.get("task_name", {}))
    metric_keys = set()
    for task in tasks:
        try:
            metric_keys.add(get_task(str(task)).main_metric_key)
        except UnknownTaskError as exc:
            problems.append(str(exc))
    metric = (config.get("metric") or {}).get("name")
    if metric is not None and metric_keys and metric not in metric_keys:
        problems.append(
            f"metric {metric!r} is not what the program logs for the task's main metric "
            f"({', '.join(sorted(metric_keys))})"
        )
    return problems


def validate_config(config: Any, where: str = "sweep config", portable: bool = True) -> list[str]:
    """Every problem of one sweep config, one line each (empty when valid).

    `portable=False` (the local agent) accepts absolute paths: a file that never leaves its
    machine may name them; `sweeps validate` holds files to the portable standard.
    """
    try:
        check_sweep_config(config, where)
    except SweepFileError as exc:
        return [str(exc)]
    problems: list[str] = []
    local = {k: v for k, v in config.items() if k not in SERVER_ONLY_KEYS}
    for violation in import_wandb_sweeps().schema_violations_from_proposed_config(local):
        problems.append(f"W&B sweep schema: {' '.join(str(violation).split())}")
    command = config.get("command") or list(DEFAULT_COMMAND)
    if not isinstance(command, list):
        problems.append("`command` must be a list of strings")
        command = []
    elif not any(str(c) in {"${" + m + "}" for m in ARGS_MACROS} for c in command):
        problems.append("`command` has no ${args} macro: the parameters would never reach the program")
    try:
        run_cap(config)
    except SweepFileError as exc:
        problems.append(str(exc))
    if "${program}" in [str(c) for c in command] and not config.get("program"):
        problems.append("`command` uses ${program} but the file names no `program`")
    for name, spec in config["parameters"].items():
        for value in parameter_values(spec):
            absolute = isinstance(value, str) and (value.startswith("/") or _WINDOWS_ABSOLUTE.match(value))
            if portable and absolute:
                problems.append(f"parameter {name}: absolute path {value!r} (use a relative path)")
            if isinstance(value, str) and _NUMBER_AS_STRING.fullmatch(value.strip()):
                problems.append(
                    f"parameter {name}: {value!r} reads as a string in YAML; write a number "
                    "with a decimal point (2.0e-5)"
                )
    if config["method"] == "grid" and not problems:
        try:
            expand_runs(config)
        except SweepFileError as exc:
            problems.append(str(exc))
    if isinstance(command, list) and runs_glue_program(config):
        problems.extend(_glue_checks(config))
    return problems


def validate_file(path: str | Path) -> list[str]:
    """Problems of one sweep file as `PATH: problem` lines (a missing file is one problem)."""
    try:
        config = load_sweep_file(path)
    except SweepFileError as exc:
        return [str(exc)]
    return [f"{path}: {p}" for p in validate_config(config, str(path))]
