"""What the GLUE data looks like to a model: examples per split, token lengths per tokenizer, and
how much of a padded batch is padding at each `max_seq_length`.

The thesis's `GLUE.ipynb` counted the examples of every split and looked at the labels; what
decides the cost of a run is the number of tokens, and the GLUE program pads every example to
`--max_seq_length`. So for every task, split and tokenizer this module measures the length of
each example as the model sees it (special tokens included, a pair task's two texts together,
nothing truncated), and from those lengths, for each length L a sweep uses:
- `padding_share`: the share of the tokens of batches padded to L that are padding, the work a
  padding-free batch (or a dynamic pad) would not do;
- `truncated_share`: the share of examples longer than L, which lose tokens at L, and
  `truncated_tokens`, how many they lose: what a shorter L costs in text.
Percentiles are nearest-rank ("p95 = 87": 95 % of the examples have at most 87 tokens), whole
numbers a user can pass as a length. A split without examples has no length figures; its rows
say why (`why_not`), never a silent blank.

The data comes through the GLUE program's own readers (`timing_trainer.glue.data`: a TSV folder
is checked whole when opened, the Hub's `nyu-mll/glue` loads through `datasets`), and the
tokenizers load as the GLUE program loads them, so the counts match what a run tokenizes.
Torch-free at import; transformers is imported when a tokenizer loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from timing_trainer.errors import GlueInputError
from timing_trainer.glue.data import HUB_DATASET, TsvSource, open_source, resolve_task_dir
from timing_trainer.glue.model_files import loading, local_path
from timing_trainer.glue.tsv import TRAIN_FILE, read_tsv
from timing_trainer.tasks import TASKS, GlueTask

PERCENTILES = (50, 90, 95, 99)
CHUNK = 1000  # examples per tokenizer call: one progress step
NO_EXAMPLES = "the split has no examples"


@dataclass(frozen=True)
class SplitTexts:
    """One split's text columns (a pair task has two), in the data's order."""

    task: GlueTask
    split: str  # "train", or the EvalSplit's name ("validation", "validation_matched", ...)
    columns: tuple[list[str], ...]

    @property
    def size(self) -> int:
        return len(self.columns[0])


@dataclass
class GlueStats:
    """Tidy rows (one dict per row) for the tables, and the lengths behind them for the plots."""

    lengths: tuple[int, ...]
    splits: list[dict[str, Any]] = field(default_factory=list)
    token_lengths: list[dict[str, Any]] = field(default_factory=list)
    padding: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[tuple[str, str, str], np.ndarray] = field(default_factory=dict)  # task, split, tok


# ---------------------------------------------------------------------------------------------
# Which tasks, and their text


def tasks_in_folder(data_dir: str) -> tuple[list[GlueTask], list[GlueTask]]:
    """(present, absent): the tasks with a folder under a GLUE root `data_dir`.

    A folder that is itself one task's (it holds train.tsv) must be named after its task, or
    the task must be given: any task would otherwise be read from it."""
    if not Path(data_dir).expanduser().is_dir():
        raise GlueInputError(f"data_dir {data_dir!r} does not exist or is not a folder")
    present, absent = [], []
    for task in TASKS.values():
        try:
            folder = resolve_task_dir(data_dir, task)
        except GlueInputError:
            absent.append(task)
            continue
        present.append(task)
        if folder.samefile(data_dir) and len(present) > 1:
            raise GlueInputError(
                f"data_dir {data_dir!r} holds {TRAIN_FILE} but is named after no task; "
                "name its task with --tasks"
            )
    return present, absent


def open_sources(tasks: Iterable[GlueTask], data_dir: str | None,
                 dataset_name: str = HUB_DATASET, cache_dir: str | None = None) -> list[Any]:
    """One source per task; a TSV folder is checked whole here, before any tokenizer loads."""
    return [open_source(task, data_dir, dataset_name, cache_dir) for task in tasks]


def split_texts(source: Any) -> list[SplitTexts]:
    """Every split of a source (train first), as text columns. TSV files are read directly
    (no `datasets` table in between); the Hub's splits are read from `datasets`."""
    task = source.task
    if isinstance(source, TsvSource):
        read = {name: read_tsv(path, task) for name, path in source.files.items()}
        return [SplitTexts(task, name, tuple(columns[c] for c in task.text_columns))
                for name, columns in read.items()]
    raw = source.load()
    named = [("train", raw.train), *raw.evals.items()]
    return [SplitTexts(task, name, tuple(list(dataset[c]) for c in task.text_columns))
            for name, dataset in named]


