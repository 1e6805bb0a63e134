"""GLUE-baselines TSV files: where each task's text and label live, and reading them.

The thesis read the TSV folders written by GLUE-baselines' `download_glue_data.py`. Facts (from
GLUE-baselines and the old `transformers` GLUE processors):
- every task has `train.tsv` and `dev.tsv`, except MNLI: `dev_matched.tsv`, `dev_mismatched.tsv`;
- CoLA has no header row (columns: source, label, original judgement, sentence); every other
  file has a header, and columns are found by header name, so MNLI's train (12 columns) and dev
  (16 columns) files both work;
- quotes are text, not field delimiters (`csv.QUOTE_NONE`): `"Yes," he said.` stays as it is;
- labels are integers (CoLA, SST-2, MRPC, QQP, WNLI), names (MNLI, QNLI, RTE) or float scores
  (STS-B); names map to the Hub's label ids through the task table;
- every row has as many fields as the header names (CoLA: its four columns). A row with more or
  fewer is refused, naming the file, the line and both counts: a tab inside a sentence or an
  extra field at the end would otherwise move text into the label or another sentence (reading
  the label from the end, `line[-1]`, as the old processors did, turned an RTE file whose rows
  ended with one extra field into labels that were all that field). GLUE's own files line up;
- the one exception is QQP: its train.tsv has a handful of rows cut short (GLUE-baselines
  issue #5), which the old processors and `datasets` skip; so does this reader, with a warning.
Bad content (bytes that are not UTF-8, an unknown label, a score that is not finite, a missing
or repeated column, a row that does not match the header) is a `GlueInputError` naming the file
and line. Pure Python: no `datasets`, no torch.
"""

from __future__ import annotations

import csv
import itertools
import logging
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.errors import GlueInputError
from timing_trainer.tasks import GlueTask

logger = logging.getLogger(__name__)

TRAIN_FILE = "train.tsv"

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
    skips_short_rows: bool = False  # QQP: rows cut short in GLUE's own train.tsv are skipped

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
        ("question1", "question2"), "is_duplicate", skips_short_rows=True,
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


def _open_tsv(path: Path):
    # utf-8-sig: MRPC's files start with the byte-order mark of the original Microsoft release.
    return open(path, encoding="utf-8-sig", newline="")


def _reader(handle) -> Iterable[list[str]]:
    return csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)


@dataclass(frozen=True)
class _Header:
    """Where a file's needed fields are, and how many fields each of its rows must have."""

    positions: dict[str, int]
    width: int
    names: tuple[str, ...]


def _file(path: Path, task: GlueTask) -> str:
    return f"{task.display_name} file {str(path)!r}"


def _read_header(path: Path, task: GlueTask, first_row: list[str] | None) -> _Header:
    """Column index of each needed field, from the header (or CoLA's fixed positions), and the
    number of fields every row must have."""
    layout = TSV_LAYOUTS[task.name]
    needed = (*layout.text_fields, layout.label_field)
    if not layout.has_header:
        header = _Header({n: layout.columns.index(n) for n in needed}, len(layout.columns),
                         layout.columns)
        if first_row is not None:
            _check_width(first_row, header, layout, f"{_file(path, task)}, line 1")
        return header
    if first_row is None:
        raise GlueInputError(f"{_file(path, task)} is empty (no header row)")
    names = tuple(name.strip().lstrip("\ufeff") for name in first_row)
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # which of the two would be the label, or the sentence, is anyone's guess
        raise GlueInputError(
            f"{_file(path, task)}: the header names column "
            f"{', '.join(repr(t) for t in twice)} twice (header: {', '.join(names)})"
        )
    missing = [name for name in needed if name not in names]
    if missing:
        raise GlueInputError(
            f"{_file(path, task)}: missing column "
            f"{', '.join(repr(m) for m in missing)} (header: {', '.join(names)})"
        )
    return _Header({name: names.index(name) for name in needed}, len(names), names)


def _check_width(row: list[str], header: _Header, layout: TsvLayout, where: str) -> bool:
    """True when `row` has the header's number of fields; False for a row to skip (QQP's short
    rows); a `GlueInputError` naming both counts otherwise."""
    if len(row) == header.width:
        return True
    if len(row) < header.width and layout.skips_short_rows:
        return False
    named = "the header has" if layout.has_header else "the task's columns are"
    raise GlueInputError(
        f"{where}: {len(row)} tab-separated fields, but {named} {header.width} "
        f"({', '.join(header.names)}); a tab inside a text or an extra field would move the "
        "columns: fix the row"
    )


def check_tsv_header(path: Path, task: GlueTask) -> None:
    """Fail fast (before any model is loaded) when a file lacks a column the task needs."""
    try:
        with _open_tsv(path) as handle:
            first = next(iter(_reader(handle)), None)
    except UnicodeDecodeError as exc:
        raise GlueInputError(_not_utf8(path, task, exc)) from None
    _read_header(path, task, first)


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
    skipped: list[int] = []  # line numbers of QQP's short rows
    with _open_tsv(path) as handle:
        rows = iter(_reader(handle))
        first = next(rows, None)
        header = _read_header(path, task, first)
        if not layout.has_header and first is not None:
            rows = itertools.chain([first], rows)  # CoLA: the first row is data
        line = 1 if layout.has_header else 0
        for row in rows:
            line += 1
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            where = f"{_file(path, task)}, line {line}"
            if not _check_width(row, header, layout, where):
                skipped.append(line)
                continue
            for column, field_name in zip(task.text_columns, layout.text_fields):
                columns[column].append(row[header.positions[field_name]])
            label = row[header.positions[layout.label_field]]
            columns["label"].append(_convert_label(label, task, where))
    if skipped:
        logger.warning("%s: skipped %d rows with fewer than %d fields (first: line %d)",
                       path, len(skipped), header.width, skipped[0])
    if not columns["label"]:
        raise GlueInputError(f"{_file(path, task)} has no examples")
    return columns
