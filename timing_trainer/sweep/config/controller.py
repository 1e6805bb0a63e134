"""W&B's sweep controller package (`sweeps`, the code `wandb sweep --controller` runs), as the
expansion (`runs`), the grid count (`grid_size`) and the bayes search (`bayes`) use it.

`sweeps` is a hard dependency, imported on first use only: it loads scipy (about a second), and
the cost model reads sweep files without running a controller. Its runs come back as W&B's
`{"name": {"value": v}}` configs with numpy scalars; `flatten_run_config` gives the plain
`{"name": v}` every other part of this package works with.
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import yaml


def import_wandb_sweeps():
    """W&B's controller package with its grid and random search loaded; quiet about pydantic's
    v1-style config warning, which says nothing a user can act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sweeps.grid_search
        import sweeps.random_search  # noqa: F401
    return sweeps


def value_hash(value: Any) -> str:
    """W&B's grid identity of a value (md5 of its flow-style YAML), so duplicates collapse alike."""
    text = yaml.dump(value, default_flow_style=True, sort_keys=True)
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _plain(value: Any) -> Any:
    """numpy scalars (random draws) -> Python numbers, so they print and serialise plainly."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return value.item()
    return value


def flatten_run_config(config: dict[str, Any], order: list[str] | None = None) -> dict[str, Any]:
    """`{"a": {"value": 1}}` (a SweepRun's config) -> `{"a": 1}`; nested parameters stay nested.

    Keys come in `order` (the file's), so a run's arguments read in the order the file lists them.
    """
    out = {}
    for key, spec in config.items():
        if isinstance(spec, dict) and "value" in spec:
            out[key] = _plain(spec["value"])
        elif isinstance(spec, dict):
            out[key] = flatten_run_config(spec)
        else:
            out[key] = _plain(spec)
    if order:
        rank = {k: i for i, k in enumerate(order)}
        out = dict(sorted(out.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    return out
