"""GPU board energy from NVML's total-energy counter (`nvidia-ml-py`, module `pynvml`).

`nvmlDeviceGetTotalEnergyConsumption` gives the millijoules a board has used since the driver
loaded (Volta and newer; older cards answer "not supported", and then the figure is null with
that reason: an average of power samples is not a substitute). One read is one call per GPU, a
cheap query of a counter the driver keeps; no thread, no process, no device synchronize.

Which GPUs: the ones this process computes on, given as CUDA ordinals (`cuda:0` is ordinal 0 of
the devices CUDA shows this process). Each ordinal is matched to an NVML device:
1. by the UUID torch reports for it (`torch.cuda.get_device_properties(i).uuid`): this follows
   `CUDA_VISIBLE_DEVICES` in every form CUDA accepts (indices, `GPU-` UUIDs and their prefixes,
   MIG UUIDs) and `CUDA_DEVICE_ORDER`, because CUDA itself did the mapping;
2. without it (no CUDA torch), by the ordinal's `CUDA_VISIBLE_DEVICES` entry: an index is taken
   as NVML's index (right with `CUDA_DEVICE_ORDER=PCI_BUS_ID` or identical GPUs; NVML counts in
   PCI order), a `GPU-` UUID or unique prefix is looked up among NVML's devices.
A MIG instance gets no figure: NVML's counter belongs to the whole GPU, whose instances may run
other work, so it is not attributed to one instance (the reason says so).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from timing_trainer.errors import EnergyUnavailable

SOURCE = "nvml"
NOT_INSTALLED = "nvidia-ml-py not installed (pip install nvidia-ml-py)"
MIG_REASON = ("{} is a MIG instance: NVML's energy counter belongs to the whole GPU, shared by "
              "its instances, so it is not attributed to one")



def text(value: object) -> str:
    """NVML returns bytes in old nvidia-ml-py versions and str in new ones."""
    return value.decode() if isinstance(value, bytes) else str(value)

def load_nvml() -> Any:
    """The initialised `pynvml` module (NVML calls are reference counted; never shut down here:
    the handles stay valid for the process)."""
    try:
        import pynvml
    except ImportError:
        raise EnergyUnavailable(NOT_INSTALLED) from None
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - NVMLError, or OSError from loading the library
        raise EnergyUnavailable(f"NVML could not start ({exc})") from None
    return pynvml


def torch_uuid(ordinal: int) -> str | None:
    """`GPU-<uuid>` of CUDA device `ordinal` as torch sees it, or None without CUDA torch."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    try:
        uuid = torch.cuda.get_device_properties(ordinal).uuid
    except Exception:  # noqa: BLE001 - an old torch without `uuid`: fall back to the variable
        return None
    return f"GPU-{uuid}" if uuid else None


def visible_entry(ordinal: int, env: Mapping[str, str]) -> str:
    """The `CUDA_VISIBLE_DEVICES` entry behind CUDA ordinal `ordinal` (the ordinal when unset)."""
    value = env.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return str(ordinal)
    entries = [entry.strip() for entry in value.split(",")]
    if ordinal >= len(entries) or not entries[ordinal]:
        raise EnergyUnavailable(f"cuda:{ordinal} has no entry in CUDA_VISIBLE_DEVICES={value!r}")
    return entries[ordinal]


def _by_uuid(nvml: Any, ident: str) -> Any:
    """The NVML device whose UUID is `ident` or starts with it (CUDA accepts unique prefixes)."""
    handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
    found = [h for h in handles if text(nvml.nvmlDeviceGetUUID(h)).startswith(ident)]
    if len(found) == 1:
        return found[0]
    if not found and _is_mig_uuid(nvml, "MIG-" + ident[len("GPU-"):]):
        raise EnergyUnavailable(MIG_REASON.format(ident))
    what = "no NVML device" if not found else "more than one NVML device"
    raise EnergyUnavailable(f"{what} has the UUID {ident}")


