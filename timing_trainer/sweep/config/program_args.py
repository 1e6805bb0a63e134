"""Each parameter value of a GLUE sweep, read as the program's own parser will read it.

`sweeps validate` used to pass values the program refuses at start (`max_seq_length: 32.0` or
`true`, `seed: null`, a mapping for `optim`), so every run of such a sweep failed in its first
seconds. W&B's agent passes a value as Python's text of it (`--max_seq_length=32.0`,
`--seed=None`, `--optim={'name': 'adamw'}`), so each value is checked here by the very argument
the program declares for it: the program's parser (`timing_trainer.glue.arguments.build_parser`,
an `HfArgumentParser` over its dataclasses) converts the text with the argument's type and
checks its choices, as it will at the run's start. With `${args_no_boolean_flags}` W&B's agent
passes a true flag as `--flag` and leaves a false one out, so a `false` for a flag whose default
is true never reaches the program: an error that says so.

Why the parser and not a table of types: TrainingArguments declares about 150 fields, differently
in each transformers release; the parser is the one declaration the program reads. It is built on
first use only (it loads transformers, and with it torch, as the parameter-name check already
did), so importing this module, the sweep package or the command line loads neither. The JSON
forms (`${args_json}`, `${args_json_file}`) are held to the same rule: the value the file means.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from timing_trainer.sweep.config.macros import uses_macro

NO_BOOLEAN_FLAGS = "args_no_boolean_flags"
_INT_DISTRIBUTIONS = ("int_uniform",)


@functools.lru_cache(maxsize=1)
def program_arguments() -> dict[str, argparse.Action]:
    """The program's options by field name (its `--no_NAME` complements left out)."""
    from timing_trainer.glue.arguments import build_parser

    actions = {}
    for action in build_parser()._actions:
        if f"--{action.dest}" in action.option_strings:
            actions[action.dest] = action
    return actions


def _is_flag(action: argparse.Action) -> bool:
    return getattr(action.type, "__name__", "") == "string_to_bool"


def _takes(action: argparse.Action) -> str:
    if action.choices is not None:
        choices = [str(c) for c in action.choices]
        return "one of " + ", ".join(choices[:6]) + (", ..." if len(choices) > 6 else "")
    if _is_flag(action):
        return "true or false"
    return {int: "a whole number", float: "a number"}.get(action.type, "text")


def spec_values(spec: dict[str, Any]) -> list[Any]:
    """The values a parameter's spec can give a run: its `values`/`value`, or a distribution's
    ends as W&B draws them (integers for `int_uniform` or integer ends, else floats)."""
    if isinstance(spec.get("values"), list):
        return list(spec["values"])
    if "value" in spec:
        return [spec["value"]]
    ends = [spec[k] for k in ("min", "max") if k in spec]
    if not ends or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in ends):
        return []
    distribution = spec.get("distribution")
    whole = distribution in _INT_DISTRIBUTIONS or (
        distribution is None and all(isinstance(v, int) for v in ends))
    return [int(v) if whole else float(v) for v in ends]


def value_problem(name: str, value: Any, action: argparse.Action, no_boolean_flags: bool
                  ) -> str | None:
    """Why the program would refuse (or misread) `value` for `name`, or None."""
    default = action.default
    if value is None:
        return (f"null reaches the program as the text 'None' (it takes {_takes(action)}); "
                f"leave the parameter out for its default ({default!r})")
    if isinstance(value, (dict, list)):
        kind = "a mapping" if isinstance(value, dict) else "a list"
        return (f"{kind} reaches the program as Python text {str(value)[:40]!r}, which it cannot "
                f"read (it takes {_takes(action)})")
    if no_boolean_flags and _is_flag(action) and value is False and default is True:
        return (f"false cannot be passed with ${{{NO_BOOLEAN_FLAGS}}}: the flag is left out, so "
                f"{name} keeps its default, true; use ${{args}} (--{name}=False) instead")
    text = str(value)
    try:
        converted = action.type(text) if callable(action.type) else text
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        return f"{text!r} is not {_takes(action)} (the program's default: {default!r})"
    if action.choices is not None and converted not in action.choices:
        return f"{text!r} is not {_takes(action)}"
    return None


def type_problems(config: dict[str, Any], known: set[str]) -> list[str]:
    """One line per parameter value the GLUE program would refuse or misread."""
    arguments = program_arguments()
    no_boolean_flags = uses_macro(config.get("command"), NO_BOOLEAN_FLAGS)
    problems = []
    for name, spec in config["parameters"].items():
        action = arguments.get(name)
        if name not in known or action is None or not isinstance(spec, dict):
            continue
        for value in spec_values(spec):
            problem = value_problem(name, value, action, no_boolean_flags)
            if problem:
                problems.append(f"parameter {name}: {problem}")
                break  # one line a parameter
    return problems
