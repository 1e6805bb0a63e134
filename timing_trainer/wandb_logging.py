"""The timings in Weights & Biases: config, summary, one history row per fine-tuning iteration.

`wandb` is imported here only, and only when a run reports to it (`report_to` includes "wandb"),
so everything works with it absent. We share transformers' run (its WandbCallback creates it at
the first train begin) or start one ourselves when evaluation comes first. Only rank 0 logs.

- config: the hyperparameters, the timing options, `timing_results.config` (task and data facts)
  and the environment (nested under "environment");
- summary: the results' figures, flat, with the eval metrics at top level (`eval_accuracy`),
  because sweep YAMLs name them as their metric;
- history: one row per fine-tuning iteration (`finetuning_iteration`, `finetuning_iteration_time`);
- a failed run ends with a non-zero exit code, so W&B (and a sweep) marks it failed.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

logger = logging.getLogger(__name__)


def reports_to_wandb(args: Any) -> bool:
    """True when TrainingArguments.report_to names wandb ("all" counts when wandb is installed)."""
    report_to = getattr(args, "report_to", None)
    if report_to is None:
        return False
    if isinstance(report_to, str):
        report_to = [report_to]
    if "wandb" in report_to:
        return True
    if "all" in report_to:
        import importlib.util

        return importlib.util.find_spec("wandb") is not None
    return False


class WandbReporter:
    """Thin wrapper over the active W&B run; every method is a no-op when disabled."""

    def __init__(self, enabled: bool, is_main_process: bool = True, run_name: str | None = None):
        self.enabled = bool(enabled and is_main_process)
        self._run_name = run_name
        self._wandb: Any = None
        self._finished = False  # after finish_failed(), never start a second run

    def _module(self):
        if not self.enabled:
            return None
        if self._wandb is None:
            try:
                import wandb
            except ImportError:
                logger.warning("report_to includes wandb, but wandb is not installed: not logging")
                self.enabled = False
                return None
            self._wandb = wandb
        return self._wandb

    def run(self):
        """The active run, started here when transformers' callback has not started one."""
        wandb = self._module()
        if wandb is None or self._finished:
            return None
        if wandb.run is None:
            kwargs: dict[str, Any] = {"project": os.getenv("WANDB_PROJECT", "huggingface")}
            if self._run_name:
                kwargs["name"] = self._run_name
            wandb.init(**kwargs)
        return wandb.run

    def update_config(self, config: dict[str, Any]) -> None:
        run = self.run()
        if run is not None:
            run.config.update(config, allow_val_change=True)

    def log_iteration(self, index: int, seconds: float, extra: dict[str, Any] | None = None) -> None:
        run = self.run()
        if run is not None:
            row = {"finetuning_iteration": index, "finetuning_iteration_time": seconds}
            row.update(extra or {})
            run.log(row)

    def update_summary(self, summary: dict[str, Any]) -> None:
        run = self.run()
        if run is None:
            return
        for key, value in summary.items():
            if value is None:
                continue
            run.summary[key] = value

    def finish_failed(self) -> None:
        """End the run with exit code 1: W&B shows it as failed, a sweep counts it as failed."""
        wandb = self._module()
        if wandb is not None and wandb.run is not None and not self._finished:
            wandb.run.finish(exit_code=1)
        self._finished = True


def wandb_config(args: Any, options: Any, results_config: dict[str, Any],
                 environment: dict[str, Any]) -> dict[str, Any]:
    """The W&B config of a run: hyperparameters, timing options, data facts, environment."""
    config: dict[str, Any] = {}
    to_dict = getattr(args, "to_dict", None)
    if callable(to_dict):
        config.update({k: v for k, v in to_dict().items() if _loggable(k, v)})
    if options is not None:
        config.update(vars(options))
    config.update(results_config)
    config["environment"] = dict(environment)
    return config


# `hub_token`, `push_to_hub_token`, `api_key`, `secret`, `password`; not `use_tokenization_cache`.
_SECRET_KEY = re.compile(r"(^|_)(token|api_key|apikey|secret|password)$|secret|password", re.I)


def _loggable(key: str, value: Any) -> bool:
    """Leave tokens and secrets out of the config, whatever the arguments hold."""
    if _SECRET_KEY.search(key):
        return False
    return isinstance(value, (str, int, float, bool, type(None), list, tuple, dict))
