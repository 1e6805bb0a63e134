"""`DIR/pilot.json`: what a pilot measured and what it left out, written atomically after every
slice (an interrupted pilot keeps its books), read by the estimate.

    {"format": 1, "sweep": NAME, "sweep_file": PATH, "cwd": FOLDER, "only": {...}, "count": N,
     "status": "finished" | "budget spent" | "interrupted" | "failed" | "running",
     "budget": {"rule": ..., "limit_s": ..., "spent_s": ...},
     "shapes": [{"label", "key", "model", "runs", "slice", "status", "wall_s", "steps",
                 "overrides", "left_out"}],
     "left_out": [{"shape", "runs", "why"}], "started_at", "ended_at"}

`cwd` is the folder the slices ran in: the sweep's relative paths (models, data) are read from
there by the estimate too. A shape's `slice` is its run folder (`NNN-KEY`, NNN the sweep run it
was cut from), null when none ran; `left_out` then says why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from timing_trainer.errors import PilotError
from timing_trainer.runtime.atomic import atomic_write_json
from timing_trainer.sweep.agent.outcomes import read_json

PILOT_FILE = "pilot.json"
FORMAT = 1


def write_manifest(pilot_dir: Path, data: dict[str, Any]) -> Path:
    return atomic_write_json(Path(pilot_dir) / PILOT_FILE, {"format": FORMAT, **data})


def read_manifest(pilot_dir: str | Path) -> dict[str, Any]:
    """The pilot folder's `pilot.json`; `PilotError` (one line) when it has none."""
    folder = Path(pilot_dir)
    if not folder.is_dir():
        raise PilotError(f"pilot folder {str(folder)!r}: no such folder")
    data = read_json(folder / PILOT_FILE)
    if data is None or not isinstance(data.get("shapes"), list):
        raise PilotError(f"{folder}: no readable {PILOT_FILE} (not a pilot folder; make one with "
                         "`timing-trainer pilot SWEEP --out DIR`)")
    return data


def left_out(shapes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shapes no slice measured, with their runs and why, in the sweep's order."""
    out = [{"shape": s["label"], "runs": s["runs"], "why": s["left_out"]}
           for s in shapes if s.get("left_out")]
    return sorted(out, key=lambda item: min(item["runs"], default=0))
