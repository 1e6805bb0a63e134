"""Energy beside time: joules of every timed fine-tuning iteration and evaluation.

What is counted: GPU board energy from NVML's total-energy counter (the whole board: its idle
power during the window included) for the GPUs this process computes on, and CPU package energy
from RAPL for the host's packages where readable. Not counted: DRAM, fans, power-supply losses,
the rest of the host. Both counters are the device's, not the process's: other work on the same
GPU or CPU in the window is counted too.

Where the reads sit (timing_trainer.clocks.stopwatch.Stopwatch): at start, after the barrier and the device
synchronize and *before* the clock is read; at stop, after the synchronize, the barrier and the
clock read. The energy window therefore covers exactly the device work the clock covers (the
device is idle at both synchronizes), and the reads' own cost lies outside `finetuning_time` and
`inference_total_time`; the window is longer than the clock's interval by the two reads' own
duration only, on an idle device. Nothing is read inside a timed region: no per-step reads, no
thread, no process. The joules are computed after the clock has stopped, and in a distributed run
each rank reads its own GPU and the ranks' joules are summed (outside the timed region), the CPU
packages once per host (by its first process).

NVML's counter is updated by the driver at its own pace (not per kernel; the board's sensor behind
it samples only part of the time on A100 and H100, Yang et al., SC24), so windows much shorter
than a second are coarse; a fine-tuning iteration or a whole evaluation set is the unit here. An
evaluation's window also holds the model's one-off preparation that `inference_total_time`
subtracts (`model_preparation_time`: only an evaluation before any training has one).

Why `nvidia-ml-py` and not Zeus (`zeus-ml`): Zeus's `ZeusMonitor` reads the same NVML counter, but
its windows synchronize the device themselves (a second synchronize at our boundaries unless
turned off), it starts a power-polling process for GPUs without the counter (an estimate we refuse
to report as energy) and a process per RAPL file to watch for wrap-arounds (background work beside
the timed region), and it installs pandas, scikit-learn, pydantic, rich, tyro, httpx and amdsmi.
`nvidia-ml-py` is NVIDIA's own binding (one 58 kB pure-Python wheel, no dependencies): one call per
GPU at each boundary, nothing else. RAPL is two file reads, no library needed.
"""

from __future__ import annotations

from timing_trainer.energy.meter import EnergyMeter, EnergyWindow, meter_for, summed_over_ranks
from timing_trainer.errors import EnergyUnavailable

__all__ = ["EnergyMeter", "EnergyUnavailable", "EnergyWindow", "meter_for", "summed_over_ranks"]
