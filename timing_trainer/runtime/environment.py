"""The environment a timing was taken in: without it, times from two machines cannot be compared.

Every probe is best-effort: a missing tool (nvidia-smi) or library gives null, never an error,
because a results file with a partial environment beats no results file.
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
    "platform", "precision",
)


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


def _torch_facts() -> dict[str, Any]:
    try:
        import torch
    except ImportError:
        return {"device": "cpu", "gpu_name": None, "gpu_count": 0, "cuda_version": None,
                "torch_version": None}
    facts: dict[str, Any] = {"torch_version": torch.__version__,
                             "cuda_version": torch.version.cuda}
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
    """Device, GPU name and count, driver/CUDA, library versions, CPU model, precision.

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
            "cpu_count": os.cpu_count(),
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