def load_tokenizer(name: str) -> Any:
    """The tokenizer as the GLUE program loads it; a missing folder or a failed load is one
    line (`GlueInputError`) naming it."""
    path = local_path(name)
    if path is not None and not path.exists():
        raise GlueInputError(f"--model_name_or_path {name!r} does not exist")
    if path is not None and path.is_file():
        raise GlueInputError(f"--model_name_or_path {name!r} is a file; pass the folder")
    from transformers import AutoTokenizer

    with loading("tokenizer", name):
        return AutoTokenizer.from_pretrained(name)


# ---------------------------------------------------------------------------------------------
# Lengths and what they mean for padding


def token_lengths(tokenizer: Any, texts: SplitTexts,
                  progress: Callable[[int], Any] = lambda n: None) -> np.ndarray:
    """Each example's length in tokens, special tokens included, nothing truncated or padded."""
    from transformers.utils import logging as hf_logging

    lengths: list[int] = []
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "longer than the model's maximum": that is what we count
    try:
        for start in range(0, texts.size, CHUNK):
            batch = [column[start:start + CHUNK] for column in texts.columns]
            encoded = tokenizer(*batch, truncation=False, padding=False)
            lengths.extend(len(ids) for ids in encoded["input_ids"])
            progress(len(batch[0]))
    finally:
        hf_logging.set_verbosity(verbosity)
    return np.asarray(lengths, dtype=np.int64)


def length_summary(lengths: np.ndarray) -> dict[str, Any]:
    """Mean, min, nearest-rank percentiles and max; None with `why_not` for no examples."""
    names = ["min", "mean", *(f"p{q}" for q in PERCENTILES), "max"]
    if lengths.size == 0:
        return {"examples": 0, **dict.fromkeys(names), "why_not": NO_EXAMPLES}
    percentiles = np.percentile(lengths, PERCENTILES, method="inverted_cdf")
    return {
        "examples": int(lengths.size), "min": int(lengths.min()),
        "mean": float(lengths.mean()),
        **{f"p{q}": int(v) for q, v in zip(PERCENTILES, percentiles)},
        "max": int(lengths.max()), "why_not": None,
    }


def padding_at(lengths: np.ndarray, max_seq_length: int) -> dict[str, Any]:
    """Padding and truncation when every example is padded (and cut) to `max_seq_length`."""
    if lengths.size == 0:
        return {"max_seq_length": max_seq_length, "padded_tokens": 0, "real_tokens": 0,
                "padding_share": None, "truncated_share": None, "truncated_tokens": 0,
                "why_not": NO_EXAMPLES}
    kept = np.minimum(lengths, max_seq_length)
    slots = int(lengths.size) * max_seq_length
    return {
        "max_seq_length": max_seq_length,
        "padded_tokens": slots,  # what a batch padded to the length holds, padding included
        "real_tokens": int(kept.sum()),
        "padding_share": float(1 - kept.sum() / slots),
        "truncated_share": float(np.mean(lengths > max_seq_length)),
        "truncated_tokens": int((lengths - kept).sum()),
        "why_not": None,
    }


def compute(texts: list[SplitTexts], tokenizers: dict[str, Any], lengths: Iterable[int],
            progress: Callable[[int], Any] = lambda n: None) -> GlueStats:
    """Every split's size, and per tokenizer its length summary and padding at each length."""
    stats = GlueStats(lengths=tuple(sorted(set(lengths))))
    for split in texts:
        key = {"task": split.task.display_name, "split": split.split}
        stats.splits.append({**key, "examples": split.size})
        for name, tokenizer in tokenizers.items():
            counted = token_lengths(tokenizer, split, progress)
            stats.raw[(split.task.display_name, split.split, name)] = counted
            stats.token_lengths.append({**key, "tokenizer": name, **length_summary(counted)})
            stats.padding.extend({**key, "tokenizer": name, **padding_at(counted, length)}
                                 for length in stats.lengths)
    return stats
