"""Energy as the cost model's second response: recovered, left out only where missing, priced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.costmodel_runs import SMALL_SWEEP, write_sweep

from timing_trainer.costmodel.energy import (
    JOULES_PER_KWH,
    cross_validate_energy,
    energy_table,
    fit_energy,
)
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.costmodel.sweep_costs import Rates
from timing_trainer.costmodel.sweep_estimate import estimate_sweep
from timing_trainer.costmodel.sweep_text import format_estimate
from timing_trainer.errors import RunsDataWarning
from timing_trainer.testing.costs import (
    TRUE_POWER_W,
    synthetic_runs,
    true_time,
    with_energy,
)

MODELS = ("bert-base-uncased", "distilbert-base-uncased", "albert-base-v1", "xlnet-base-cased")
CPU_ONLY = "no readable RAPL counter (/sys/class/powercap not present)"


# Runs whose energy is each model's power x the run's time, with 3% noise.
RUNS = {"models": MODELS, "noise": 0.02, "seed": 7, "energy": {"noise": 0.03, "seed": 7}}


@pytest.fixture(scope="module")
def energy(runs):
    return fit_energy(runs, "finetuning")


@pytest.fixture
def sweep_file(tmp_path):
    return write_sweep(tmp_path)


def _truth(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(seconds, joules) of the noiseless law: energy = the model's power x its time."""
    seconds = true_time(table, "finetuning")
    return seconds, seconds * table["model"].map(TRUE_POWER_W).to_numpy(float)


def test_energy_fit_recovers_power_times_time(energy):
    # Unseen task, length and batch: predicted from the physics the fit found, not from lookup.
    unseen = synthetic_runs(models=MODELS, tasks=("sst2",), lengths=(96, 192), batches=(24,),
                            noise=0.0)
    _, joules = _truth(unseen)
    pred = energy.model.predict(unseen)["predicted"].to_numpy(float)
    ratio = pred / joules
    assert np.median(np.abs(ratio - 1)) < 0.04, ratio
    assert np.max(np.abs(ratio - 1)) < 0.12, ratio
    assert energy.model.response.name == "energy" and energy.source == "nvml"


def test_each_models_power_is_the_ratio_of_its_energy_to_its_time(runs, energy):
    time_model = fit_cost_model(runs, "finetuning", calibrate=False)
    grid = synthetic_runs(models=MODELS, tasks=("rte",), noise=0.0)
    watts = (energy.model.predict(grid)["predicted"] / time_model.predict(grid)["predicted"])
    for model, power in TRUE_POWER_W.items():
        if model in MODELS:
            assert watts[grid["model"] == model].median() == pytest.approx(power, rel=0.05)


def test_energy_cross_validation_scores_near_the_noise(runs):
    result, note = cross_validate_energy(runs, "finetuning", "leave-one-task-out")
    summary = result.summary()
    assert note == "" and summary["n"] == len(runs) and summary["n_without_energy"] == 0
    # time noise 2% and energy noise 3% on top: |N(0, 0.036)| has median 2.4%
    assert summary["median_ape"] < 4.0 and summary["p90_ape"] < 10.0, summary


def test_runs_without_energy_leave_the_energy_fit_only(runs):
    table = runs.copy()
    cpu_only = table.index % 3 == 0
    table.loc[cpu_only, "finetuning_energy_j"] = np.nan
    table["energy_unavailable"] = np.where(cpu_only, CPU_ONLY, None)
    time_model = fit_cost_model(table, "finetuning", calibrate=False)
    energy = fit_energy(table, "finetuning", calibrate=False)
    assert time_model.n_fitted == len(table)
    assert energy.model.n_fitted == energy.n_with_energy == int((~cpu_only).sum())
    counts = energy.model.counts
    assert counts.left_out == {f"without energy ({CPU_ONLY})": int(cpu_only.sum())}
    assert counts.to_dict()["n_without_energy"] == int(cpu_only.sum())
    assert f"{int(cpu_only.sum())} finished without energy ({CPU_ONLY})" in counts.describe()


def test_energies_from_different_sources_are_not_mixed(runs):
    table = runs.copy()
    table.loc[table.index[:5], "energy_source"] = "nvml+rapl"
    prepared = energy_table(table, "finetuning")
    left = prepared["energy_left_out"].dropna()
    assert list(left.index) == list(table.index[:5])
    assert all("measured by nvml+rapl" in reason and "used nvml" in reason for reason in left)
    energy = fit_energy(table, "finetuning", calibrate=False)
    assert energy.model.n_fitted == len(table) - 5 and energy.source == "nvml"


def test_no_energy_at_all_is_a_note_not_an_error(runs):
    table = synthetic_runs(models=MODELS, noise=0.02, seed=7)  # no energy columns
    energy = fit_energy(table, "finetuning")
    assert energy.model is None and energy.n_with_energy == 0
    assert energy.note.startswith("not predicted: no finished run has a usable energy")
    assert f"{len(table)} finished without energy" in energy.note
    result, note = cross_validate_energy(table, "finetuning", "kfold")
    assert result is None and note.startswith("not scored:")


