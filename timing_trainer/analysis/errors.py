"""What the loaders raise and warn: one module, so that every loader and the CLIs share them.

`RunsLoadError` is also a `CliError` (one line on stderr, exit status 2, no traceback, from any
`timing-trainer` subcommand that loads runs: `analyze`, `predict`) and a `ValueError` (for library
callers that catch that).
"""

from __future__ import annotations

from timing_trainer.errors import CliError


class RunsDataWarning(UserWarning):
    """Something in the runs was odd (text in a number column, a duplicate, a missing column)."""


class RunsLoadError(CliError, ValueError):
    """A source cannot be read at all (missing file, required column absent, bad W&B path)."""


class NoEnergyError(CliError, ValueError):
    """`--metric energy` on runs none of which has the energy analysed (one line, exit 2)."""
