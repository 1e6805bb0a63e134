"""The timing state of one Trainer: options, the current run's results, W&B, the energy meter.

`attach_timing()` gives a constructed Trainer its `Timing` (as `trainer._timing`) and the plain
attributes the clocks read on the timed path (`timing_iteration`, `eval_save_gate`,
`energy_meter`) or users read (`timing_options`, `timing_results`). A Trainer's results are one
run until its next `train()` would repeat a fine-tuning already recorded: that call starts a new
run, with its own results file (timing_trainer.results.placement), and the finished one is closed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing_trainer import energy
from timing_trainer.arguments import TimingOptions, run_config, timing_options_for
from timing_trainer.clocks.training import EvalSaveGate, install_clock_hooks
from timing_trainer.results.flops import peak_tflops
from timing_trainer.results.recorder import TrainerResults, check_output_dir
from timing_trainer.results.run_results import TimingResults
from timing_trainer.results.wandb_logging import WandbReporter, reports_to_wandb
from timing_trainer.runtime.distributed import on_main_process
from timing_trainer.runtime.environment import collect_environment, precision_of
from timing_trainer.runtime.masking import mask_argv

logger = logging.getLogger(__name__)
# warn_unavailable, close, finish, timed_train/measured, the runner, the timed method: the caller
_USER_FRAME = 7
# warn_unavailable, close, finish, finish_timing_results: the caller
FINISH_CALLER_FRAME = 5


def before_init(args: Any) -> None:
    """Before the Trainer is built: a results folder that could never be written fails here,
    and secrets leave `sys.argv` before W&B can record the command line."""
    check_output_dir(getattr(args, "output_dir", None))
    if reports_to_wandb(args):
        sys.argv[:] = mask_argv(sys.argv)


class Timing:
    """What one Trainer's timing keeps between calls."""

    def __init__(self, trainer: Any, options: TimingOptions | None, tags: dict[str, Any],
                 print_lines: bool, on_new_writer: Callable[[Any], None] | None = None):
        self.trainer = trainer
        self.tags = dict(tags)
        self.print_lines = print_lines
        self.on_new_writer = on_new_writer  # patch_trainer keeps the writers to finish them
        self.inside: set[str] = set()  # the timed methods running now (no timing twice)
        self.train_completed = False  # the current run's train() returned
        self.train_entries = 0  # calls of the timed train(), for the override check
        self.iteration_number: int | None = None  # the timed run in progress (1, 2, ...)
        trainer.timing_options = timing_options_for(trainer.args, options)
        self.precision = precision_of(trainer.args, getattr(trainer, "accelerator", None))
        self.environment = collect_environment(self.precision)
        trainer.energy_meter = energy.meter_for(  # read at the clock's boundaries only
            trainer.args.device, getattr(trainer.args, "n_gpu", 1),
            getattr(trainer.args, "local_process_index", 0) == 0)
        self.wandb = WandbReporter(reports_to_wandb(trainer.args), trainer.is_world_process_zero(),
                                   getattr(trainer.args, "run_name", None))
        self.user_optimizer = trainer.optimizer
        self.user_scheduler = trainer.lr_scheduler
        # Read by the clock hooks at every step event: plain attributes, no call on the timed path.
        trainer.timing_iteration = None  # the iteration being timed, or None
        trainer.eval_save_gate = EvalSaveGate()  # nothing but the warm-up silenced
        trainer.add_callback(trainer.eval_save_gate)
        self.eval_timing: Any = None  # the evaluation loop being timed, or None
        install_clock_hooks(trainer, reseed=self.reseed)
        self.new_run()
        self.results.check_wandb_login()

    # --- the run ------------------------------------------------------------------------------
    def new_run(self) -> None:
        """Fresh results (and a fresh results file) for the work from here on."""
        trainer = self.trainer
        previous = getattr(trainer, "timing_results", None)  # what a script added to the config
        config = {**(previous.config if previous is not None else {}),
                  **self.base_config(self.precision), **self.tags}
        results = trainer.timing_results = TimingResults(config=config,
                                                         environment=dict(self.environment))
        args = trainer.args
        results.n_devices = (args.world_size if args.world_size > 1
                             else max(1, getattr(args, "n_gpu", 1) or 1))
        results.peak_tflops = trainer.timing_options.peak_tflops or (
            peak_tflops(self.environment.get("gpu_name"), self.precision)
            if self.environment.get("device") == "cuda" else None)
        results.energy_source = trainer.energy_meter.source
        results.notes.update(trainer.energy_meter.notes())
        self.results = TrainerResults(trainer, self.wandb, config_defaults=self.base_config)
        self.train_completed = False
        if self.on_new_writer is not None:
            self.on_new_writer(self.results)

    def starts_new_run(self) -> bool:
        """A `train()` now would repeat a fine-tuning the current results already hold."""
        results = self.trainer.timing_results
        return bool(results.finetuning_times) or results.status == "failed"

    def finish(self, stacklevel: int = _USER_FRAME) -> Path | None:
        """The current run has ended: `finished` (a failed run stays failed), the final write.
        `stacklevel`: the frame of the script's call that the warning names (by default that
        of a timed `train()`/`evaluate()`)."""
        writer = self.results.writer_to_finish()
        if writer is None:  # not rank 0
            return self.results.path
        return writer.close("finished", stacklevel=stacklevel)

    # --- what the run records -----------------------------------------------------------------
    def base_config(self, precision: str) -> dict[str, Any]:
        trainer = self.trainer
        model_config = getattr(trainer.model, "config", None)
        config: dict[str, Any] = {
            "model_name_or_path": getattr(model_config, "_name_or_path", None) or None,
            **run_config(trainer.args, trainer.timing_options),
            "precision": precision,
            "world_size": trainer.args.world_size,
        }
        for key, dataset in (("n_train_samples", trainer.train_dataset),
                             ("n_eval_samples", trainer.eval_dataset)):
            try:
                config[key] = len(dataset) if dataset is not None else None
            except TypeError:
                config[key] = None
        return config

    def reseed(self) -> None:
        from transformers.trainer_utils import enable_full_determinism, set_seed

        args = self.trainer.args
        if args.full_determinism:
            enable_full_determinism(args.seed)
        else:
            set_seed(args.seed)

    def is_world_process_zero(self) -> bool:
        return self.trainer.is_world_process_zero()

    @on_main_process
    def print_line(self, line: str) -> None:
        if self.print_lines:
            print(line, file=sys.stderr, flush=True)


def attach_timing(trainer: Any, options: TimingOptions | None = None,
                  tags: dict[str, Any] | None = None, print_lines: bool = False,
                  on_new_writer: Callable[[Any], None] | None = None) -> Timing:
    """Give a constructed Trainer its timing (once: a second call returns the first)."""
    existing = getattr(trainer, "_timing", None)
    if existing is not None:
        return existing
    timing = trainer._timing = Timing(trainer, options, tags or {}, print_lines, on_new_writer)
    return timing


def timing_of(trainer: Any) -> Timing | None:
    return trainer.__dict__.get("_timing")
