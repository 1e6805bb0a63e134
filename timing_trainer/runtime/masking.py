"""Which argument names hold secrets, and how their values are masked wherever we write them.

One rule for the whole package: the GLUE program's argv, the local agent's records, logs and
state, the results' config and W&B's config all pass through these functions, so that a
`--hub_token` given on a command line or in a sweep file reaches no file, no log and no W&B run.
A name is a secret when it ends in `token` (`hub_token`, `push_to_hub_token`) or names an API
key, a secret or a password; `use_tokenization_cache` and `max_tokens` are not secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

MASK = "***"

_SECRET_NAME = re.compile(r"(^|[_-])(token|api[_-]?key)$|secret|password|passwd", re.I)


def is_secret_name(name: str) -> bool:
    """True for `hub_token`, `--hub-token`, `WANDB_API_KEY`, `db_password`; not for
    `use_tokenization_cache` or `max_tokens`."""
    return bool(_SECRET_NAME.search(str(name).lstrip("-")))


def mask_mapping(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy with every secret-named value replaced by MASK (nested mappings too)."""
    masked: dict[str, Any] = {}
    for key, value in values.items():
        if is_secret_name(key) and value not in (None, ""):
            masked[key] = MASK
        elif isinstance(value, Mapping):
            masked[key] = mask_mapping(value)
        else:
            masked[key] = value
    return masked


def mask_argv(argv: Sequence[str]) -> list[str]:
    """A copy of a command line with secret values masked, in `--name value` and `--name=value`
    form (and a JSON-free `name=value` as W&B's `${args_no_hyphens}` writes it)."""
    masked: list[str] = []
    mask_next = False
    for arg in argv:
        text = str(arg)
        if mask_next:
            masked.append(MASK)
            mask_next = False
            continue
        name, sep, _ = text.partition("=")
        if sep and is_secret_name(name):
            masked.append(f"{name}={MASK}")
        elif text.startswith("-") and is_secret_name(text):
            masked.append(text)
            mask_next = True
        else:
            masked.append(text)
    return masked


_MIN_SCRUB_LENGTH = 4  # shorter "secrets" would blank out ordinary words and digits


def secret_values(values: Mapping[str, Any]) -> list[str]:
    """The text of every secret-named value in `values` (nested mappings too), longest first,
    for scrubbing free text (a log, a reason line) that may quote it."""
    found: set[str] = set()
    for key, value in values.items():
        if isinstance(value, Mapping):
            found.update(secret_values(value))
        elif is_secret_name(key) and value not in (None, "") and not isinstance(value, bool):
            text = str(value)
            if len(text) >= _MIN_SCRUB_LENGTH:
                found.add(text)
    return sorted(found, key=len, reverse=True)


def scrub_text(text: str, values: Sequence[str]) -> str:
    """`text` with every occurrence of the given secret values replaced by MASK."""
    for value in values:
        if value:
            text = text.replace(value, MASK)
    return text
