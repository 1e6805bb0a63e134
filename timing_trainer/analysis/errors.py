"""What the loaders raise and warn: one module, so that every loader and its callers share them.

The errors are the library's own `ValueError`s, not a command line's: `timing_trainer.cli` is
the one place that turns them into one line on stderr and exit status 2 (for `analyze` and
`predict`, which both load runs).
"""

from __future__ import annotations


class RunsDataWarning(UserWarning):
    """Something in the runs was odd (text in a number column, a duplicate, a missing column)."""


class RunsLoadError(ValueError):
    """A source cannot be read at all (missing file, required column absent, bad W&B path)."""


class NoEnergyError(ValueError):
    """`--metric energy` on runs none of which has the energy analysed (one line, exit 2)."""