def test_sweep_totals_are_hours_times_price_and_kwh_times_intensity(runs, energy, sweep_file):
    model = fit_cost_model(runs, "finetuning")
    est = estimate_sweep(model, sweep_file, fitted=runs, energy=energy,
                         rates=Rates(price_per_hour=2.5, grid_intensity=400.0))
    totals = est.totals
    hours, kwh, money, grams = (totals[k] for k in ("hours", "energy_kwh", "money",
                                                    "emissions_gco2e"))
    assert hours.value == pytest.approx(est.total[0] / 3600)
    assert money.value == pytest.approx(hours.value * 2.5)
    assert grams.value == pytest.approx(kwh.value * 400.0)
    assert (money.low, money.high) == pytest.approx((hours.low * 2.5, hours.high * 2.5))
    assert (grams.low, grams.high) == pytest.approx((kwh.low * 400.0, kwh.high * 400.0))
    for amount in (hours, kwh, money, grams):
        assert amount.low < amount.value < amount.high and not amount.note
    # per run: the run's energy is its one-run energy x its repeats, like its time
    assert kwh.value == pytest.approx(est.runs["run_kwh"].sum())
    truth = est.runs.assign(model_name_or_path=est.runs["model"], n_train=3668, n_eval=408,
                            num_train_epochs=1.0, device="cpu", world_size=1)
    _, joules = _truth(truth)
    assert kwh.value == pytest.approx(3 * joules.sum() / JOULES_PER_KWH, rel=0.06)
    assert kwh.low < 3 * joules.sum() / JOULES_PER_KWH < kwh.high
    text = format_estimate(est)
    assert "energy: " in text and "kWh" in text and "money: " in text and "gCO2e" in text
    payload = est.to_dict()
    assert payload["costs"]["money"]["total"] == pytest.approx(money.value)
    assert payload["runs"][0]["run_kwh"] > 0 and payload["runs"][0]["run_money"] > 0


def test_sweep_without_energy_gives_hours_money_and_why(sweep_file):
    table = synthetic_runs(models=MODELS, noise=0.02, seed=7).assign(
        energy_unavailable=CPU_ONLY)
    model = fit_cost_model(table, "finetuning")
    est = estimate_sweep(model, sweep_file, fitted=table, energy=fit_energy(table, "finetuning"),
                         rates=Rates(price_per_hour=3.0, grid_intensity=250.0))
    totals = est.totals
    assert totals["hours"].value > 0 and totals["energy_kwh"].value is None
    assert totals["money"].value == pytest.approx(totals["hours"].value * 3.0)
    assert CPU_ONLY in totals["energy_kwh"].note
    assert totals["emissions_gco2e"].value is None and CPU_ONLY in totals["emissions_gco2e"].note
    lines = format_estimate(est).splitlines()
    energy_lines = [line for line in lines if line.startswith("energy: ")]
    assert len(energy_lines) == 1 and CPU_ONLY in energy_lines[0]
    assert any(line.startswith("money: ") for line in lines)
    assert "emissions: not given: no energy prediction" in lines[-1]
    assert "run_kwh" not in est.runs


def test_inference_energy_is_per_batch_and_scales_with_batches(tmp_path):
    path = write_sweep(tmp_path, SMALL_SWEEP.replace(
        "per_device_train_batch_size", "per_device_eval_batch_size").replace(
        "name: small", "name: small\ncommand: [python, --do_eval]"), "inference.yaml")
    table = with_energy(synthetic_runs(kind="inference", models=MODELS, noise=0.02, seed=3),
                        "inference", seed=3)
    energy = fit_energy(table, "inference")
    watts = table["model"].map(TRUE_POWER_W).to_numpy(float)
    measured = energy_table(table, "inference")["energy_j"].to_numpy(float)
    np.testing.assert_allclose(measured / (watts * table["time"]), 1.0, atol=0.15)
    est = estimate_sweep(fit_cost_model(table, "inference"), path, fitted=table, energy=energy)
    pred = energy.model.predict(est.runs.assign(
        model_name_or_path=est.runs["model"], n_eval=408, device="cpu", world_size=1))
    np.testing.assert_allclose(est.runs["run_kwh"] * JOULES_PER_KWH,
                               pred["predicted"].to_numpy() * np.ceil(408 / 16), rtol=1e-9)


def test_a_platform_without_energy_runs_says_so(runs, tmp_path):
    bf16 = synthetic_runs(models=MODELS, noise=0.02, seed=8, precision="bf16")
    table = pd.concat([runs, bf16], ignore_index=True)  # energy on fp32 runs only
    model = fit_cost_model(table, "finetuning")
    energy = fit_energy(table, "finetuning")
    only_bf16 = estimate_sweep(model, _bf16(tmp_path, "[true]"), fitted=table, energy=energy)
    assert "run_kwh" not in only_bf16.runs
    assert only_bf16.energy_note.startswith("not predicted: the runs with energy ran on "
                                            "cpu / fp32 / x1, not on this sweep's cpu / bf16")
    both = estimate_sweep(model, _bf16(tmp_path, "[false, true]"), fitted=table, energy=energy)
    kwh = both.totals["energy_kwh"]
    assert kwh.value is None
    assert kwh.note == ("4 of 8 runs have no prediction: no run with energy on its platform "
                        "(cpu / bf16 / x1)")
    assert both.runs["run_kwh"].notna().sum() == 4


def _bf16(folder, values: str):
    """The small sweep with `bf16` taking `values` (a YAML list)."""
    return write_sweep(folder, SMALL_SWEEP + f"  bf16:\n    values: {values}\n",
                       f"bf16_{values.count(',')}.yaml")


def test_an_energy_that_is_no_measurement_is_warned_about_and_left_out(runs):
    table = runs.copy()
    table.loc[table.index[3], "finetuning_energy_j"] = np.inf
    table.loc[table.index[4], "finetuning_energy_j"] = -5.0
    with pytest.warns(RunsDataWarning, match="2 finished run\\(s\\) have an energy that is not"):
        energy = fit_energy(table, "finetuning", calibrate=False)
    assert energy.model.n_fitted == len(table) - 2 and energy.model.counts.bad_time == 2
    assert "2 finished without a usable energy" in energy.model.counts.describe()
