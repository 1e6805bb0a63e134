"""The environment a timing was taken in: without it, times from two machines cannot be compared.

Every probe is best-effort: a missing tool (nvidia-smi) or library gives null, never an error,
because a results file with a partial environment beats no results file.

On a CPU the thread count decides the time as much as the hardware does (one thread or all
cores is a several-fold difference), so it is recorded: torch's own counts, the variables that
set them (each one present, null where unset), the logical CPUs and the CPUs this process may
run on. `cpu_peak_memory` says what a CPU run's peak memory figures cover.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from typing import Any

ENVIRONMENT_KEYS = (
    "device", "gpu_name", "gpu_count", "driver_version", "cuda_version", "torch_version",
    "transformers_version", "timing_trainer_version", "python_version", "cpu_model", "cpu_count",
    "cpu_affinity_count", "torch_num_threads", "torch_num_interop_threads", "thread_variables",
    "cpu_peak_memory", "platform", "precision",
)

# The environment variables that set the CPU thread pools: OpenMP's (torch's intra-op pool reads
# it at start-up), MKL's, OpenBLAS's, Apple Accelerate's and numexpr's.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def cpu_model() -> str | None:
    """The CPU's marketing name (Linux /proc/cpuinfo, macOS sysctl), else platform.processor()."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                 text=True, timeout=5, check=False)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or None


def nvidia_driver_version() -> str | None:
    """The NVIDIA driver version from nvidia-smi, or None without one."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return lines[0] if out.returncode == 0 and lines else None


def _version(module_name: str) -> str | None:
    try:
        module = __import__(module_name)
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return getattr(module, "__version__", None)


def thread_variables() -> dict[str, str | None]:
    """Every variable of THREAD_VARIABLES with its value, None where unset (not left out)."""
    return {name: os.environ.get(name) for name in THREAD_VARIABLES}


def cpu_affinity_count() -> int | None:
    """How many CPUs this process may run on (a container or `taskset` limits it below
    `cpu_count`), or None where the system does not say (macOS)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def cpu_peak_memory_scope() -> str | None:
    """What a CPU run's peak memory figures cover: "per region" when this process may reset
    its peak resident set (each timed region then starts afresh), else "since process start"
    and why; None without /proc (the figures are then null, with that reason)."""
    from timing_trainer.runtime.processes import peak_rss_bytes, reset_peak_rss

    if peak_rss_bytes() is None:
        return None
    why_not = reset_peak_rss()  # harmless: every timed region resets it again
    return "per region" if why_not is None else f"since process start: {why_not}"


def _torch_facts() -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        return {"device": "cpu", "gpu_name": None, "gpu_count": 0, "cuda_version": None,
                "torch_version": None, "torch_num_threads": None,
                "torch_num_interop_threads": None}
    facts: dict[str, Any] = {"torch_version": torch.__version__,
                             "cuda_version": torch.version.cuda,
                             "torch_num_threads": torch.get_num_threads(),
                             "torch_num_interop_threads": torch.get_num_interop_threads()}
    if torch.cuda.is_available():
        facts["device"] = "cuda"
        facts["gpu_count"] = torch.cuda.device_count()
        facts["gpu_name"] = torch.cuda.get_device_name(torch.cuda.current_device())
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        facts["device"] = "mps"
        facts["gpu_count"] = 1
        facts["gpu_name"] = "Apple MPS"
    else:
        facts["device"] = "cpu"
        facts["gpu_count"] = 0
        facts["gpu_name"] = None
    return facts


def collect_environment(precision: str | None = None) -> dict[str, Any]:
    """Device, GPU name and count, driver/CUDA, library versions, CPU model, CPU threads (torch's
    and the variables that set them), CPU counts, what CPU peak memory covers, precision.

    `precision` is the numeric precision of the run ("fp32", "tf32", "fp16", "bf16"); the
    caller knows it from its arguments.
    """
    from timing_trainer.version import __version__

    env = _torch_facts()
    env.update(
        {
            "driver_version": nvidia_driver_version() if env.get("device") == "cuda" else None,
            "transformers_version": _version("transformers"),
            "timing_trainer_version": __version__,
            "python_version": platform.python_version(),
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),  # logical CPUs of the machine
            "cpu_affinity_count": cpu_affinity_count(),
            "thread_variables": thread_variables(),
            "cpu_peak_memory": cpu_peak_memory_scope() if env.get("device") == "cpu" else None,
            "platform": platform.platform(),
            "precision": precision,
        }
    )
    return {key: env.get(key) for key in ENVIRONMENT_KEYS}


def precision_of(args: Any, accelerator: Any = None) -> str:
    """The precision the run actually computes in: bf16, fp16, tf32 or fp32.

    Asking is not running: accelerate autocasts fp16 only on accelerators, so `fp16=True` on a
    CPU trains in fp32 (bf16 on a CPU does run in bf16). With the trainer's `accelerator` its
    own decision (`mixed_precision`, `native_amp`) is taken; without it, the device of `args`.
    `bf16_full_eval`/`fp16_full_eval` cast the model itself, so they run as asked.
    """
    mixed = _mixed_precision(args, accelerator)
    if mixed is not None:
        return mixed
    if getattr(args, "bf16_full_eval", False):
        return "bf16"
    if getattr(args, "fp16_full_eval", False):
        return "fp16"
    if getattr(args, "tf32", None):
        return "tf32"
    try:
        import torch

        if torch.cuda.is_available() and torch.backends.cuda.matmul.allow_tf32:
            return "tf32"
    except ImportError:
        pass
    return "fp32"


def _mixed_precision(args: Any, accelerator: Any) -> str | None:
    """bf16 or fp16 when autocast runs in it, else None."""
    if accelerator is not None:
        mode = getattr(accelerator, "mixed_precision", "no")
        return mode if mode in ("bf16", "fp16") and getattr(accelerator, "native_amp", True) \
            else None
    if getattr(args, "bf16", False):
        return "bf16"
    if getattr(args, "fp16", False):
        device = getattr(args, "device", None)  # TrainingArguments: cpu, cuda:0, mps, ...
        return None if str(device or "").startswith("cpu") else "fp16"
    return None
