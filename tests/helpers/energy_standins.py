"""Stand-ins for the energy counters: a fake NVML module and fake RAPL trees.

- `fake_nvml(gpus)`: a module shaped like `pynvml` (the calls timing_trainer.energy makes) whose
  total-energy counter advances with each GPU's known power against `time.perf_counter`, and
  which logs every energy read (GPU, time) in `module.reads`. Install it as
  `sys.modules["pynvml"]`; `use_gpu_zero(monkeypatch)` makes a CPU run count GPU 0 as its GPU.
- `write_rapl_tree(root, ...)`: a powercap tree (packages, their core/dram sub-domains, an
  `intel-rapl-mmio` copy) with counters set by `set_counter`; `LiveRapl` advances the package
  counters with a known power from a thread (so a child process reads a moving counter too).
- `sitecustomize_for(folder, watts)`: a `sitecustomize.py` that installs the fake NVML in any
  Python process started with `folder` on PYTHONPATH (for the GLUE program as a subprocess).
"""

from __future__ import annotations

import os
import threading
import time
import types
from dataclasses import dataclass
from pathlib import Path

NOT_SUPPORTED, INVALID_ARGUMENT, NOT_FOUND = 3, 2, 6
RANGE_UJ = 262_143_328_850  # a common max_energy_range_uj


class NVMLError(Exception):
    def __init__(self, value: int):
        self.value = value
        super().__init__({NOT_SUPPORTED: "Not Supported", NOT_FOUND: "Not Found",
                          INVALID_ARGUMENT: "Invalid Argument"}.get(value, f"error {value}"))


@dataclass
class FakeGpu:
    uuid: str
    watts: float = 250.0
    name: str = "NVIDIA Fake 80GB"
    supported: bool = True  # False: a pre-Volta card without the energy counter
    enforced_limit_mw: int = 700_000
    default_limit_mw: int = 700_000


def fake_nvml(gpus: list[FakeGpu], mig_uuids: tuple[str, ...] = (),
              init_error: int | None = None) -> types.ModuleType:
    """A `pynvml` stand-in over `gpus` (NVML index order)."""
    nvml = types.ModuleType("pynvml")
    nvml.NVMLError = NVMLError
    nvml.NVML_ERROR_NOT_SUPPORTED = NOT_SUPPORTED
    nvml.reads = []

    def init():
        if init_error is not None:
            raise NVMLError(init_error)

    def by_index(index):
        if not 0 <= index < len(gpus):
            raise NVMLError(INVALID_ARGUMENT)
        return gpus[index]

    def by_uuid(uuid):
        for gpu in gpus:
            if gpu.uuid == uuid:
                return gpu
        if uuid in mig_uuids:
            return FakeGpu(uuid)
        raise NVMLError(NOT_FOUND)

    def energy(gpu):
        if not gpu.supported:
            raise NVMLError(NOT_SUPPORTED)
        now = time.perf_counter()
        nvml.reads.append((gpu.uuid, now))
        return int(gpu.watts * now * 1000)  # millijoules since "driver load"

    nvml.nvmlInit = init
    nvml.nvmlDeviceGetCount = lambda: len(gpus)
    nvml.nvmlDeviceGetHandleByIndex = by_index
    nvml.nvmlDeviceGetHandleByUUID = by_uuid
    nvml.nvmlDeviceGetUUID = lambda gpu: gpu.uuid.encode()  # old bindings return bytes
    nvml.nvmlDeviceGetName = lambda gpu: gpu.name
    nvml.nvmlDeviceGetTotalEnergyConsumption = energy
    nvml.nvmlDeviceGetEnforcedPowerLimit = lambda gpu: gpu.enforced_limit_mw
    nvml.nvmlDeviceGetPowerManagementDefaultLimit = lambda gpu: gpu.default_limit_mw
    return nvml


def use_gpu_zero(monkeypatch) -> None:
    """Make a CPU run's meter count CUDA ordinal 0 as the GPU it computes on."""
    from timing_trainer.energy import meter

    monkeypatch.setattr(meter, "gpu_ordinals", lambda device, n_gpu=1: [0])


def _write(path: Path, value) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{value}\n")
    os.replace(tmp, path)  # a reader never sees a half-written number


def write_rapl_tree(root: Path, packages: int = 1, range_uj: int = RANGE_UJ,
                    limit_w: float | None = 150.0) -> Path:
    """A powercap tree with `packages` package domains (counters at 0), each with core and dram
    sub-domains, plus an `intel-rapl-mmio:0` package that repeats package 0."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "intel-rapl").mkdir(exist_ok=True)  # the control type: no counter
    domains = [(f"intel-rapl:{n}", f"package-{n}") for n in range(packages)]
    domains += [(f"intel-rapl:{n}:0", "core") for n in range(packages)]
    domains += [(f"intel-rapl:{n}:1", "dram") for n in range(packages)]
    domains += [("intel-rapl-mmio:0", "package-0")]
    for folder, name in domains:
        path = root / folder
        path.mkdir(exist_ok=True)
        (path / "name").write_text(name + "\n")
        (path / "max_energy_range_uj").write_text(f"{range_uj}\n")
        if limit_w is not None:
            (path / "constraint_0_power_limit_uw").write_text(f"{int(limit_w * 1e6)}\n")
        _write(path / "energy_uj", 0 if "package" in name else 123_456_789)
    return root


def set_counter(root: Path, package: int, microjoules: int) -> None:
    _write(root / f"intel-rapl:{package}" / "energy_uj", microjoules)


class LiveRapl:
    """Package counters that advance at `watts` each (wrapping at `range_uj`), updated every
    `period` seconds by a thread: `with LiveRapl(root, 40.0): ...`."""

    def __init__(self, root: Path, watts: float, packages: int = 1, range_uj: int = RANGE_UJ,
                 period: float = 0.002, start_uj: int = 0):
        self.root = write_rapl_tree(root, packages, range_uj, limit_w=4 * watts)
        self.watts, self.packages, self.range_uj = watts, packages, range_uj
        self.period, self.start_uj = period, start_uj
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        began = time.perf_counter()
        while not self._stop.is_set():
            value = self.start_uj + int(self.watts * (time.perf_counter() - began) * 1e6)
            for package in range(self.packages):
                set_counter(self.root, package, value % self.range_uj)
            self._stop.wait(self.period)

    def __enter__(self) -> LiveRapl:
        self._thread.start()
        time.sleep(5 * self.period)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


SITECUSTOMIZE = """\
import sys
sys.path.insert(0, {helpers!r})
from energy_standins import FakeGpu, fake_nvml
sys.modules["pynvml"] = fake_nvml([FakeGpu("GPU-fake-0", watts={watts!r})])
import timing_trainer.energy.meter as _meter
_meter.gpu_ordinals = lambda device, n_gpu=1: [0]
"""


def sitecustomize_for(folder: Path, watts: float) -> Path:
    """A folder whose `sitecustomize.py` gives every Python started with it on PYTHONPATH a fake
    GPU 0 of `watts` (CPU runs included)."""
    folder.mkdir(parents=True, exist_ok=True)
    helpers = str(Path(__file__).resolve().parent)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(helpers=helpers, watts=watts))
    return folder


def python_path_with(folder: Path) -> str:
    """PYTHONPATH with `folder` first (its sitecustomize wins)."""
    return os.pathsep.join([str(folder), *filter(None, [os.environ.get("PYTHONPATH")])])
