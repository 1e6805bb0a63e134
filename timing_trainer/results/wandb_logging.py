"""The timings in Weights & Biases: config, summary, one history row per fine-tuning iteration.

`wandb` is imported here only, and only when a run reports to it (`report_to` includes "wandb"),
so everything works with it absent. We share transformers' run (its WandbCallback creates it at
the first train begin) or start one ourselves when evaluation comes first. Only rank 0 logs.

- config: the hyperparameters, the timing options, `timing_results.config` (task and data facts)
  and the environment (nested under "environment");
- summary: the results' figures, flat, with the eval metrics at top level (`eval_accuracy`),
  because sweep YAMLs name them as their metric;
- history: one row per fine-tuning iteration (`finetuning_iteration`, `finetuning_iteration_time`,
  and `finetuning_iteration_energy_j` where energy was measured);
- a failed run ends with a non-zero exit code, so W&B (and a sweep) marks it failed.

Not logged in (W&B online, no API key): `check_wandb_login()` says so in one line naming the
fixes, before any work starts; a run that still reaches `wandb.init` without a key gets the same
line (`WandbNotLoggedInError`) instead of W&B's traceback. Secrets stay out of the config
(timing_trainer.runtime.masking decides which names are secrets).
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from timing_trainer.errors import WandbNotLoggedInError
from timing_trainer.runtime.masking import is_secret_name
from timing_trainer.runtime.wandb_mode import check_wandb_mode

logger = logging.getLogger(__name__)

_OFF_MODES = ("offline", "dryrun", "disabled")
ITERATION_KEYS = ("finetuning_iteration", "finetuning_iteration_time",
                  "finetuning_iteration_energy_j")  # one history row per timed iteration


def is_login_failure(exc: BaseException) -> bool:
    """True for W&B's own "no API key" error (a `wandb.errors.UsageError`), or ours."""
    if isinstance(exc, WandbNotLoggedInError):
        return True
    text = str(exc).lower()
    return type(exc).__name__ in ("UsageError", "AuthenticationError") and (
        "api key" in text or "api_key" in text or "wandb login" in text)


def check_wandb_login() -> None:
    """Raise WandbNotLoggedInError when W&B would need a login it does not have.

    Offline, dry-run and disabled modes need none, nor does an API key in the environment.
    Otherwise W&B's own lookup (`wandb.login(verify=False, prompt=False)`: netrc, settings; no
    prompt, no network) decides. A wandb too old for `prompt=` is not asked here; its
    `wandb.init` failure is translated instead (see `WandbReporter.run`).
    """
    check_wandb_mode()  # an unknown WANDB_MODE is its own line, not "not logged in"
    if os.environ.get("WANDB_MODE", "").lower() in _OFF_MODES or os.environ.get("WANDB_API_KEY"):
        return
    if os.environ.get("WANDB_DISABLED", "").lower() in ("1", "true", "yes"):
        return
    try:
        import wandb
    except ImportError:
        return
    if "prompt" not in inspect.signature(wandb.login).parameters:
        return
    if _settings_mode(wandb) in _OFF_MODES:
        return
    if not wandb.login(verify=False, prompt=False):
        raise WandbNotLoggedInError()


def _settings_mode(wandb: Any) -> str:
    """The mode W&B's settings files give (`wandb offline` writes one), lower case."""
    try:
        return str(wandb.setup().settings.mode or "").lower()
    except Exception:  # noqa: BLE001 - no opinion when the settings cannot be read
        return ""


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
            try:
                wandb.init(**kwargs)
            except Exception as exc:
                if is_login_failure(exc):
                    self.disable()
                    raise WandbNotLoggedInError() from None
                raise
        return wandb.run

    def run_id(self) -> str | None:
        """The active W&B run's id (None when there is none); never starts a run."""
        run = self.active_run()
        return str(run.id) if run is not None else None

    def disable(self) -> None:
        """Stop logging (W&B itself is the problem: recording a failure must not try again)."""
        self.enabled = False

    def update_config(self, config: dict[str, Any]) -> None:
        run = self.run()
        if run is not None:
            run.config.update(config, allow_val_change=True)

    def log_iteration(self, index: int, seconds: float, energy_j: float | None = None,
                      extra: dict[str, Any] | None = None) -> None:
        """One history row: the iteration's index, time and (when measured) joules."""
        run = self.run()
        if run is not None:
            row = dict(zip(ITERATION_KEYS, (index, seconds, energy_j), strict=True))
            if energy_j is None:
                del row[ITERATION_KEYS[2]]
            row.update(extra or {})
            run.log(row)

    def active_run(self):
        """The active W&B run, or None; never starts one."""
        if not self.enabled or self._wandb is None or self._finished:
            return None
        return getattr(self._wandb, "run", None)

    def update_summary(self, summary: dict[str, Any], start: bool = True) -> None:
        """Copy the non-null figures into the run's summary (starting a run unless `start` is
        False: a run that has ended is not started again just to close its results)."""
        run = self.run() if start else self.active_run()
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


def _loggable(key: str, value: Any) -> bool:
    """Leave tokens and secrets out of the config, whatever the arguments hold."""
    if is_secret_name(key):
        return False
    return isinstance(value, (str, int, float, bool, type(None), list, tuple, dict))


@contextmanager
def quiet_wandb_train_end(callbacks: list[Any], silenced: bool) -> Iterator[None]:
    """transformers' W&B callback logs a model artifact at every train end: while `silenced`
    (every timed iteration but the last) its `on_train_end` does nothing."""
    from transformers.integrations import WandbCallback  # the class the Trainer adds

    wandb_callbacks = [cb for cb in callbacks if isinstance(cb, WandbCallback)] if silenced else []
    for callback in wandb_callbacks:
        callback.on_train_end = _noop_event
    try:
        yield
    finally:
        for callback in wandb_callbacks:
            del callback.on_train_end


def _noop_event(*args: Any, **kwargs: Any) -> None:
    return None
