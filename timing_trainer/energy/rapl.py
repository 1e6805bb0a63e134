"""CPU package energy from RAPL through Linux's powercap files.

`/sys/class/powercap/intel-rapl:N/energy_uj` is package N's energy counter in microjoules (Intel,
and AMD Zen under the same driver). Only the package domains are read (`intel-rapl:N` whose
`name` starts with "package"): their sub-domains (core, uncore, dram) are parts of them or not
package energy, and `intel-rapl-mmio` repeats the package counter. Every package of the host is
summed: RAPL counts the whole CPU, other processes included.

Wrap-around: the counter restarts at 0 after `max_energy_range_uj`. A stop value below the start
value is one wrap. More than one wrap in a window cannot be seen from two reads, so a window is
refused (null, with the reason) when it is long enough for that at the package's largest power
(`constraint_*_power_limit_uw` / `max_power_uw`, else 500 W). With a typical 262 kJ range and
250 W that is over 17 minutes; longer windows would need reads inside the timed region.

The root is `/sys/class/powercap`, or `$TIMING_TRAINER_RAPL_ROOT` (tests use a fake tree).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from timing_trainer.errors import EnergyUnavailable

SOURCE = "rapl"
ROOT_ENV = "TIMING_TRAINER_RAPL_ROOT"
DEFAULT_ROOT = "/sys/class/powercap"
DEFAULT_POWER_BOUND_W = 500.0  # when a package states no power limit
_PACKAGE_DIR = re.compile(r"intel-rapl:\d+$")
_LIMIT_FILES = ("constraint_0_power_limit_uw", "constraint_1_power_limit_uw",
                "constraint_0_max_power_uw", "constraint_1_max_power_uw")


def _read_int(path: Path) -> int:
    with open(path, encoding="ascii") as handle:
        return int(handle.read())


def _power_bound_w(domain: Path) -> float:
    """The largest power the package may draw, from its limits (a bound for the wrap check)."""
    values = []
    for name in _LIMIT_FILES:
        try:
            values.append(_read_int(domain / name) / 1e6)
        except (OSError, ValueError):
            continue
    values = [v for v in values if v > 0]
    return max(values) if values else DEFAULT_POWER_BOUND_W


def package_domains(root: Path) -> list[Path]:
    """The package domains under `root`, in order; raises EnergyUnavailable when none."""
    if not root.is_dir():
        raise EnergyUnavailable(f"no RAPL counters ({root} not found)")
    found = []
    for path in sorted(root.iterdir(), key=lambda p: p.name):
        if not _PACKAGE_DIR.match(path.name):
            continue
        try:
            name = (path / "name").read_text(encoding="ascii").strip()
        except OSError:
            continue
        if name.startswith("package"):
            found.append(path)
    if not found:
        raise EnergyUnavailable(f"no RAPL package domain under {root}")
    return found


class CpuEnergy:
    """The package energy counters of the host's CPUs."""

    source = SOURCE

    def __init__(self, files: Sequence[Path], ranges_uj: Sequence[int], bounds_w: Sequence[float]):
        self.files = tuple(str(f) for f in files)
        self.ranges_uj = tuple(ranges_uj)
        self.bounds_w = tuple(bounds_w)

    def read(self) -> tuple[int, ...]:
        """Every package's counter in microjoules (one small file read each)."""
        values = []
        for name in self.files:
            with open(name, "rb") as handle:
                values.append(int(handle.read()))
        return tuple(values)

    def joules(self, start: Sequence[int], stop: Sequence[int], seconds: float) -> float:
        """Joules between two reads, one wrap-around per package allowed."""
        total = 0
        for a, b, span, bound in zip(start, stop, self.ranges_uj, self.bounds_w):
            if seconds * bound * 1e6 >= span:
                raise EnergyUnavailable(
                    f"a {seconds:.0f} s window may hold more than one wrap-around of the RAPL "
                    f"counter ({span / 1e6:.0f} J range at up to {bound:.0f} W)")
            total += b - a if b >= a else b + span - a
        return total / 1e6


def open_rapl(env: Mapping[str, str] | None = None) -> CpuEnergy:
    """The host's package counters; raises EnergyUnavailable with the reason."""
    env = os.environ if env is None else env
    root = Path(env.get(ROOT_ENV) or DEFAULT_ROOT)
    domains = package_domains(root)
    try:
        ranges = [_read_int(d / "max_energy_range_uj") for d in domains]
        counters = CpuEnergy([d / "energy_uj" for d in domains], ranges,
                             [_power_bound_w(d) for d in domains])
        counters.read()
    except PermissionError:
        raise EnergyUnavailable(
            f"RAPL counters under {root} are not readable by this user (energy_uj is root-only "
            "on most systems since 2020)") from None
    except (OSError, ValueError) as exc:
        raise EnergyUnavailable(f"RAPL counters under {root} could not be read ({exc})") from None
    return counters
