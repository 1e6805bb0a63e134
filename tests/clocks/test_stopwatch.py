"""The stopwatch and interval timers, driven by a fake clock; CUDA events on a GPU only."""

import time

import pytest

from timing_trainer.clocks.stopwatch import (
    HostIntervalTimer,
    ManualClock,
    Stopwatch,
    SyncedHostIntervalTimer,
    device_type,
    interval_timer_for,
    synchronizer_for,
)
from timing_trainer.errors import StopwatchError


def test_stopwatch_reads_the_injected_clock():
    clock = ManualClock(100.0)
    watch = Stopwatch(clock=clock)
    watch.start()
    clock.advance(2.5)
    assert watch.stop() == 2.5
    assert watch.elapsed == 2.5
    assert not watch.running


def test_stopwatch_synchronizes_and_aligns_ranks_in_the_right_order():
    clock = ManualClock()
    calls = []

    def sync():
        calls.append(("sync", clock()))

    def barrier():
        calls.append(("barrier", clock()))

    watch = Stopwatch(sync=sync, clock=clock, barrier=barrier)
    watch.start()
    clock.advance(1.0)
    watch.stop()
    # Start: ranks aligned, then the device drained, then the clock read; stop: the reverse.
    assert [c[0] for c in calls] == ["barrier", "sync", "sync", "barrier"]


def test_device_work_still_queued_at_stop_is_counted():
    """A sync that takes time (queued kernels finishing) must fall inside the interval."""
    clock = ManualClock()
    watch = Stopwatch(sync=lambda: clock.advance(0.75), clock=clock)
    watch.start()  # the start sync drains earlier work before the clock is read
    clock.advance(0.25)
    assert watch.stop() == pytest.approx(1.0)


def test_stopwatch_misuse_is_a_clear_error():
    watch = Stopwatch(clock=ManualClock())
    with pytest.raises(StopwatchError, match="not started"):
        watch.stop()
    watch.start()
    with pytest.raises(StopwatchError, match="already running"):
        watch.start()
    watch.reset()
    assert not watch.running and watch.elapsed is None


def test_stopwatch_as_context_manager():
    clock = ManualClock()
    with Stopwatch(clock=clock) as watch:
        clock.advance(0.5)
    assert watch.elapsed == 0.5


def test_manual_clock_does_not_go_backwards():
    with pytest.raises(ValueError):
        ManualClock().advance(-1)


def test_host_interval_timer():
    clock = ManualClock()
    timer = HostIntervalTimer(clock)
    for seconds in (0.1, 0.2, 0.3):
        timer.start()
        clock.advance(seconds)
        timer.stop()
        clock.advance(5.0)  # time between intervals is not counted
    assert timer.elapsed_seconds() == pytest.approx([0.1, 0.2, 0.3])
    assert len(timer) == 3
    timer.reset()
    assert timer.elapsed_seconds() == []
    with pytest.raises(StopwatchError):
        timer.stop()


def test_synced_interval_timer_counts_the_device_drain():
    clock = ManualClock()
    timer = SyncedHostIntervalTimer(lambda: clock.advance(0.5), clock)
    timer.start()
    clock.advance(0.25)
    timer.stop()
    assert timer.elapsed_seconds() == [pytest.approx(0.75)]


def test_device_dispatch_on_cpu():
    assert device_type(None) == "cpu"
    assert device_type("cuda:1") == "cuda"
    assert synchronizer_for("cpu")() is None
    assert interval_timer_for("cpu").kind == "host"


def test_real_clock_measures_sleep():
    watch = Stopwatch.for_device("cpu")
    watch.start()
    time.sleep(0.02)
    assert watch.stop() >= 0.02


@pytest.fixture
def cuda_torch():
    """torch, where a CUDA device is present; the test is skipped elsewhere."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    return torch


@pytest.mark.gpu
def test_cuda_events_match_a_synchronized_host_measurement(cuda_torch):
    torch = cuda_torch
    x = torch.randn(4096, 4096, device="cuda")
    timer = interval_timer_for("cuda")
    assert timer.kind == "cuda_event"
    for _ in range(3):  # warm-up
        x @ x
    torch.cuda.synchronize()
    host = []
    for _ in range(5):
        watch = Stopwatch.for_device("cuda")
        watch.start()
        timer.start()
        for _ in range(10):
            x @ x
        timer.stop()
        host.append(watch.stop())
    events = timer.elapsed_seconds()
    assert len(events) == 5
    for e, h in zip(events, host):
        assert e <= h * 1.001 + 1e-4
        assert e == pytest.approx(h, rel=0.05)


@pytest.mark.gpu
def test_unsynchronized_host_clock_undercounts_on_gpu(cuda_torch):
    """Why the stopwatch synchronizes: without it, a host clock times the kernel launch only."""
    torch = cuda_torch
    x = torch.randn(8192, 8192, device="cuda")
    x @ x
    torch.cuda.synchronize()
    start = time.perf_counter()
    x @ x
    unsynced = time.perf_counter() - start
    torch.cuda.synchronize()
    watch = Stopwatch.for_device("cuda")
    watch.start()
    x @ x
    synced = watch.stop()
    assert synced > unsynced


def test_cuda_event_timer_logic_with_fake_events(monkeypatch):
    """The event path on CPU: events are only recorded per interval, read in ms, synced once."""
    torch = pytest.importorskip("torch")
    from timing_trainer.clocks.stopwatch import CudaEventIntervalTimer

    clock = ManualClock()
    syncs = []

    class FakeEvent:
        def __init__(self, enable_timing=False):
            assert enable_timing
            self.at = None

        def record(self):
            self.at = clock()

        def synchronize(self):
            syncs.append(self.at)

        def elapsed_time(self, end):
            return (end.at - self.at) * 1000.0  # CUDA reports milliseconds

    monkeypatch.setattr(torch.cuda, "Event", FakeEvent)
    timer = interval_timer_for("cuda:0")
    assert isinstance(timer, CudaEventIntervalTimer) and timer.kind == "cuda_event"
    for seconds in (0.05, 0.07):
        timer.start()
        clock.advance(seconds)
        timer.stop()
    assert syncs == []  # nothing waited while the intervals ran
    assert timer.elapsed_seconds() == pytest.approx([0.05, 0.07])
    assert len(syncs) == 1  # one synchronize, on the last event
    with pytest.raises(StopwatchError):
        timer.stop()
