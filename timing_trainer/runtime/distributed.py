"""The few collective operations the timers need, as no-ops when not distributed.

A distributed run's time is its slowest rank's time: each rank measures its own interval
between two barriers, then the values are max-reduced. Only rank 0 writes files and logs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


def _dist():
    """torch.distributed when a process group is up, else None."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist
    return None


def on_main_process(method: Callable[..., Any]) -> Callable[..., Any]:
    """A trainer method that runs on the main process only (rank 0 writes files and logs); the
    other ranks get None. accelerate's `on_main_process` decides when it decorates, from an
    initialised state; a method is defined before any process group exists, so this asks the
    trainer's `is_world_process_zero()` at each call."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        return method(self, *args, **kwargs) if self.is_world_process_zero() else None

    return wrapper


def barrier() -> None:
    """Wait for every rank (no-op without a process group)."""
    dist = _dist()
    if dist is not None and dist.get_world_size() > 1:
        dist.barrier()


def _reduce(value: float, op_name: str) -> float:
    dist = _dist()
    if dist is None or dist.get_world_size() <= 1:
        return float(value)
    import torch

    # NCCL reduces CUDA tensors only; gloo reduces CPU tensors.
    device = "cpu"
    if dist.get_backend() == "nccl":
        device = torch.device("cuda", torch.cuda.current_device())
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=getattr(dist.ReduceOp, op_name))
    return float(tensor.item())


def max_across_ranks(value: float) -> float:
    """The largest value over all ranks (every rank gets it)."""
    return _reduce(value, "MAX")


def sum_across_ranks(value: float) -> float:
    """The sum over all ranks (every rank gets it)."""
    return _reduce(value, "SUM")
