"""One process's energy meter: the counters it can read, one read per clock boundary.

`meter_for(device, n_gpu, reads_host)` opens what this process can read: NVML for the GPUs it
computes on, RAPL for the host's CPU packages (only in the host's first process, so a
distributed run counts each host once). `read()` takes one reading of every counter; it never
raises (a failed read makes that window's figure null with the reason). `window(start, stop)`
turns two readings into joules, after the clock has stopped.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from timing_trainer.energy import nvml, rapl
from timing_trainer.errors import EnergyUnavailable

_LABELS = {nvml.SOURCE: "GPU board (NVML)", rapl.SOURCE: "CPU package (RAPL)"}
OTHER_RANK = "another rank could not read its energy counters"


@dataclass(frozen=True)
class EnergyWindow:
    """The energy between two readings: joules (summed over the sources), or why not."""

    joules: float | None
    reason: str | None = None


class EnergyMeter:
    """The counters one process reads; `source` names them ("nvml", "rapl", "nvml+rapl")."""

    def __init__(self, counters: tuple[Any, ...] = (), missing: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.counters = tuple(counters)
        self.missing = dict(missing or {})  # source -> why it is not read
        self._clock = clock

    @property
    def source(self) -> str | None:
        return "+".join(c.source for c in self.counters) or None

    @property
    def reason(self) -> str | None:
        """Why nothing is read (None when something is)."""
        if self.counters:
            return None
        parts = [f"{_LABELS.get(k, k)}: {v}" for k, v in self.missing.items()]
        return "no energy counter readable: " + "; ".join(parts)

    def counter(self, source: str) -> Any:
        """The counter of `source` ("nvml", "rapl"), or None when it is not read."""
        return next((c for c in self.counters if c.source == source), None)

    def notes(self) -> dict[str, str]:
        """Reasons for a results file: `energy` when nothing is read, else
        `energy_source.<source>` for each source not counted."""
        if not self.counters:
            return {"energy": self.reason}
        return {f"energy_source.{k}": f"{_LABELS.get(k, k)} not counted: {v}"
                for k, v in self.missing.items()}

    def read(self) -> tuple[float, tuple[Any, ...]] | None:
        """One reading of every counter, stamped with the clock; never raises (a failed read is
        kept as its exception). None when there is nothing to read."""
        if not self.counters:
            return None
        values = []
        for counter in self.counters:
            try:
                values.append(counter.read())
            except Exception as exc:  # noqa: BLE001 - the window says why it has no figure
                values.append(exc)
        return self._clock(), tuple(values)

    def window(self, start: Any, stop: Any) -> EnergyWindow:
        """Joules between readings `start` and `stop`, summed over the counters."""
        if not self.counters:
            return EnergyWindow(None, self.reason)
        if start is None or stop is None:
            return EnergyWindow(None, "the energy counters were not read at both ends")
        seconds = stop[0] - start[0]
        total = 0.0
        for counter, a, b in zip(self.counters, start[1], stop[1]):
            failed = a if isinstance(a, Exception) else b if isinstance(b, Exception) else None
            if failed is not None:
                return EnergyWindow(None, f"{_LABELS[counter.source]} read failed ({failed})")
            try:
                total += counter.joules(a, b, seconds)
            except EnergyUnavailable as exc:
                return EnergyWindow(None, f"{_LABELS[counter.source]}: {exc}")
        return EnergyWindow(total)

    def of_stopwatch(self, stopwatch: Any, total: Callable[[float], float] = float) -> EnergyWindow:
        """The energy of a stopped stopwatch's interval (its probes were this meter's reads),
        summed over the ranks by `total` (every rank must call it; the default: one process).
        The stretches the stopwatch paused for (evaluations, checkpoints) are taken out."""
        window = self.window(stopwatch.probe_at_start, stopwatch.probe_at_stop)
        for at_pause, at_resume in getattr(stopwatch, "pause_probes", ()):
            if window.joules is None:
                break
            paused = self.window(at_pause, at_resume)
            window = (EnergyWindow(max(0.0, window.joules - paused.joules))
                      if paused.joules is not None else paused)
        return summed_over_ranks(window, total)


def summed_over_ranks(window: EnergyWindow, total: Callable[[float], float]) -> EnergyWindow:
    """Every rank's window summed (`total`: a sum across ranks; every rank must call it)."""
    value = total(window.joules if window.joules is not None else math.nan)
    if not math.isnan(value):
        return EnergyWindow(value)
    return EnergyWindow(None, window.reason or OTHER_RANK)


def gpu_ordinals(device: Any, n_gpu: int = 1) -> list[int]:
    """The CUDA ordinals a process computes on: its device, or all `n_gpu` (DataParallel)."""
    kind, _, number = str(device or "cpu").partition(":")  # torch.device prints as cuda:0
    if kind != "cuda":
        return []
    if n_gpu and n_gpu > 1:
        return list(range(n_gpu))
    index = int(number) if number else None
    if index is None:
        import torch

        index = torch.cuda.current_device()
    return [index]


def meter_for(device: Any, n_gpu: int = 1, reads_host: bool = True,
              env: Mapping[str, str] | None = None) -> EnergyMeter:
    """The meter of a process computing on `device`; `reads_host`: this is the host's first
    process (it reads the CPU packages)."""
    env = os.environ if env is None else env
    counters: list[Any] = []
    missing: dict[str, str] = {}
    ordinals = gpu_ordinals(device, n_gpu)
    if not ordinals:
        missing[nvml.SOURCE] = f"no GPU in use (device {getattr(device, 'type', device)})"
    else:
        try:
            counters.append(nvml.open_gpus(ordinals, env))
        except EnergyUnavailable as exc:
            missing[nvml.SOURCE] = str(exc)
    if reads_host:
        try:
            counters.append(rapl.open_rapl(env))
        except EnergyUnavailable as exc:
            missing[rapl.SOURCE] = str(exc)
    return EnergyMeter(tuple(counters), missing)
