"""GLUE metrics with scikit-learn and scipy: nothing is fetched at run time.

The per-task choice is GLUE's (and the old `glue_compute_metrics`'): Matthews correlation for
CoLA, F1 and accuracy for MRPC and QQP (F1 of the positive class: equivalent / duplicate),
Pearson and Spearman correlation for STS-B, accuracy elsewhere. Which metrics a task reports is
read from the task table (`GlueTask.metrics`), so the names here and in the analysis agree.
The Trainer adds the split's key prefix (`eval_`, `eval_mm_`) to the names returned here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from timing_trainer.tasks import GlueTask


def _accuracy(preds: np.ndarray, labels: np.ndarray) -> float:
    return float((preds == labels).mean())


def _f1(preds: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(labels, preds, pos_label=1, average="binary", zero_division=0))


def _matthews(preds: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import matthews_corrcoef

    return float(matthews_corrcoef(labels, preds))


def _correlation(kind: str) -> Callable[[np.ndarray, np.ndarray], float]:
    def compute(preds: np.ndarray, labels: np.ndarray) -> float:
        # A constant prediction (an untrained model) has no correlation: NaN, written as null.
        if len(preds) < 2 or np.all(preds == preds[0]) or np.all(labels == labels[0]):
            return math.nan
        from scipy import stats

        result = stats.pearsonr(preds, labels) if kind == "pearson" else stats.spearmanr(preds, labels)
        return float(result[0])

    return compute


METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "accuracy": _accuracy,
    "f1": _f1,
    "matthews_correlation": _matthews,
    "pearson": _correlation("pearson"),
    "spearmanr": _correlation("spearman"),
}


def predictions_from_logits(task: GlueTask, logits: Any) -> np.ndarray:
    """Class ids (argmax) for classification, the single output column for regression (STS-B)."""
    if isinstance(logits, tuple):  # some models return (logits, hidden states, ...)
        logits = logits[0]
    logits = np.asarray(logits)
    if task.is_regression:
        return logits.reshape(len(logits), -1)[:, 0].astype(np.float64)
    return logits.argmax(axis=-1)


def glue_metrics(task: GlueTask, predictions: Any, labels: Any) -> dict[str, float]:
    """The task's metrics, unprefixed (`{"accuracy": ..., "f1": ...}`), from predictions."""
    preds = np.asarray(predictions)
    labels = np.asarray(labels)
    if preds.shape[0] != labels.shape[0]:
        raise ValueError(f"{len(preds)} predictions for {len(labels)} labels")
    if task.is_regression:
        preds, labels = preds.astype(np.float64).ravel(), labels.astype(np.float64).ravel()
    return {name: METRIC_FUNCTIONS[name](preds, labels) for name in task.metrics}


def make_compute_metrics(task: GlueTask) -> Callable[[Any], dict[str, float]]:
    """A `compute_metrics` for the Trainer: takes an `EvalPrediction`, returns the task's metrics."""

    def compute_metrics(eval_prediction: Any) -> dict[str, float]:
        preds = predictions_from_logits(task, eval_prediction.predictions)
        return glue_metrics(task, preds, eval_prediction.label_ids)

    return compute_metrics
