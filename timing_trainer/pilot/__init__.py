"""A pilot: short timed slices of a sweep's shapes on this machine, and the sweep predicted from
them (docs/pilot.md).

The rooms' order: the pilot runs slices with the local agent's machinery (timing_trainer.sweep)
and prices what it did not measure with the cost model (timing_trainer.costmodel), so it sits
above both and below the command line; nothing below imports it. Torch-free throughout: the
slices are child processes, and the estimate is arithmetic on their results.

- grouping: runs by shape, the order slices are cut in, tokenization keys
- expansion: the sweep's runs (`--only`, `--count`)
- work: a run's steps, samples, repeats and evaluation examples from its data
- slicing: a slice's overrides (steps, repeats, evaluation and data limits, its own cache)
- budget: whether the next slice fits
- runner, marks, manifest: the slices run, marked, and `pilot.json`
- measure: what a slice measured, read back
- clock, overheads, span: a run's on-clock time and its off-clock parts, with intervals
- fallback: the cost model for shapes no slice measured
- estimate, outcome, text: `estimate_from_pilot`, `PilotEstimate`, its text

    from timing_trainer.pilot import estimate_from_pilot, predict_run_walls
"""

from timing_trainer.pilot.estimate import estimate_from_pilot, predict_run_walls
from timing_trainer.pilot.outcome import PilotEstimate

__all__ = ["PilotEstimate", "estimate_from_pilot", "predict_run_walls"]
