"""A run's command, built from a sweep file's `command` as W&B's agent builds it.

W&B's own code makes the argument forms: `create_sweep_command_args` (in
`wandb.sdk.launch.sweeps.utils`, there in wandb 0.16, the oldest this package accepts, as in 0.31)
gives every `${args...}` form of a run's values, and its `SWEEP_COMMAND_ENV_VAR_REGEX` finds
`${envvar:NAME}`. wandb is imported on first use only (about a second). What W&B's agent does around those (`Agent._command_run`,
`wandb/wandb_agent.py`) is done here the same way:
- `${envvar:NAME}` anywhere inside an element: the variable's value, or `NAME` itself when unset.
  W&B's `create_sweep_command` reads the process's environment and rewrites the list in place;
  here the environment is a mapping, so a printed command expands with secrets masked
  (`timing_trainer.runtime.masking`) and the agent's own extra variables count.
- An element that is exactly `${name}` expands to a list: `env` -> `/usr/bin/env` (nothing on
  Windows), `interpreter`, `program` (the file's `program`, as written: relative paths resolve
  against the folder the run starts in), `args_json_file` -> the path of a file holding
  `${args_json}` (written by `attempt`, owner-only when it holds a secret), and W&B's forms:
  `args` (`--k=v`), `args_no_hyphens`, `args_no_equals`, `args_no_boolean_flags`, `args_json`,
  `args_append_hydra`, `args_override_hydra`. Unknown macros vanish.
- Values print as Python's `str` does (`2e-05`, `True`, `[1, 2]`, `None`), as W&B's agent does.

Differences, on purpose: W&B's `${interpreter}` is the bare word `python`; here it is the
interpreter running the agent (`sys.executable`), so a run uses the environment the agent is in.
`${args_dict}` vanishes like any unknown macro (W&B's agent would splice in the parameters'
names: its helper returns that dict for its own use). The result is an argument list, run
without a shell: no value is ever interpreted by one.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping
from typing import Any

# W&B's `DEFAULT_SWEEP_COMMAND`, copied so that validating a file needs no wandb import; a test
# holds the copy equal to W&B's.
DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
# wandb 0.16 to 0.19 make no Hydra forms; 0.20 on make them so (drop this with a floor of 0.20).
HYDRA_PREFIXES = {"args_append_hydra": "+", "args_override_hydra": "++"}


def wandb_sweep_utils():
    """`wandb.sdk.launch.sweeps.utils`, imported when a command is first built (it warns of
    nothing, so no warnings filter: the filters are process-wide and workers are threads)."""
    from wandb.sdk.launch.sweeps import utils

    return utils


def expand_envvars(element: Any, environ: Mapping[str, str]) -> str:
    """Replace every `${envvar:NAME}` in one element (W&B leaves NAME itself when unset)."""
    text = str(element)
    for match in reversed(list(wandb_sweep_utils().SWEEP_COMMAND_ENV_VAR_REGEX.finditer(text))):
        value = environ.get(match.group(1), match.group(1))
        text = f"{text[: match.start()]}{value}{text[match.end():]}"
    return text


def args_macros(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every `${args...}` form of one run's parameter values, as W&B's helper makes them."""
    forms = wandb_sweep_utils().create_sweep_command_args(
        {"args": {name: {"value": value} for name, value in params.items()}}
    )
    forms.pop("args_dict", None)  # a dict for W&B's own use, not an argument list
    for name, prefix in HYDRA_PREFIXES.items():
        forms.setdefault(name, [prefix + flag for flag in forms["args_no_hyphens"]])
    return forms


def build_command(
    command: list[Any] | None,
    params: Mapping[str, Any],
    *,
    program: str | None = None,
    interpreter: str | None = None,
    args_json_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The argument list of one run (no shell involved)."""
    environ = os.environ if environ is None else environ
    template = list(command) if command else list(DEFAULT_COMMAND)
    macros = args_macros(params)
    macros["interpreter"] = [interpreter or sys.executable]
    macros["env"] = [] if platform.system() == "Windows" else ["/usr/bin/env"]
    macros["program"] = [program] if program is not None else []
    macros["args_json_file"] = [args_json_file] if args_json_file else []
    out: list[str] = []
    for element in template:
        text = expand_envvars(element, environ)
        if text.startswith("${") and text.endswith("}"):
            out += macros.get(text[2:-1]) or []
        else:
            out.append(text)
    return out


def uses_macro(command: list[Any] | None, name: str) -> bool:
    """Whether a command template holds `${name}` as an element (the default uses args, program)."""
    template = list(command) if command else list(DEFAULT_COMMAND)
    return any(str(c) == "${" + name + "}" for c in template)
