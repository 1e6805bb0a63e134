"""A bayes sweep's next run, from W&B's own bayes search, fed with the runs' recorded results.

The local agent has no W&B server to propose runs, so it calls the controller package's search
(`sweeps.next_run`) with the history W&B would hold: every run proposed so far, its state, and
the sweep's metric as the run wrote it in `timing_results.json`. The seed makes a resumed sweep
propose what the first invocation would have.
"""

from __future__ import annotations

import warnings
from typing import Any

from timing_trainer.errors import SweepFileError
from timing_trainer.runtime.masking import MASK
from timing_trainer.sweep.config.controller import flatten_run_config, import_wandb_sweeps


def unmasked(config: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A record's parameters with masked secrets restored from the file's constants (records
    hold `***`; a retried run needs the real value)."""
    specs = config["parameters"]
    return {name: specs[name]["value"]
            if value == MASK and isinstance(specs.get(name), dict) and "value" in specs[name]
            else value
            for name, value in params.items()}


def _history(plan: list[Any], records: dict[str, dict[str, Any]], metric: str, wandb_sweeps):
    history = []
    for run in plan:
        rec = records.get(run.key) or {}
        status = rec.get("status", "running")
        state = {"finished": "finished", "failed": "failed"}.get(status, "running")
        summary = {metric: rec["metric"]} if rec.get("metric") is not None else {}
        history.append(wandb_sweeps.SweepRun(
            config={k: {"value": v} for k, v in run.params.items()},
            state=state, summaryMetrics=summary,
        ))
    return history


def propose_params(config: dict[str, Any], plan: list[Any], records: dict[str, dict[str, Any]],
                   seed: int | None) -> dict[str, Any]:
    """The parameters of the next run (plan: the runs proposed so far, with `key`/`params`)."""
    import numpy as np

    wandb_sweeps = import_wandb_sweeps()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sweeps.bayes_search  # noqa: F401  (before seeding: its import draws numbers)
    history = _history(plan, records, config["metric"]["name"], wandb_sweeps)
    if seed is not None:
        np.random.seed((seed + len(plan)) % 2**32)
    with warnings.catch_warnings():  # the Gaussian process's convergence chatter
        warnings.simplefilter("ignore")
        try:
            proposed = wandb_sweeps.next_run(config, history, validate=False)
        except ValueError as exc:  # W&B's controller refuses the file (nothing to search, ...)
            raise SweepFileError(f"the bayes search cannot propose a run: {exc}") from exc
    return flatten_run_config(proposed.config, list(config["parameters"]))
