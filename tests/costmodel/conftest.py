"""The cost model's tests share one table of runs made from a known cost formula
(`timing_trainer.testing.costs`): `runs`, once per test module, with the arguments of
`synthetic_runs` the module asks for in `RUNS = {...}`; `"head": N` keeps the first N rows, and
`"energy": {...}` adds each model's energy (`with_energy`, with those arguments)."""

from __future__ import annotations

import pytest

from timing_trainer.testing.costs import synthetic_runs, with_energy

DEFAULT_RUNS = {"noise": 0.03, "seed": 1}


@pytest.fixture(scope="module")
def runs(request):
    options = {**DEFAULT_RUNS, **getattr(request.module, "RUNS", {})}
    head, energy = options.pop("head", None), options.pop("energy", None)
    table = synthetic_runs(**options)
    table = table.head(head) if head else table
    return with_energy(table, **energy) if energy is not None else table
