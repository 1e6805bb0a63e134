"""The GLUE task table: one torch-free source of truth for task facts.

The GLUE program (data loading, metrics), the sweep generator, the analysis and the cost model all
read this table, so a task's name, columns, labels, main metric and sizes are written down once.
It imports nothing heavier than the standard library on purpose: a laptop with pandas alone can
analyse a sweep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from timing_trainer.errors import UnknownTaskError


@dataclass(frozen=True)
class EvalSplit:
    """One evaluation set of a task (MNLI has two)."""

    name: str  # short name used in result keys, e.g. "validation_matched"
    hub_split: str  # split name in the Hub dataset `nyu-mll/glue`
    tsv_file: str  # file name in a GLUE-baselines TSV folder
    size: int  # number of examples in the official dev set
    key_prefix: str = "eval"  # prefix of this split's metric keys (MNLI mismatched: "eval_mm")


@dataclass(frozen=True)
class GlueTask:
    """Facts about one GLUE task.

    `text_columns` are the Hub dataset's column names; `labels` is None for regression (STS-B).
    `main_metric` is the metric a sweep optimises and the analysis plots time against; metric keys
    as logged are `f"{split.key_prefix}_{metric}"`. `thesis_metric_key` is the summary key the
    2020 thesis logged for the same figure (its fork's `glue_compute_metrics` names).
    """

    name: str  # canonical lower-case id, e.g. "sst2"
    display_name: str  # GLUE's spelling, e.g. "SST-2" (also the thesis's `task_name`)
    text_columns: tuple[str, ...]
    labels: tuple[str, ...] | None
    metrics: tuple[str, ...]
    main_metric: str
    thesis_metric_key: str
    train_size: int
    eval_splits: tuple[EvalSplit, ...] = field(default_factory=tuple)

    @property
    def is_regression(self) -> bool:
        return self.labels is None

    @property
    def num_labels(self) -> int:
        return 1 if self.labels is None else len(self.labels)

    @property
    def is_pair(self) -> bool:
        return len(self.text_columns) == 2

    @property
    def eval_size(self) -> int:
        """Size of the primary evaluation set (MNLI: matched)."""
        return self.eval_splits[0].size

    @property
    def main_metric_key(self) -> str:
        """The key the GLUE program logs for the main metric of the primary split."""
        return f"{self.eval_splits[0].key_prefix}_{self.main_metric}"


def _dev(size: int) -> tuple[EvalSplit, ...]:
    return (EvalSplit("validation", "validation", "dev.tsv", size),)


_CLASSIFICATION = ("accuracy",)

TASKS: dict[str, GlueTask] = {
    t.name: t
    for t in (
        GlueTask(
            "cola", "CoLA", ("sentence",), ("unacceptable", "acceptable"),
            ("matthews_correlation", "accuracy"), "matthews_correlation", "eval_mcc",
            8551, _dev(1043),
        ),
        GlueTask(
            "sst2", "SST-2", ("sentence",), ("negative", "positive"),
            _CLASSIFICATION, "accuracy", "eval_acc", 67349, _dev(872),
        ),
        GlueTask(
            "mrpc", "MRPC", ("sentence1", "sentence2"), ("not_equivalent", "equivalent"),
            ("accuracy", "f1"), "f1", "eval_f1", 3668, _dev(408),
        ),
        GlueTask(
            "stsb", "STS-B", ("sentence1", "sentence2"), None,
            ("pearson", "spearmanr"), "pearson", "eval_pearson", 5749, _dev(1500),
        ),
        GlueTask(
            "qqp", "QQP", ("question1", "question2"), ("not_duplicate", "duplicate"),
            ("accuracy", "f1"), "f1", "eval_f1", 363846, _dev(40430),
        ),
        GlueTask(
            "mnli", "MNLI", ("premise", "hypothesis"), ("entailment", "neutral", "contradiction"),
            _CLASSIFICATION, "accuracy", "eval_mnli/acc", 392702,
            (
                EvalSplit("validation_matched", "validation_matched", "dev_matched.tsv", 9815),
                EvalSplit(
                    "validation_mismatched", "validation_mismatched", "dev_mismatched.tsv", 9832,
                    key_prefix="eval_mm",
                ),
            ),
        ),
        GlueTask(
            "qnli", "QNLI", ("question", "sentence"), ("entailment", "not_entailment"),
            _CLASSIFICATION, "accuracy", "eval_acc", 104743, _dev(5463),
        ),
        GlueTask(
            "rte", "RTE", ("sentence1", "sentence2"), ("entailment", "not_entailment"),
            _CLASSIFICATION, "accuracy", "eval_acc", 2490, _dev(277),
        ),
        GlueTask(
            "wnli", "WNLI", ("sentence1", "sentence2"), ("not_entailment", "entailment"),
            _CLASSIFICATION, "accuracy", "eval_acc", 635, _dev(71),
        ),
    )
}

TASK_NAMES: tuple[str, ...] = tuple(TASKS)


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.strip().lower())


def canonical_task_name(name: str) -> str:
    """Map any spelling (`SST-2`, `sst2`, `sts-b`, `CoLa`) to the canonical id (`sst2`, ...)."""
    key = _normalise(str(name))
    if key in TASKS:
        return key
    valid = ", ".join(TASK_NAMES)
    raise UnknownTaskError(f"unknown GLUE task {name!r}; valid tasks: {valid}")


def get_task(name: str) -> GlueTask:
    """The task's facts, for any accepted spelling of its name."""
    return TASKS[canonical_task_name(name)]
