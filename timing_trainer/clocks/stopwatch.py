"""Clocks: a device-synchronized stopwatch and per-interval timers.

Why synchronize: CUDA (and MPS) kernels run asynchronously, so a host clock read right after a
forward pass measures how long it took to *queue* the work, not to do it (the thesis read 4.8 ms
for a 69 ms forward pass on an H200). The stopwatch therefore waits for the device at both ends.

Per-batch timings cannot afford a host synchronize per batch (it would stall the pipeline and
change what is measured), so on CUDA the interval timer records a pair of CUDA events around each
interval and reads them all once, at the end. Elsewhere (CPU) the host clock is exact enough,
since the work is done when the call returns.

The clock is an argument everywhere (default `time.perf_counter`), so tests drive the stopwatch
with a fake clock. torch is imported only where a device is involved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from timing_trainer.errors import StopwatchError

Clock = Callable[[], float]


class ManualClock:
    """A clock that only moves when told to: for tests and examples."""

    def __init__(self, start: float = 0.0):
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self.now += seconds


def device_type(device: Any) -> str:
    """'cuda', 'mps', 'cpu', ... for a torch.device, a string like 'cuda:0', or None (cpu)."""
    if device is None:
        return "cpu"
    kind = getattr(device, "type", None)
    if kind is None:
        kind = str(device).split(":", 1)[0]
    return kind


def synchronizer_for(device: Any) -> Callable[[], None]:
    """A function that waits until all queued work on `device` is done (a no-op on CPU)."""
    kind = device_type(device)
    if kind == "cuda":
        import torch

        def _sync_cuda() -> None:
            torch.cuda.synchronize(device)

        return _sync_cuda
    if kind == "mps":
        import torch

        return torch.mps.synchronize
    if kind == "xpu":
        import torch

        return torch.xpu.synchronize
    return _no_sync


def _no_sync() -> None:
    return None


class Stopwatch:
    """Wall time of one region, with the device synchronized (and ranks aligned) at both ends.

    `sync` waits for the device; `barrier` (optional) aligns distributed ranks so every rank
    starts and stops together. Order at start: barrier, sync, read clock; at stop: sync,
    barrier, read clock. Each call of `stop()` returns the seconds since `start()`.

    `probe` (optional, e.g. an energy meter's `read`) is taken at both boundaries, outside the
    interval: at start after the synchronize and before the clock, at stop after the clock.
    So it covers the same device work and its own cost is not timed (`probe_at_start`,
    `probe_at_stop`; see timing_trainer.energy).

    `pause()`/`resume()` take a stretch out of the interval (an evaluation or a checkpoint
    inside the training loop), synchronized like the ends; `paused_seconds` and `pauses` say
    what was taken out, and `pause_probes` the probe readings around each stretch.
    """

    def __init__(
        self,
        sync: Callable[[], None] | None = None,
        clock: Clock = time.perf_counter,
        barrier: Callable[[], None] | None = None,
        probe: Callable[[], Any] | None = None,
    ):
        self._sync = sync or _no_sync
        self._clock = clock
        self._barrier = barrier
        self._probe = probe
        self._started_at: float | None = None
        self._paused_at: float | None = None
        self.elapsed: float | None = None
        self.probe_at_start: Any = None
        self.probe_at_stop: Any = None
        self.paused_seconds = 0.0
        self.pauses = 0
        self.pause_probes: list[tuple[Any, Any]] = []

    @classmethod
    def for_device(cls, device: Any, clock: Clock = time.perf_counter,
                   barrier: Callable[[], None] | None = None,
                   probe: Callable[[], Any] | None = None) -> Stopwatch:
        return cls(sync=synchronizer_for(device), clock=clock, barrier=barrier, probe=probe)

    @property
    def running(self) -> bool:
        return self._started_at is not None

    def start(self) -> None:
        if self._started_at is not None:
            raise StopwatchError("stopwatch already running: stop() it before starting again")
        if self._barrier is not None:
            self._barrier()
        self._sync()
        self.elapsed = None
        self.probe_at_stop = None
        self.paused_seconds, self.pauses, self.pause_probes = 0.0, 0, []
        self.probe_at_start = self._probe() if self._probe is not None else None
        self._started_at = self._clock()

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def _read_end(self) -> tuple[float, Any]:
        """Synchronize, align the ranks, read the clock, then the probe (its cost untimed)."""
        self._sync()
        if self._barrier is not None:
            self._barrier()
        now = self._clock()
        return now, self._probe() if self._probe is not None else None

    def pause(self) -> None:
        """Take what follows out of the interval, until `resume()`."""
        if self._started_at is None or self._paused_at is not None:
            raise StopwatchError("only a running, unpaused stopwatch can pause")
        self._paused_at, probe = self._read_end()
        self.pause_probes.append((probe, None))

    def resume(self) -> None:
        if self._paused_at is None:
            raise StopwatchError("stopwatch was not paused")
        if self._barrier is not None:
            self._barrier()
        self._sync()
        probe = self._probe() if self._probe is not None else None
        now = self._clock()
        self.pause_probes[-1] = (self.pause_probes[-1][0], probe)
        self.paused_seconds += now - self._paused_at
        self.pauses += 1
        self._paused_at = None

    def stop(self) -> float:
        if self._started_at is None:
            raise StopwatchError("stopwatch was not started")
        if self._paused_at is not None:
            self.resume()
        stopped_at, self.probe_at_stop = self._read_end()
        self.elapsed = stopped_at - self._started_at - self.paused_seconds
        self._started_at = None
        return self.elapsed

    def reset(self) -> None:
        """Forget a running or finished timing (a restarted loop starts the clock afresh)."""
        self._started_at = self._paused_at = None
        self.elapsed = None
        self.probe_at_start = self.probe_at_stop = None
        self.paused_seconds, self.pauses, self.pause_probes = 0.0, 0, []

    def __enter__(self) -> Stopwatch:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.running:
            self.stop()


class HostIntervalTimer:
    """Per-interval host-clock timings; right where the work is done when the call returns (CPU)."""

    kind = "host"

    def __init__(self, clock: Clock = time.perf_counter):
        self._clock = clock
        self._starts: list[float] = []
        self._durations: list[float] = []

    def start(self) -> None:
        self._starts.append(self._clock())

    def stop(self) -> None:
        if len(self._starts) != len(self._durations) + 1:
            raise StopwatchError("interval stopped without a start")
        self._durations.append(self._clock() - self._starts[-1])

    def __len__(self) -> int:
        return len(self._durations)

    def elapsed_seconds(self) -> list[float]:
        return list(self._durations)

    def reset(self) -> None:
        self._starts.clear()
        self._durations.clear()


class CudaEventIntervalTimer:
    """Per-interval device timings from CUDA event pairs; one synchronize, when read.

    `start()`/`stop()` only enqueue an event on the current stream (a few microseconds of host
    time, no wait), so the pipeline keeps running as it would without the timer.
    """

    kind = "cuda_event"

    def __init__(self, device: Any = None):
        import torch

        self._torch = torch
        self._device = device
        self._pairs: list[tuple[Any, Any]] = []
        self._open: Any = None

    def start(self) -> None:
        event = self._torch.cuda.Event(enable_timing=True)
        event.record()
        self._open = event

    def stop(self) -> None:
        if self._open is None:
            raise StopwatchError("interval stopped without a start")
        event = self._torch.cuda.Event(enable_timing=True)
        event.record()
        self._pairs.append((self._open, event))
        self._open = None

    def __len__(self) -> int:
        return len(self._pairs)

    def elapsed_seconds(self) -> list[float]:
        """Every interval in seconds; waits once, for the last event."""
        if not self._pairs:
            return []
        self._pairs[-1][1].synchronize()
        return [start.elapsed_time(end) / 1000.0 for start, end in self._pairs]

    def reset(self) -> None:
        self._pairs.clear()
        self._open = None


def interval_timer_for(device: Any, clock: Clock = time.perf_counter):
    """CUDA events on a CUDA device, the host clock elsewhere.

    On MPS the host clock would time only the queueing, so there every interval is closed by
    a device synchronize (documented cost; MPS has no cheap per-interval events here).
    """
    kind = device_type(device)
    if kind == "cuda":
        return CudaEventIntervalTimer(device)
    if kind == "mps":
        return SyncedHostIntervalTimer(synchronizer_for(device), clock)
    return HostIntervalTimer(clock)


class SyncedHostIntervalTimer(HostIntervalTimer):
    """Host-clock intervals with a device synchronize at both ends (for MPS)."""

    kind = "host"  # the schema's name; the synchronize is what makes it right on MPS

    def __init__(self, sync: Callable[[], None], clock: Clock = time.perf_counter):
        super().__init__(clock)
        self._sync = sync

    def start(self) -> None:
        self._sync()
        super().start()

    def stop(self) -> None:
        self._sync()
        super().stop()


# --- peak memory of a timed region: CUDA's allocator statistics; on a CPU, the process's peak
# resident set (Linux's VmHWM); None elsewhere ---


def reset_peak_memory(device: Any) -> None:
    """Start a region's peak: CUDA's allocator statistics, or the process's VmHWM on a CPU (where
    Linux does not permit that reset, the peak counts from the process's start; the results'
    environment says which, `cpu_peak_memory`)."""
    kind = device_type(device)
    if kind == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats(device)
    elif kind == "cpu":
        from timing_trainer.runtime.processes import reset_peak_rss

        reset_peak_rss()


def peak_memory(device: Any) -> int | None:
    """Bytes at the peak since the last reset: CUDA's allocator's, or on a CPU the process's
    resident set (None without /proc); None on other devices."""
    kind = device_type(device)
    if kind == "cuda":
        import torch

        return int(torch.cuda.max_memory_allocated(device))
    if kind == "cpu":
        from timing_trainer.runtime.processes import peak_rss_bytes

        return peak_rss_bytes()
    return None
