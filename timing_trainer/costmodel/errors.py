"""What the cost model raises when it cannot answer: `CostModelError`, the library's own.

A `ValueError` for library callers, and no command line's: `timing_trainer.cli` is the one place
that turns it (with the analysis's errors) into one line on stderr and exit status 2.
"""

from __future__ import annotations


class CostModelError(ValueError):
    """The cost model cannot answer (no runs, or a request outside what the fit supports)."""
