"""A run's command, built from a sweep file's `command` with the meanings W&B's agent gives macros.

Mirrors `wandb/wandb_agent.py` (`Agent._command_run`) and
`wandb/sdk/launch/sweeps/utils.py` (`create_sweep_command`, `create_sweep_command_args`):
- `${envvar:NAME}` anywhere inside an element: the variable's value, or `NAME` itself when unset.
- An element that is exactly `${name}` expands to a list: `env` -> `/usr/bin/env` (nothing on
  Windows), `interpreter`, `program` (the file's `program`, as written: relative paths resolve
  against the folder the run starts in), `args` -> `--k=v`, `args_no_hyphens` -> `k=v`,
  `args_no_equals` -> `--k v`, `args_no_boolean_flags` -> `--k=v` with `True` as `--k` and
  `False` left out, `args_json` -> one JSON object, `args_json_file` -> the path of a file holding
  it, `args_append_hydra` -> `+k=v`, `args_override_hydra` -> `++k=v`. Unknown macros vanish.
- Values print as Python's `str` does (`2e-05`, `True`, `[1, 2]`, `None`), as W&B's agent does.

One difference, on purpose: W&B's `${interpreter}` is the bare word `python`; here it is the
interpreter running the agent (`sys.executable`), so a run uses the environment the agent is in.
The result is an argument list, run without a shell: no value is ever interpreted by one.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
from collections.abc import Mapping
from typing import Any

DEFAULT_COMMAND = ("${env}", "${interpreter}", "${program}", "${args}")
ENVVAR_MACRO = re.compile(r"\$\{envvar\:([A-Z0-9_]*)\}")


def expand_envvars(element: Any, environ: Mapping[str, str]) -> str:
    """Replace every `${envvar:NAME}` in one element (W&B leaves NAME itself when unset)."""
    text = str(element)
    for match in reversed(list(ENVVAR_MACRO.finditer(text))):
        value = environ.get(match.group(1), match.group(1))
        text = f"{text[: match.start()]}{value}{text[match.end():]}"
    return text


def args_macros(params: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every `${args...}` form of one run's parameter values."""
    flags, no_hyphens, no_equals, no_booleans, hydra_add, hydra_override = [], [], [], [], [], []
    for name, value in params.items():
        flag = f"{name}={value}"
        flags.append("--" + flag)
        no_hyphens.append(flag)
        no_equals += [f"--{name}", str(value)]
        hydra_add.append("+" + flag)
        hydra_override.append("++" + flag)
        if isinstance(value, bool):
            if value:
                no_booleans.append("--" + name)
        else:
            no_booleans.append("--" + flag)
    return {
        "args": flags,
        "args_no_hyphens": no_hyphens,
        "args_no_equals": no_equals,
        "args_no_boolean_flags": no_booleans,
        "args_json": [json.dumps(dict(params))],
        "args_append_hydra": hydra_add,
        "args_override_hydra": hydra_override,
    }


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
