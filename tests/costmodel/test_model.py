"""The fit recovers a known cost formula, predicts with honest intervals, refuses what it can't."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from timing_trainer.costmodel.cross_validation import cross_validate
from timing_trainer.costmodel.model import CostModelConfig, fit_cost_model
from timing_trainer.errors import CostModelError
from timing_trainer.testing.costs import TRUE_PER_RUN, TRUE_PRICES, synthetic_runs, true_time

NO_EFFECTS = CostModelConfig(prior_sd={"architecture": 1e-4, "model_key": 1e-4,
                                       "shape_key": 1e-4, "arch_shape": 1e-4})
MODELS = ("bert-base-uncased", "distilbert-base-uncased", "roberta-base", "albert-base-v1")




def test_fit_recovers_the_prices_of_the_formula():
    table = synthetic_runs(models=MODELS, noise=0.01, seed=2, lengths=(64, 128, 256, 512))
    model = fit_cost_model(table, "finetuning", NO_EFFECTS, calibrate=False)
    coef = model.coefficients().iloc[0]
    for term, price in TRUE_PRICES.items():
        assert coef[term] == pytest.approx(price, rel=0.15), term
    assert coef["per_run"] == pytest.approx(TRUE_PER_RUN, rel=0.5)


def test_out_of_sample_error_is_near_the_noise(runs):
    # |N(0, 0.03)| has median 2.0%: the error of a fit that found the formula.
    for cv in ("kfold", "leave-one-task-out"):
        summary = cross_validate(runs, "finetuning", cv, k=5).summary()
        assert summary["n"] == len(runs)
        assert summary["median_ape"] < 3.0, (cv, summary)
        assert summary["p90_ape"] < 8.0, (cv, summary)


def test_model_efficiency_is_learned_where_data_supports_it(runs):
    # XLNet runs 1.6x slower than its FLOPs say; the fit learns it from its runs.
    model = fit_cost_model(runs, "finetuning", calibrate=False)
    xlnet = runs[runs["model"] == "xlnet-base-cased"]
    pred = model.predict(xlnet)["predicted"].to_numpy()
    ratio = np.median(pred / true_time(xlnet, "finetuning"))
    assert ratio == pytest.approx(1.0, abs=0.03)


def test_unseen_task_length_and_batch_extend_from_first_principles(runs):
    model = fit_cost_model(runs[runs["model"] != "xlnet-base-cased"], "finetuning",
                           calibrate=False)
    unseen = synthetic_runs(models=MODELS, tasks=("sst2",), lengths=(384,), batches=(24,),
                            noise=0.0)
    pred = model.predict(unseen)
    assert (pred["support"] == "new_shape").all()
    ape = np.abs(pred["predicted"] / unseen["time"] - 1)
    assert ape.max() < 0.10


def test_prediction_intervals_cover_new_runs(runs):
    model = fit_cost_model(runs, "finetuning", CostModelConfig(coverage=0.9))
    fresh = synthetic_runs(noise=0.03, seed=7)
    pred = model.predict(fresh)
    inside = (pred["lower"] <= fresh["time"]) & (fresh["time"] <= pred["upper"])
    assert (pred["lower"] < pred["predicted"]).all() and (pred["predicted"] < pred["upper"]).all()
    assert 0.8 <= inside.mean() <= 1.0
    width = (pred["upper"] / pred["lower"]).median()
    assert width < 1.3  # about +-6% for 3% noise, not a useless band


def test_robust_to_a_few_disturbed_runs(runs):
    disturbed = runs.copy()
    hit = disturbed.sample(8, random_state=0).index
    disturbed.loc[hit, "time"] *= 3.0  # a busy machine
    summary = cross_validate(disturbed.drop(index=hit), "finetuning", "kfold", k=5).summary()
    model = fit_cost_model(disturbed, "finetuning", calibrate=False)
    clean = disturbed.drop(index=hit)
    ape = np.abs(model.predict(clean)["predicted"] / clean["time"] - 1) * 100
    assert np.median(ape) < summary["median_ape"] + 1.0


def test_inference_kind_fits_per_batch_latency():
    table = synthetic_runs(kind="inference", noise=0.02, seed=3)
    summary = cross_validate(table, "inference", "leave-one-task-out").summary()
    assert summary["median_ape"] < 2.5
    assert fit_cost_model(table, "inference", calibrate=False).coefficients()[
        "per_run"].isna().all()


def test_no_finished_runs_is_a_clear_error(runs):
    failed = runs.assign(state="failed")
    with pytest.raises(CostModelError, match="no finished runs"):
        fit_cost_model(failed, "finetuning")
    with pytest.raises(CostModelError, match="no finished runs"):
        cross_validate(failed, "finetuning", "kfold")


def test_another_device_is_refused_when_strict(runs):
    model = fit_cost_model(runs, "finetuning", calibrate=False)
    gpu = runs.head(2).assign(device="cuda", gpu_name="NVIDIA H200")
    loose = model.predict(gpu)
    assert loose["predicted"].isna().all() and (loose["support"] == "unfitted platform").all()
    with pytest.raises(CostModelError, match="NVIDIA H200"):
        model.predict(gpu, strict=True)


def test_model_without_size_information_is_refused(runs):
    model = fit_cost_model(runs, "finetuning", calibrate=False)
    odd = runs.head(1).assign(model="mystery", model_name_or_path="org/mystery")
    with pytest.raises(CostModelError, match="no size information"):
        model.predict(odd, strict=True)


def test_leave_one_model_out_leaves_models_without_shape_unscored(runs):
    odd = runs[runs["model"] == "roberta-base"].assign(
        model="mystery", model_name_or_path="org/mystery")
    table = pd.concat([runs, odd], ignore_index=True)
    summary = cross_validate(table, "finetuning", "leave-one-model-out").summary()
    assert summary["n_unscored"] == len(odd)
    assert summary["n"] == len(runs)
    assert set(summary) >= {"cv", "n", "median_ape", "mean_ape", "p90_ape"}


def test_unknown_cv_mode(runs):
    with pytest.raises(CostModelError, match="unknown cv mode"):
        cross_validate(runs, "finetuning", "bootstrap")


def test_lengths_beyond_the_fitted_range_are_flagged(runs):
    model = fit_cost_model(runs, "finetuning", calibrate=False)
    longer = synthetic_runs(models=MODELS, tasks=("rte",), lengths=(1024,), batches=(8,))
    assert model.predict(longer)["extrapolated"].all()
    assert not model.predict(runs.head(3))["extrapolated"].any()
