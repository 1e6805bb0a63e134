"""The thesis's file lists: which exports its two analyses used (from `thesis-runs/README.md`).

The other exported files (`*_crashed.csv`, `STS-B_XLNet.csv`, `WNLI_cased.csv`) were left out of
its analyses; reproducing its numbers needs exactly these lists.
"""

from __future__ import annotations

import os
from pathlib import Path

THESIS_FILES: dict[str, tuple[str, ...]] = {
    "finetuning": (
        "finetuning/WNLI_uncased.csv", "finetuning/RTE_uncased.csv", "finetuning/RTE_cased.csv",
        "finetuning/MRPC_uncased.xlsx", "finetuning/MRPC_cased.csv",
        "finetuning/CoLa_uncased.xlsx", "finetuning/CoLa_cased.csv",
        "finetuning/STS-B_all.xlsx", "finetuning/SST-2_all.csv",
    ),
    "inference": (
        "inference/WNLI_uncased.csv", "inference/RTE_uncased.csv", "inference/RTE_cased.csv",
        "inference/MRPC_all.csv", "inference/CoLA_all.csv", "inference/STS-B_all.csv",
    ),
}

# The thesis's published counts: finished runs of all runs in its files.
THESIS_COUNTS = {"finetuning": (291, 342), "inference": (267, 297)}


def thesis_files(root: str | os.PathLike, kind: str) -> list[str]:
    """Absolute paths of the files the thesis's `kind` analysis used, under `root`."""
    root = Path(root)
    files = [root / name for name in THESIS_FILES[kind]]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"thesis exports missing: {', '.join(missing)}")
    return [str(f) for f in files]