def _is_mig_uuid(nvml: Any, ident: str) -> bool:
    try:
        nvml.nvmlDeviceGetHandleByUUID(ident)
    except Exception:  # noqa: BLE001 - not found (or no MIG support): not a MIG instance
        return False
    return True


def find_handle(nvml: Any, ident: str) -> Any:
    """The NVML handle for a device identifier (`GPU-...` UUID or prefix, index, `MIG-...`)."""
    if ident.startswith("MIG-"):
        raise EnergyUnavailable(MIG_REASON.format(ident))
    if ident.startswith("GPU-"):
        return _by_uuid(nvml, ident)
    if ident.isdigit():
        try:
            return nvml.nvmlDeviceGetHandleByIndex(int(ident))
        except Exception as exc:  # noqa: BLE001 - NVMLError: invalid or missing index
            raise EnergyUnavailable(f"NVML has no GPU {ident} ({exc})") from None
    raise EnergyUnavailable(f"CUDA_VISIBLE_DEVICES entry {ident!r} is neither an index nor a "
                            "GPU UUID")


class GpuEnergy:
    """The total-energy counters of the GPUs a process computes on."""

    source = SOURCE

    def __init__(self, nvml: Any, handles: Sequence[Any], names: Sequence[str]):
        self.nvml = nvml
        self.handles = tuple(handles)
        self.names = tuple(names)
        self._get = nvml.nvmlDeviceGetTotalEnergyConsumption

    def read(self) -> tuple[int, ...]:
        """Every GPU's counter in millijoules (one NVML call each; raises NVMLError)."""
        get = self._get
        return tuple(get(handle) for handle in self.handles)

    def joules(self, start: Sequence[int], stop: Sequence[int], seconds: float) -> float:
        """Joules between two reads, summed over the GPUs."""
        deltas = [b - a for a, b in zip(start, stop)]
        if any(delta < 0 for delta in deltas):
            raise EnergyUnavailable("NVML's energy counter went backwards (driver reloaded?)")
        return sum(deltas) / 1000.0

    def power_limits_w(self) -> dict[str, float | None]:
        """The enforced and the default (TDP) power limits in watts, summed over the GPUs."""
        limits: dict[str, float | None] = {}
        for key, call in (("enforced_w", "nvmlDeviceGetEnforcedPowerLimit"),
                          ("default_w", "nvmlDeviceGetPowerManagementDefaultLimit")):
            try:
                limits[key] = sum(getattr(self.nvml, call)(h) for h in self.handles) / 1000.0
            except Exception:  # noqa: BLE001 - a query the card or driver does not support
                limits[key] = None
        return limits


def _check_counter(nvml: Any, handle: Any, name: str) -> None:
    try:
        nvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except Exception as exc:  # noqa: BLE001 - NVMLError
        if getattr(exc, "value", None) == getattr(nvml, "NVML_ERROR_NOT_SUPPORTED", object()):
            raise EnergyUnavailable(f"{name} has no NVML total-energy counter (Volta or newer "
                                    "needed); power samples are not a substitute") from None
        raise EnergyUnavailable(f"{name}: NVML's energy counter could not be read ({exc})") \
            from None


def open_gpus(ordinals: Sequence[int], env: Mapping[str, str] | None = None) -> GpuEnergy:
    """The counters of CUDA devices `ordinals`; raises EnergyUnavailable with the reason."""
    env = os.environ if env is None else env
    nvml = load_nvml()
    handles, names = [], []
    for ordinal in ordinals:
        ident = torch_uuid(ordinal) or visible_entry(ordinal, env)
        handle = find_handle(nvml, ident)
        name = f"cuda:{ordinal} ({text(nvml.nvmlDeviceGetName(handle))})"
        _check_counter(nvml, handle, name)
        handles.append(handle)
        names.append(name)
    return GpuEnergy(nvml, handles, names)
