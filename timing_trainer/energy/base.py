"""What every energy counter shares: the exception that carries why a figure is unavailable."""

from __future__ import annotations


class EnergyUnavailable(Exception):
    """An energy counter cannot be read; the message is the reason recorded in `unavailable`."""


def text(value: object) -> str:
    """NVML returns bytes in old nvidia-ml-py versions and str in new ones."""
    return value.decode() if isinstance(value, bytes) else str(value)
