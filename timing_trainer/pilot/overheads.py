"""The part of a run's wall time that is not on the clock, priced part by part from the slices.

Each slice is a whole process, so it pays every fixed cost a sweep run pays; the estimate takes
each part from the slices that share what the part depends on (the run's own shape, else the
slices of its model, else every slice), its median as the prediction and its least and greatest
measurement as the interval:
- `startup` (interpreter and imports): the same program for every shape: every slice;
- `model_load`, `train_setup` and any other setup part: the slices of the run's model;
- `warmup` (the warm-up steps, compilation included): the slice of the run's shape; a shape no
  slice measured takes its model's warm-up less its warm-up steps, plus the steps at the run's
  predicted step time;
- `tokenize`: reading the sweep's cache (a run after the first of its tokenizer, task, data,
  length and limits) costs what a slice that read the pilot's cache took; tokenizing costs that
  plus the rest of a tokenizing slice's time, scaled by the examples (train and evaluation sets)
  the run tokenizes over those the slice did. Where no slice read a cache, tokenizing is scaled
  whole and a cache read is priced as tokenizing (the upper bound);
- the rest (the wall time less the clock and the setup parts: restoring the state and rebuilding
  the optimizer between iterations, evaluation's bookkeeping, writing results, exit): the slices
  of the run's model, less each slice's iterations after the first at its `train_setup` (what
  an iteration's start costs), plus the run's own iterations after the first at that price.
Torch-free.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from timing_trainer.pilot.measure import KNOWN_PARTS, SliceMeasure
from timing_trainer.pilot.span import ZERO, Span
from timing_trainer.pilot.work import RunWork


def _pool(slices: list[SliceMeasure], *tests) -> list[SliceMeasure]:
    """The slices that pass the first test any slice passes (the last test: every slice)."""
    for test in tests:
        chosen = [s for s in slices if test(s)]
        if chosen:
            return chosen
    return list(slices)


def _part(pool: list[SliceMeasure], name: str) -> Span:
    return Span.of([s.parts[name] for s in pool if name in s.parts])


def _others(pool: list[SliceMeasure]) -> Span:
    """Setup parts the program adds beyond the known ones, summed per slice."""
    sums = [sum(v for k, v in s.parts.items() if k not in KNOWN_PARTS) for s in pool]
    return Span.of(sums) if any(sums) else ZERO


@dataclass
class RunOverheads:
    """The off-clock parts of one run's wall time (see the module docstring)."""

    parts: dict[str, Span] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> Span:
        out = ZERO
        for span in self.parts.values():
            out = out + span
        return out


def _tokenize(slices: list[SliceMeasure], key: str, model: str, n_run: float,
              hit: bool, notes: list[str]) -> Span:
    """The run's tokenization: a cache read, or tokenizing `n_run` examples."""
    def same_key(s):
        return s.tokenize_key == key

    def same_model(s):
        return s.model == model

    reads = _pool([s for s in slices if s.tokenize_status == "hit"], same_key, same_model)
    made = _pool([s for s in slices if s.tokenize_status != "hit"], same_key, same_model)
    read = _part(reads, "tokenize")
    if hit and read.known:
        return read
    scaled = [s.parts["tokenize"] * n_run / s.tokenized if not read.known
              else read.value + (s.parts["tokenize"] - read.value) * n_run / s.tokenized
              for s in made if "tokenize" in s.parts and s.tokenized > 0]
    if hit:
        notes.append("no slice read a tokenization cache: a cache read priced as tokenizing")
    return Span.of(scaled)


def _warmup(slices: list[SliceMeasure], own: SliceMeasure | None, model: str,
            step_seconds: float) -> Span:
    if own is not None and "warmup" in own.parts:
        return Span.exact(own.parts["warmup"])
    pool = _pool(slices, lambda s: s.model == model)
    fixed = [s.parts["warmup"] - s.warmup_steps * s.step_seconds for s in pool
             if "warmup" in s.parts]
    steps = statistics.median([s.warmup_steps for s in pool]) if pool else 0
    return Span.of(fixed) + Span.exact(steps * step_seconds)


def _rest(pool: list[SliceMeasure], iters: int) -> Span:
    """The rest: each slice's less its extra iterations' start, plus the run's."""
    per_iteration = _part(pool, "train_setup")
    fixed = [s.rest - (s.iters - 1) * s.parts.get("train_setup", 0.0) for s in pool]
    extra = per_iteration.scaled(iters - 1) if per_iteration.known else ZERO
    return Span.of(fixed) + extra


def predict_overheads(slices: list[SliceMeasure], own: SliceMeasure | None, *, model: str,
                      tokenize_key: str, work: RunWork, cache_hit: bool,
                      step_seconds: float = math.nan) -> RunOverheads:
    """The off-clock parts of a run of `model` (`own`: the slice of its shape, if any;
    `step_seconds`: its predicted step time, for a warm-up no slice measured)."""
    out = RunOverheads()
    same_model = _pool(slices, lambda s: s.model == model)
    out.parts["startup"] = _part(slices, "startup")
    out.parts["model_load"] = _part(same_model, "model_load")
    out.parts["tokenize"] = _tokenize(slices, tokenize_key, model,
                                      work.n_train + work.n_eval, cache_hit, out.notes)
    out.parts["warmup"] = _warmup(slices, own, model, step_seconds)
    out.parts["train_setup"] = _part(same_model, "train_setup")
    out.parts["other_setup"] = _others(same_model)
    out.parts["rest"] = _rest(same_model, work.iters)
    return out
