"""GLUE data: the Hub dataset `nyu-mll/glue`, or GLUE-baselines TSV folders on disk.

The thesis read the TSV folders written by GLUE-baselines' `download_glue_data.py`; most users
today load `nyu-mll/glue` from the Hub. Both end up as the same thing: one `datasets.Dataset` per
split with the Hub's column names (the task's `text_columns` and an integer or float `label`), so
tokenization, metrics and the cache do not care where the data came from.

TSV facts (from GLUE-baselines and the old `transformers` GLUE processors):
- every task has `train.tsv` and `dev.tsv`, except MNLI: `dev_matched.tsv`, `dev_mismatched.tsv`;
- CoLA has no header row (columns: source, label, original judgement, sentence); every other
  file has a header, and columns are found by header name, so MNLI's train (12 columns) and dev
  (16 columns) files both work;
- quotes are text, not field delimiters (`csv.QUOTE_NONE`): `"Yes," he said.` stays as it is;
- labels are integers (CoLA, SST-2, MRPC, QQP, WNLI), names (MNLI, QNLI, RTE) or float scores
  (STS-B); names map to the Hub's label ids through the task table;
- the label is read from the end of a row where the header ends with it (`line[-1]`, as the old
  processors did), so a stray tab inside a sentence does not shift it;
- rows with too few fields (a handful in QQP's train.tsv) are skipped with a warning, as the old
  processors did.

Torch-free; `datasets` is imported only when a split is built.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.glue.errors import GlueInputError, one_line
from timing_trainer.tasks import TASKS, GlueTask

logger = logging.getLogger(__name__)

HUB_DATASET = "nyu-mll/glue"

# GLUE TSV fields can be long (MNLI parses); the csv module's default limit is 128 KiB.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class TsvLayout:
    """Where a task's text and label live in its GLUE-baselines TSV files.

    `columns` is the train file's header (for CoLA, which has none, the columns' nominal names in
    order); `dev_columns` is the dev files' header where it differs (MNLI).
    """

    columns: tuple[str, ...]
    text_fields: tuple[str, ...]
    label_field: str
    has_header: bool = True
    dev_columns: tuple[str, ...] | None = None
    labels_as_names: bool = False  # MNLI, QNLI, RTE write "entailment"; the others write 0/1

    def header_for(self, dev: bool) -> tuple[str, ...]:
        return self.dev_columns if dev and self.dev_columns else self.columns


_PAIR_INDEXED = ("index", "sentence1", "sentence2", "label")
_MNLI_COMMON = (
    "index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
    "sentence1_parse", "sentence2_parse", "sentence1", "sentence2",
)

TSV_LAYOUTS: dict[str, TsvLayout] = {
    "cola": TsvLayout(
        ("source", "label", "original_label", "sentence"), ("sentence",), "label", has_header=False
    ),
    "sst2": TsvLayout(("sentence", "label"), ("sentence",), "label"),
    "mrpc": TsvLayout(
        ("Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"), ("#1 String", "#2 String"),
        "Quality",
    ),
    "stsb": TsvLayout(
        ("index", "genre", "filename", "year", "old_index", "source1", "source2", "sentence1",
         "sentence2", "score"),
        ("sentence1", "sentence2"), "score",
    ),
    "qqp": TsvLayout(
        ("id", "qid1", "qid2", "question1", "question2", "is_duplicate"),
        ("question1", "question2"), "is_duplicate",
    ),
    "mnli": TsvLayout(
        (*_MNLI_COMMON, "label1", "gold_label"), ("sentence1", "sentence2"), "gold_label",
        dev_columns=(*_MNLI_COMMON, "label1", "label2", "label3", "label4", "label5", "gold_label"),
        labels_as_names=True,
    ),
    "qnli": TsvLayout(
        ("index", "question", "sentence", "label"), ("question", "sentence"), "label",
        labels_as_names=True,
    ),
    "rte": TsvLayout(_PAIR_INDEXED, ("sentence1", "sentence2"), "label", labels_as_names=True),
    "wnli": TsvLayout(_PAIR_INDEXED, ("sentence1", "sentence2"), "label"),
}

TRAIN_FILE = "train.tsv"


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


# ---------------------------------------------------------------------------------------------
# TSV reading


def _open_tsv(path: Path):
    # utf-8-sig: MRPC's files start with the byte-order mark of the original Microsoft release.
    return open(path, encoding="utf-8-sig", newline="")


def _reader(handle) -> Iterable[list[str]]:
    return csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)


def _field_positions(path: Path, task: GlueTask, first_row: list[str] | None) -> dict[str, int]:
    """Column index of each needed field, from the header (or CoLA's fixed positions)."""
    layout = TSV_LAYOUTS[task.name]
    needed = (*layout.text_fields, layout.label_field)
    if not layout.has_header:
        width = len(layout.columns)
        if first_row is not None and len(first_row) < width:
            raise GlueInputError(
                f"{task.display_name} file {str(path)!r}: expected {width} tab-separated columns "
                f"(no header: {', '.join(layout.columns)}), found {len(first_row)}"
            )
        return {name: layout.columns.index(name) for name in needed}
    if first_row is None:
        raise GlueInputError(f"{task.display_name} file {str(path)!r} is empty (no header row)")
    header = [name.strip().lstrip("\ufeff") for name in first_row]
    missing = [name for name in needed if name not in header]
    if missing:
        raise GlueInputError(
            f"{task.display_name} file {str(path)!r}: missing column "
            f"{', '.join(repr(m) for m in missing)} (header: {', '.join(header)})"
        )
    positions = {name: header.index(name) for name in needed}
    if header[-1] == layout.label_field:
        # The label is the last field of a row, as the old GLUE processors read it (`line[-1]`):
        # a stray tab inside a sentence then cannot shift it.
        positions[layout.label_field] = -1
    return positions


def check_tsv_header(path: Path, task: GlueTask) -> None:
    """Fail fast (before any model is loaded) when a file lacks a column the task needs."""
    try:
        with _open_tsv(path) as handle:
            first = next(iter(_reader(handle)), None)
    except UnicodeDecodeError as exc:
        raise GlueInputError(_not_utf8(path, task, exc)) from None
    _field_positions(path, task, first)


def _convert_label(raw: str, task: GlueTask, where: str) -> int | float:
    value = raw.strip()
    if task.labels is None:
        try:
            score = float(value)
        except ValueError:
            raise GlueInputError(f"{where}: score {raw!r} is not a number") from None
        if not math.isfinite(score):  # nan/inf train to a null loss and "finish" with garbage
            raise GlueInputError(f"{where}: score {raw!r} is not a finite number")
        return score
    if value in task.labels:
        return task.labels.index(value)
    # ASCII digits only: str.isdigit() accepts "²", which int() then refuses.
    if value.isascii() and value.isdigit() and int(value) < len(task.labels):
        return int(value)
    raise GlueInputError(
        f"{where}: label {raw!r} is not one of {', '.join(task.labels)} "
        f"or 0..{len(task.labels) - 1}"
    )


def read_tsv(path: str | Path, task: GlueTask) -> dict[str, list[Any]]:
    """Read one GLUE TSV file into columns named like the Hub's (`text_columns` and `label`).

    Bad content is a `GlueInputError` naming the file (and the line where there is one): bytes
    that are not UTF-8, a label that is not one of the task's, a score that is not finite.
    """
    path = Path(path)
    try:
        return _read_tsv(path, task)
    except UnicodeDecodeError as exc:
        raise GlueInputError(_not_utf8(path, task, exc)) from None


def _not_utf8(path: Path, task: GlueTask, exc: UnicodeDecodeError) -> str:
    """Where the first byte that is not UTF-8 lies (the text reader decodes in chunks)."""
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
        start = exc.start
    except UnicodeDecodeError as whole:
        start = whole.start
    line = data[:start].count(b"\n") + 1
    return (f"{task.display_name} file {str(path)!r}, line {line}: not UTF-8 text (byte "
            f"{data[start:start + 1]!r} at offset {start}); convert the file to UTF-8")


def check_tsv(path: str | Path, task: GlueTask) -> int:
    """Read a whole file as `read_tsv` does, keeping nothing: bad content fails here, before any
    model is loaded (MNLI's 393k training rows take about a second). Returns the rows read."""
    return len(read_tsv(path, task)["label"])


def _read_tsv(path: Path, task: GlueTask) -> dict[str, list[Any]]:
    layout = TSV_LAYOUTS[task.name]
    columns: dict[str, list[Any]] = {name: [] for name in (*task.text_columns, "label")}
    skipped = 0
    with _open_tsv(path) as handle:
        rows = iter(_reader(handle))
        first = next(rows, None)
        positions = _field_positions(path, task, first)
        if not layout.has_header and first is not None:
            rows = _chain_first(first, rows)
        last_text = max(positions[f] for f in layout.text_fields)
        label_at = positions[layout.label_field]
        width = last_text + 2 if label_at < 0 else max(last_text, label_at) + 1  # fields needed
        line = 1 if layout.has_header else 0
        for row in rows:
            line += 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) < width:
                skipped += 1
                continue
            for column, field_name in zip(task.text_columns, layout.text_fields):
                columns[column].append(row[positions[field_name]])
            where = f"{task.display_name} file {str(path)!r}, line {line}"
            columns["label"].append(
                _convert_label(row[positions[layout.label_field]], task, where)
            )
    if skipped:
        logger.warning("%s: skipped %d rows with fewer than %d fields", path, skipped, width)
    if not columns["label"]:
        raise GlueInputError(f"{task.display_name} file {str(path)!r} has no examples")
    return columns


def _chain_first(first: list[str], rest: Iterable[list[str]]) -> Iterable[list[str]]:
    yield first
    yield from rest


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
    """GLUE-baselines TSV files of one task; files and headers are checked on construction."""

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
