"""Peak device memory of a timed region: CUDA's allocator statistics (None elsewhere)."""

from __future__ import annotations

from typing import Any

from timing_trainer.clock import device_type


def reset_peak_memory(device: Any) -> None:
    if device_type(device) == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: Any) -> int | None:
    """Bytes at the allocator's peak since the last reset, on CUDA; None on other devices."""
    if device_type(device) == "cuda":
        import torch

        return int(torch.cuda.max_memory_allocated(device))
    return None
