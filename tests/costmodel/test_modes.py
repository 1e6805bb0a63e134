"""The GLUE program's modes in the cost model: LoRA's arithmetic, mode effects, the modes sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.costmodel_runs import feature_row

from timing_trainer.costmodel.features import run_features, step_terms
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.costmodel.modes import lora_saved_flops, lora_spec, mode_levels
from timing_trainer.costmodel.shapes import model_shape
from timing_trainer.costmodel.sweep_estimate import estimate_sweep
from timing_trainer.results.flops import LoraSpec, count_flops
from timing_trainer.testing.costs import synthetic_runs, true_time

MODES_SWEEP = "sweeps/sweep_rte_modes.yaml"


def test_a_lora_row_trains_with_fewer_linear_flops_and_parameters():
    full, lora = run_features(pd.DataFrame([feature_row(), feature_row(lora_r=8)]),
                              "finetuning").to_dict("records")
    assert lora["linear_tflop"] < 0.75 * full["linear_tflop"]  # no frozen weight gradients
    assert lora["linear_tflop"] > 0.6 * full["linear_tflop"]  # forward + input gradients stay
    assert lora["attention_tflop"] == pytest.approx(full["attention_tflop"], rel=0.02)
    assert lora["gparams"] < 0.01 * full["gparams"]  # adapters and head, not 110M weights
    assert (lora["mode_lora"], full["mode_lora"]) == ("lora", "full")
    inference = run_features(pd.DataFrame([feature_row(lora_r=8), feature_row()]), "inference")
    assert inference["linear_tflop"].nunique() == 1  # a forward is a forward


def test_lora_saving_is_results_flops_count():
    """One formula: what LoRA saves is results.flops's training count without it, less with it."""
    shape = model_shape("answerdotai/ModernBERT-base")
    spec = LoraSpec(8, ("Wqkv",))
    config = dict(shape.config)
    expected = count_flops(config, 128, 8)[1] - count_flops(config, 128, 8, spec)[1]
    assert lora_saved_flops(shape, 128, 8, spec) == pytest.approx(expected)
    full = step_terms(shape, 128, 8, True)["linear_tflop"]
    lora = step_terms(shape, 128, 8, True, spec)["linear_tflop"]
    assert full - lora == pytest.approx(expected * 128 * 8 / 1e12)


def test_xlnet_without_a_formula_gets_the_textbook_saving():
    shape = model_shape("xlnet-base-cased")
    full = step_terms(shape, 128, 8, True)
    lora = step_terms(shape, 128, 8, True, LoraSpec(8, ("q", "k", "v")))
    assert lora["linear_tflop"] / full["linear_tflop"] == pytest.approx(2 / 3, rel=0.02)


def test_the_recorded_trainable_count_is_the_optimizers_work():
    row = feature_row(lora_r=8, trainable_params=1_000_000)
    assert run_features(pd.DataFrame([row]), "finetuning").loc[0, "gparams"] == 1e-3


def test_mode_levels_read_as_the_results_record_them():
    assert mode_levels({}) == {"mode_lora": "full", "mode_compile": "off",
                               "mode_attention": "", "mode_padding_free": "off"}
    assert mode_levels({"lora_r": 16.0, "torch_compile": "True", "attn_implementation": "SDPA",
                        "padding_free": "False"}) == {
        "mode_lora": "lora", "mode_compile": "on", "mode_attention": "sdpa",
        "mode_padding_free": "off"}
    assert lora_spec({"lora_r": 0}) is None
    assert lora_spec({"lora_r": 4, "lora_target_modules": "Wqkv"}) == LoraSpec(4, ("Wqkv",))


def _mode_runs(lora_speed: float = 0.8, compile_speed: float = 0.7) -> pd.DataFrame:
    """Synthetic runs in four modes: LoRA's physics plus an efficiency of its own, and
    torch.compile as a pure efficiency; each mode on half of BERT's and RoBERTa's shapes."""
    base = synthetic_runs(models=("bert-base-uncased", "roberta-base"), tasks=("rte", "mrpc"),
                          noise=0.0, seed=2)
    parts = [base.assign(lora_r=r, torch_compile=str(c), run_id=base["run_id"] + f"-{r}-{c}")
             for r in (0, 8) for c in (False, True)]
    table = pd.concat(parts, ignore_index=True)
    effect = np.where(table["lora_r"] > 0, lora_speed, 1.0) * np.where(
        table["torch_compile"] == "True", compile_speed, 1.0)
    noise = np.exp(np.random.default_rng(7).normal(0, 0.02, len(table)))
    return table.assign(time=true_time(table, "finetuning") * effect * noise)


def test_the_fit_prices_lora_cheaper_and_finds_the_mode_effects():
    table = _mode_runs()
    model = fit_cost_model(table, "finetuning", calibrate=False)
    fit = next(iter(model.fits.values()))
    assert set(fit.effects["mode_lora"]) == {"full", "lora"}
    assert fit.effects["mode_attention"] == {}  # never recorded: no effect guessed
    compile_effect = fit.effects["mode_compile"]["on"] - fit.effects["mode_compile"]["off"]
    assert compile_effect == pytest.approx(np.log(0.7), abs=0.08)
    probe = pd.DataFrame([feature_row(model="bert-base-uncased", lora_r=r, torch_compile="False")
                          for r in (0, 8)])
    full, lora = model.predict(probe)["predicted"]
    truth = true_time(probe, "finetuning") * np.array([1.0, 0.8])
    assert lora < full
    np.testing.assert_allclose([full, lora], truth, rtol=0.08)


def test_runs_without_modes_fit_no_mode_effect(runs):
    model = fit_cost_model(runs, "finetuning", calibrate=False)
    for fit in model.fits.values():
        assert all(fit.effects[g] == {} for g in ("mode_lora", "mode_compile",
                                                  "mode_attention", "mode_padding_free"))


def test_the_modes_sweep_prices_lora_runs_below_full_fine_tuning(runs):
    model = fit_cost_model(runs, "finetuning")
    est = estimate_sweep(model, MODES_SWEEP)
    r = est.runs
    assert len(r) == 24 and set(r["lora_r"]) == {0, 8}
    assert set(r["torch_compile"]) == {"True", "False"}
    assert set(r["attn_implementation"]) == {"eager", "sdpa"}
    keys = ["model", "torch_compile", "attn_implementation"]
    paired = r[r["lora_r"] == 0].merge(r[r["lora_r"] == 8], on=keys, suffixes=("_full", "_lora"))
    assert len(paired) == 12
    assert (paired["predicted_lora"] < 0.9 * paired["predicted_full"]).all()
    assert "LoRA (12 of 24 runs)" in est.unseen_modes
    assert "torch.compile on (12 of 24 runs)" in est.unseen_modes
    assert est.to_dict()["unseen_modes"] == est.unseen_modes
