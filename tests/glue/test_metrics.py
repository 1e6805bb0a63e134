"""GLUE metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from timing_trainer.glue.metrics import glue_metrics, make_compute_metrics
from timing_trainer.tasks import get_task

PREDS = [1, 0, 1, 1]
LABELS = [1, 0, 0, 1]  # TP 2, TN 1, FP 1, FN 0


def test_mrpc_accuracy_and_f1_of_positive_class():
    metrics = glue_metrics(get_task("mrpc"), PREDS, LABELS)
    assert metrics["accuracy"] == pytest.approx(0.75)
    assert metrics["f1"] == pytest.approx(0.8)  # precision 2/3, recall 1


def test_cola_matthews_correlation():
    metrics = glue_metrics(get_task("cola"), PREDS, LABELS)
    assert metrics["matthews_correlation"] == pytest.approx(2 / math.sqrt(12))
    assert set(metrics) == {"matthews_correlation", "accuracy"}


def test_stsb_pearson_and_spearman():
    metrics = glue_metrics(get_task("stsb"), [1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    assert metrics["pearson"] == pytest.approx(3 / math.sqrt(2 * 42 / 9))
    assert metrics["spearmanr"] == pytest.approx(1.0)


def test_constant_regression_prediction_has_no_correlation():
    metrics = glue_metrics(get_task("stsb"), [2.0, 2.0, 2.0], [1.0, 2.0, 4.0])
    assert math.isnan(metrics["pearson"]) and math.isnan(metrics["spearmanr"])


def test_compute_metrics_argmaxes_logits_and_squeezes_regression():
    class Prediction:
        predictions = np.array([[0.1, 0.9, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
        label_ids = np.array([1, 0, 1])

    assert make_compute_metrics(get_task("mnli"))(Prediction) == {"accuracy": pytest.approx(2 / 3)}

    class Regression:
        predictions = np.array([[1.0], [2.0], [3.0]])
        label_ids = np.array([1.0, 2.0, 4.0])

    result = make_compute_metrics(get_task("sts-b"))(Regression)
    assert result["spearmanr"] == pytest.approx(1.0)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="3 predictions for 2 labels"):
        glue_metrics(get_task("rte"), [0, 1, 1], [0, 1])
