"""The thesis's run exports: which files its two analyses used, where they are, their checksums.

The thesis's public repository holds its W&B runs-table exports under `wandb time data/`; its
notebooks read exactly the files below (the other exports there, `*_crashed.csv`,
`STS-B XLNet.csv`, `WNLI_cased.csv` and CSV twins of the XLSX files, were left out of its
analyses; reproducing its numbers needs exactly these lists). `timing-trainer thesis-data DIR`
fetches them at the pinned commit, checks each against its SHA-256 recorded here, and lays them
out as `DIR/finetuning/NAME` and `DIR/inference/NAME` (spaces in names as `_`; none of these files
has one). Names and sums are recorded here, never the data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from timing_trainer.errors import RunsLoadError

THESIS_REPOSITORY = ("annakorotkova/Exploration-of-fine-tuning-and-inferencetime-of-large-"
                     "pre-trained-languagemodels-in-NLP")
THESIS_COMMIT = "e1eef8cb28ccd195d6c2dae5a964acb4857d765e"
RAW_BASE_URL = f"https://raw.githubusercontent.com/{THESIS_REPOSITORY}/{THESIS_COMMIT}/"
REMOTE_FOLDERS = {"finetuning": "wandb time data/finetuning time",
                  "inference": "wandb time data/inference time"}


@dataclass(frozen=True)
class ThesisExport:
    kind: str  # "finetuning" or "inference": the analysis that used it, and its folder
    remote_name: str  # the file's name in the repository
    sha256: str
    size: int  # bytes

    @property
    def name(self) -> str:
        """Its path under a thesis-data folder: `finetuning/RTE_cased.csv`."""
        return f"{self.kind}/{self.remote_name.replace(' ', '_')}"

    @property
    def remote_path(self) -> str:
        return f"{REMOTE_FOLDERS[self.kind]}/{self.remote_name}"

    def url(self, base_url: str = RAW_BASE_URL) -> str:
        return base_url.rstrip("/") + "/" + quote(self.remote_path)


def _exports(kind: str, *files: tuple[str, str, int]) -> tuple[ThesisExport, ...]:
    return tuple(ThesisExport(kind, name, sha, size) for name, sha, size in files)


# In the order the thesis's notebooks concatenate them.
THESIS_EXPORTS: tuple[ThesisExport, ...] = _exports(
    "finetuning",
    ("WNLI_uncased.csv", "0301fbd24b791bebf46ef87ccb507dd67f0d9839f8a1f33e8c4e0f686de251d7", 36731),
    ("RTE_uncased.csv", "3614c1415c50823e40f59f7076e1bd82c1d749f6a9f50c923bd75264be6c8623", 69121),
    ("RTE_cased.csv", "9ef3f770a29dbbe253c3cdcf71d357e8379b1398464bd6526c56a48886ba2f45", 28570),
    ("MRPC_uncased.xlsx", "2a916086f35c7fa0d42ba4af6f0c8e6e14a3309911e783708ab45d7ba4d9478f",
     69437),
    ("MRPC_cased.csv", "e75847441ff697abf6f0442ae6a1ab21cc37cb4809565eb1a146561214127e21", 21830),
    ("CoLa_uncased.xlsx", "bc45a8488059f9e1451f33c13c7b7b2663417433143fe7e53f84057f1ea54258",
     119102),
    ("CoLa_cased.csv", "f8e4f2e11bc380756fe488585f5b040a4250e4ea21876172a0c8ae2642d982d0", 118144),
    ("STS-B_all.xlsx", "1a2de1553ca5a6fee606f604a49cc36694956180bd60ddd32fc30f37c3b5be52", 179464),
    ("SST-2_all.csv", "9bb3d3301db22d4835f9edd6bdc80b9d1b44c5f51542e1d2c6f38d2aeca55adb",
     1096689),
) + _exports(
    "inference",
    ("WNLI_uncased.csv", "c997dd6fe835f609b5e04adb036249aba4b51b177b9f896a89b4eb5c7626de14", 30190),
    ("RTE_uncased.csv", "40ec04d83ff602e7cf8565b4ce5d4bbe3e543cfc28bdddcf4abbb83015d5d371", 43651),
    ("RTE_cased.csv", "7f0fad56f52a81f170499262e1b41538412e9f558b24fed2fe61805e5decb5c3", 18094),
    ("MRPC_all.csv", "b6fa25df980530eb75dbb5e8f70a7cd2b9e66d87727b69fbde3bb45481d4d2dd", 64970),
    ("CoLA_all.csv", "3b69e76ad65b7791365ac8e88bc7b2080dbfb73b38cc88a19fcd5a7432934269", 126939),
    ("STS-B_all.csv", "a5800cadfa94650e4354b0da69b96da7111f317b046e703715139a3fc58c3d22", 129065),
)

THESIS_FILES: dict[str, tuple[str, ...]] = {
    kind: tuple(e.name for e in THESIS_EXPORTS if e.kind == kind)
    for kind in ("finetuning", "inference")
}

# The thesis's published counts: finished runs of all runs in its files.
THESIS_COUNTS = {"finetuning": (291, 342), "inference": (267, 297)}
ROWS_PER_FILE = 100_000  # thesis_order_key = file rank * this + row in file


def thesis_order_key(path: str | os.PathLike, kind: str, row: int) -> int | None:
    """Row `row` of export `path`'s position in the table the thesis's `kind` notebook built
    (its files concatenated in `THESIS_FILES` order); None for a file it did not use.

    The thesis's random forest split and its Durbin-Watson statistics depend on that order;
    `order.canonical_order` sorts by it, so they are reproduced whatever order rows arrive in.
    A file is recognised by its folder and name (`finetuning/RTE_cased.csv`), as laid out by
    `timing-trainer thesis-data`.
    """
    path = Path(path)
    name = f"{path.parent.name}/{path.name}"
    files = THESIS_FILES.get(kind, ())
    return files.index(name) * ROWS_PER_FILE + row if name in files else None


def thesis_files(root: str | os.PathLike, kind: str) -> list[str]:
    """Absolute paths of the files the thesis's `kind` analysis used, under `root`.

    `root`: a folder written by `timing-trainer thesis-data` (or laid out the same way).
    """
    if kind not in THESIS_FILES:
        raise RunsLoadError(f"thesis analyses are {' and '.join(THESIS_FILES)}, not {kind!r}")
    root = Path(root).expanduser()
    files = [root / name for name in THESIS_FILES[kind]]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise RunsLoadError(f"thesis exports missing under {root} ({len(missing)} of "
                            f"{len(files)}, e.g. {missing[0]}): fetch them with "
                            f"`timing-trainer thesis-data {root}`")
    return [str(f.resolve()) for f in files]
