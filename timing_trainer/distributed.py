"""The few collective operations the timers need, as no-ops when not distributed.

A distributed run's time is its slowest rank's time: each rank measures its own interval
between two barriers, then the values are max-reduced. Only rank 0 writes files and logs.
"""

from __future__ import annotations

import os


def _dist():
    """torch.distributed when a process group is up, else None."""
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is a dependency
        return None
    if dist.is_available() and dist.is_initialized():
        return dist
    return None


def is_distributed() -> bool:
    dist = _dist()
    return dist is not None and dist.get_world_size() > 1


def world_size() -> int:
    dist = _dist()
    return dist.get_world_size() if dist is not None else 1


def rank() -> int:
    dist = _dist()
    if dist is not None:
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def is_rank_zero() -> bool:
    return rank() == 0


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
