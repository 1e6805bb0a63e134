"""GLUE data: the Hub dataset `nyu-mll/glue`, or GLUE-baselines TSV folders on disk.

The thesis read the TSV folders written by GLUE-baselines' `download_glue_data.py` (their layout
and parsing: `timing_trainer.glue.tsv`); most users today load `nyu-mll/glue` from the Hub. Both
end up as the same thing: one `datasets.Dataset` per split with the Hub's column names (the
task's `text_columns` and an integer or float `label`), so tokenization, metrics and the cache
do not care where the data came from. A TSV folder is checked whole when it is opened, before
any model is loaded.

Torch-free; `datasets` is imported only when a split is built.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.errors import GlueInputError, one_line
from timing_trainer.glue.tsv import TRAIN_FILE, check_tsv, check_tsv_header, read_tsv
from timing_trainer.tasks import TASKS, GlueTask

HUB_DATASET = "nyu-mll/glue"


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


# ---------------------------------------------------------------------------------------------
# Folder resolution


def resolve_task_dir(data_dir: str | Path, task: GlueTask) -> Path:
    """The task's TSV folder, given either that folder or a GLUE root holding one per task.

    A root is matched case-insensitively in both spellings (`SST-2`, `sst2`, `STS-B`, `CoLA`), so
    one sweep over several tasks can pass a single `--data_dir`.
    """
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise GlueInputError(f"data_dir {str(root)!r} does not exist or is not a folder")
    if (root / TRAIN_FILE).is_file():
        named = TASKS.get(_normalise(root.name))
        if named is not None and named.name != task.name:
            raise GlueInputError(
                f"data_dir {str(root)!r} is the {named.display_name} folder, but the task is "
                f"{task.display_name}; pass the GLUE root or the {task.display_name} folder"
            )
        return root
    matches = [p for p in root.iterdir() if p.is_dir() and _normalise(p.name) == task.name]
    if not matches:
        raise GlueInputError(
            f"data_dir {str(root)!r} has no {TRAIN_FILE} and no {task.display_name} task folder "
            f"(looked for {task.display_name}/ or {task.name}/, any case)"
        )
    # Prefer GLUE's own spelling, then the canonical id, then the first in sorted order.
    matches.sort(key=lambda p: (p.name != task.display_name, p.name != task.name, p.name))
    return matches[0]


def tsv_split_files(task_dir: Path, task: GlueTask) -> dict[str, Path]:
    """`{"train": train.tsv, <eval split name>: dev file, ...}`; every file must exist."""
    files = {"train": task_dir / TRAIN_FILE}
    files.update({split.name: task_dir / split.tsv_file for split in task.eval_splits})
    for path in files.values():
        if not path.is_file():
            raise GlueInputError(f"missing TSV file {str(path)!r} for {task.display_name}")
    return files


def files_fingerprint(paths: Iterable[Path]) -> str:
    """A content hash of the data files (name and bytes), the data part of the cache key."""
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# Sources: where the raw splits come from


@dataclass
class RawSplits:
    """A task's raw data: the train split and every evaluation split, in the task's order."""

    train: Any  # datasets.Dataset
    evals: dict[str, Any]  # EvalSplit.name -> datasets.Dataset


def _features(task: GlueTask):
    import datasets

    label = (
        datasets.Value("float32") if task.labels is None
        else datasets.ClassLabel(names=list(task.labels))
    )
    return datasets.Features(
        {**{c: datasets.Value("string") for c in task.text_columns}, "label": label}
    )


def first_rows(dataset: Any, limit: int | None) -> Any:
    """The first `limit` rows (all when `limit` is None or larger), as run_glue selects them."""
    if limit is None or limit >= len(dataset):
        return dataset
    return dataset.select(range(limit))


class TsvSource:
    """GLUE-baselines TSV files of one task, checked whole on construction: the files, their
    headers (a few bytes each, so a missing column fails at once), then every row."""

    kind = "tsv"

    def __init__(self, data_dir: str | Path, task: GlueTask):
        self.task = task
        self.task_dir = resolve_task_dir(data_dir, task)
        self.files = tsv_split_files(self.task_dir, task)
        for path in self.files.values():
            check_tsv_header(path, task)
        for path in self.files.values():
            check_tsv(path, task)
        self._fingerprint: str | None = None

    @property
    def location(self) -> str:
        return str(self.task_dir.resolve())

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = files_fingerprint(self.files.values())
        return self._fingerprint

    def load(self) -> RawSplits:
        import datasets

        features = _features(self.task)
        loaded = {
            name: datasets.Dataset.from_dict(read_tsv(path, self.task), features=features)
            for name, path in self.files.items()
        }
        train = loaded.pop("train")
        return RawSplits(train=train, evals=loaded)


class HubSource:
    """The Hub dataset (`nyu-mll/glue` by default), loaded through `datasets`' own cache."""

    kind = "hub"

    def __init__(self, task: GlueTask, dataset_name: str = HUB_DATASET, cache_dir: str | None = None):
        self.task = task
        self.dataset_name = dataset_name
        self.cache_dir = cache_dir
        self._raw: RawSplits | None = None

    @property
    def location(self) -> str:
        return f"{self.dataset_name}/{self.task.name}"

    def load(self) -> RawSplits:
        if self._raw is None:
            import datasets

            try:
                loaded = datasets.load_dataset(
                    self.dataset_name, self.task.name, cache_dir=self.cache_dir
                )
            except Exception as exc:  # no network, unknown dataset, ...
                raise GlueInputError(
                    f"cannot load {self.location} from the Hub ({one_line(exc)}); "
                    "pass --data_dir to read GLUE TSV files instead"
                ) from None
            keep = [*self.task.text_columns, "label"]
            splits = {}
            for name, hub_split in [("train", "train")] + [
                (s.name, s.hub_split) for s in self.task.eval_splits
            ]:
                if hub_split not in loaded:
                    raise GlueInputError(f"{self.location} has no split {hub_split!r}")
                split = loaded[hub_split]
                missing = [c for c in keep if c not in split.column_names]
                if missing:
                    raise GlueInputError(
                        f"{self.location} split {hub_split!r}: missing column {', '.join(missing)}"
                    )
                splits[name] = split.select_columns(keep)
            train = splits.pop("train")
            self._raw = RawSplits(train=train, evals=splits)
        return self._raw

    @property
    def fingerprint(self) -> str:
        raw = self.load()
        parts = [self.location, getattr(raw.train, "_fingerprint", "")]
        parts += [getattr(d, "_fingerprint", "") for d in raw.evals.values()]
        return hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def open_source(
    task: GlueTask,
    data_dir: str | None,
    dataset_name: str = HUB_DATASET,
    cache_dir: str | None = None,
) -> TsvSource | HubSource:
    """TSV files when `data_dir` is given (checked now), else the Hub dataset (loaded lazily)."""
    if data_dir:
        return TsvSource(data_dir, task)
    return HubSource(task, dataset_name, cache_dir)
