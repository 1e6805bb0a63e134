"""How long a pilot may take, and whether the next slice fits.

`--budget-minutes M`: the slices' wall time (this pilot folder's, earlier calls included) may
reach M minutes; a slice starts only when the time spent plus the slice's predicted wall time
(the mean of the finished slices of its model, else of all slices) stays within M.

Without it, the default: `DEFAULT_SHARE` (5 %) of the sweep's wall time as predicted from the
slices measured so far (predicted again after each slice), with a floor: the first slice of every
model runs whatever the share says, so that every model of the sweep is measured on this machine.
The very first slice always runs: before it there is nothing to predict a slice's cost from.
"""

from __future__ import annotations

from dataclasses import dataclass

from timing_trainer.runtime.durations import duration

DEFAULT_SHARE = 0.05


@dataclass(frozen=True)
class Budget:
    """The pilot's budget: `limit_s` (given by `--budget-minutes`), or the default share."""

    limit_s: float | None = None
    share: float = DEFAULT_SHARE

    def rule(self) -> str:
        if self.limit_s is not None:
            return f"--budget-minutes {self.limit_s / 60:g}: slices while they fit in {duration(self.limit_s)}"
        return (f"default: {self.share:.0%} of the sweep's predicted wall time, and at least the "
                "first slice of every model")

    def allowance(self, sweep_wall_s: float | None) -> float | None:
        """The seconds the slices may take now (None: not yet known)."""
        if self.limit_s is not None:
            return self.limit_s
        return None if sweep_wall_s is None else self.share * sweep_wall_s

    def verdict(self, *, spent_s: float, next_s: float | None, sweep_wall_s: float | None,
                first_of_model: bool) -> str:
        """"" when the next slice may start, else why not (one line)."""
        if next_s is None and spent_s == 0:
            return ""  # the first slice: nothing to predict its cost from
        if self.limit_s is None and first_of_model:
            return ""  # the floor: every model measured once
        allowed = self.allowance(sweep_wall_s)
        if allowed is None:
            return ""
        if spent_s + (next_s or 0.0) <= allowed:
            return ""
        return (f"budget: {duration(spent_s)} of {duration(allowed)} spent, a slice takes about "
                f"{duration(next_s or 0.0)}")
