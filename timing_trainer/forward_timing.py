"""The model's forward alone, per evaluation batch: what inference benchmarks report.

`inference_time_list` times the Trainer's `prediction_step` (input preparation, autocast setup,
the forward, loss and logits handling); users of inference benchmarks (optimum-benchmark and the
like) expect the forward alone. Both are kept: this module times the forward through a pair of
module hooks on the model (a forward pre-hook starts an interval, a forward hook stops it), with
CUDA events on a GPU (queued on the stream, no host synchronize) and the host clock on CPU. The
intervals are read once, after the evaluation loop. These two hooks are the only thing besides
the existing timers that runs inside a timed evaluation.

Not timed (with the reason recorded): models run through `torch.compile` (the hooks would be
traced into the compiled graph) and `DataParallel` over several GPUs (each replica would fire
the hooks from its own thread).
"""

from __future__ import annotations

from typing import Any

from timing_trainer.clock import interval_timer_for


def forward_timing_blocker(args: Any) -> str | None:
    """Why the forward cannot be timed with these training arguments, or None when it can."""
    if getattr(args, "torch_compile", False):
        return "the model runs through torch.compile, which would trace the timing hooks"
    if (getattr(args, "n_gpu", 1) or 1) > 1:  # one process, several GPUs: DataParallel
        return "DataParallel over several GPUs: each replica would fire the timing hooks"
    return None


class ForwardTimer:
    """Module hooks that time every top-level forward of `model`; a context manager."""

    def __init__(self, model: Any, device: Any):
        self._model = model
        self._timer = interval_timer_for(device)
        self._handles: list[Any] = []
        self._open = False

    @property
    def kind(self) -> str:
        return self._timer.kind

    def _before(self, module: Any, args: Any) -> None:
        if not self._open:  # a forward inside the forward (same module) is not a new interval
            self._open = True
            self._timer.start()

    def _after(self, module: Any, args: Any, output: Any) -> None:
        if self._open:
            self._timer.stop()
            self._open = False

    def __enter__(self) -> ForwardTimer:
        self._handles = [self._model.register_forward_pre_hook(self._before),
                         self._model.register_forward_hook(self._after)]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._open = False

    def elapsed_seconds(self) -> list[float]:
        """Every forward's duration in seconds (one synchronize on a GPU): after the loop."""
        return self._timer.elapsed_seconds()
