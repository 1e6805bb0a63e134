"""Secrets out of what the agent writes and prints, with `timing_trainer.runtime.masking`' one rule.

A sweep may pass `hub_token` as a parameter, or a command may name `${envvar:HF_TOKEN}`: the
child needs the real value, but `agent_record.json`, `sweep_state.json`, `run.log`'s command
header, the dry-run's commands and the summary must not hold it. The command that is shown is
rendered from masked parameters and a masked environment (`mask_mapping`, in `attempt`), so
every `${args...}` form is masked, `${args_json}` included; then `--name value` pairs are masked
once more (`mask_argv`) for literal secrets in the file's `command`. Free text that may quote a
secret (a log line used as a failure's reason, the child's own output in `run.log`) is scrubbed
of the known values here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from timing_trainer.runtime.atomic import atomic_write_text
from timing_trainer.runtime.masking import scrub_text, secret_values


def run_secrets(params: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    """Secret values a run's files could quote: its secret parameters, and the environment's
    secret-named variables (`HF_TOKEN`, `WANDB_API_KEY`), longest first."""
    values = set(secret_values(params)) | set(secret_values(environ))
    return sorted(values, key=len, reverse=True)


def scrub_file(path: Path, secrets: list[str]) -> bool:
    """Rewrite a text file without the given secret values; True when something was removed.

    For `run.log` after the child has ended: the child writes it directly (no pipe through the
    agent, so its timings carry no relay overhead), so a program that prints a token is cleaned
    up here.
    """
    if not secrets or not path.is_file():
        return False
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    clean = scrub_text(text, secrets)
    if clean == text:
        return False
    atomic_write_text(path, clean.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    return True
