"""Energy as the second response: the loader's energy columns, `analyze --metric energy`, energy
against time per model, and what happens on runs without energy (a note, or one line and exit 2).

Runs are generated with the energy keys of schema version 3 (`synthetic`, energy = each model's
power x time), written as results files: the same keys the trainer writes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import statsmodels.formula.api as smf  # noqa: E402
from statsmodels.stats.anova import anova_lm  # noqa: E402

from timing_trainer.analysis.analyze import analyze, build_report  # noqa: E402
from timing_trainer.analysis.report import energy_plots  # noqa: E402
from timing_trainer.analysis.report.summary import summary  # noqa: E402
from timing_trainer.analysis.stats.power import energy_time_pairs, speed_for_power  # noqa: E402
from timing_trainer.analysis.table.energy_rows import NO_ENERGY_KEYS  # noqa: E402
from timing_trainer.analysis.table.load import load_runs  # noqa: E402
from timing_trainer.errors import NoEnergyError
from timing_trainer.models import short_model_name  # noqa: E402
from timing_trainer.testing.runs import (  # noqa: E402
    INFERENCE_POWER_SHARE,
    MODEL_POWER_W,
    UNAVAILABLE_REASON,
    synthetic_results,
    write_run_folders,
)

SMALL = {"n_estimators": 20}
POWER = {short_model_name(m): w for m, w in MODEL_POWER_W.items()}


@pytest.fixture(scope="module")
def energy_runs(tmp_path_factory):
    return write_run_folders(tmp_path_factory.mktemp("energy"), 80, seed=4, energy="measured")


@pytest.fixture(scope="module")
def table(energy_runs):
    return load_runs([energy_runs])


def _write(folder, results):
    results["config"]["run_name"] = folder.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "timing_results.json").write_text(json.dumps(results))


def test_fine_tuning_energy_columns(table):
    finished = table[table["state"] == "finished"]
    assert len(finished) > 60 and (finished["energy_source"] == "nvml").all()
    for _, row in finished.head(10).iterrows():
        times, energies = row["finetuning_time_list"], row["finetuning_energy_j_list"]
        assert row["energy_j"] == row["finetuning_energy_j"] == energies[int(np.argmin(times))]
        assert row["avg_power_w"] == pytest.approx(row["energy_j"] / row["time"])
        assert row["energy_cv"] == pytest.approx(np.std(energies, ddof=1) / np.mean(energies))
        assert row["energy_unavailable"] is None or pd.isna(row["energy_unavailable"])
    failed = table[table["state"] == "failed"]
    assert failed["energy_j"].isna().all() and (failed["energy_unavailable"] == "the run failed").all()


def test_inference_energy_is_per_batch_and_power_over_the_whole_evaluation(tmp_path):
    results = synthetic_results(1, seed=1, failed_share=0.0, energy="measured")[0]
    results["config"]["world_size"] = 2
    _write(tmp_path / "r", results)
    row = load_runs([tmp_path], "inference").iloc[0]
    batch = results["config"]["per_device_eval_batch_size"]
    assert row["energy_j"] == pytest.approx(results["inference_energy_per_sample_j"] * batch * 2)
    assert row["inference_energy_per_batch_j"] == row["energy_j"]
    assert row["avg_power_w"] == pytest.approx(results["inference_energy_j"]
                                               / results["inference_total_time"])
    assert pd.isna(row["energy_cv"])  # one energy per evaluation: nothing to vary


def test_why_energy_is_missing(tmp_path):
    base = synthetic_results(4, seed=2, failed_share=0.0)
    _write(tmp_path / "old", base[0])  # no energy keys at all
    unavailable = synthetic_results(1, seed=3, failed_share=0.0, energy="unavailable")[0]
    _write(tmp_path / "reason", unavailable)
    listed = synthetic_results(1, seed=5, failed_share=0.0, energy="measured")[0]
    listed["finetuning_energy_j"] = None  # only the list: the fastest iteration's entry is used
    _write(tmp_path / "listed", listed)
    bad = synthetic_results(1, seed=6, failed_share=0.0, energy="measured")[0]
    bad["finetuning_energy_j"], bad["finetuning_energy_j_list"] = -5.0, None
    _write(tmp_path / "bad", bad)
    rows = load_runs([tmp_path]).set_index("name")
    assert rows.loc["old", "energy_unavailable"] == NO_ENERGY_KEYS
    assert rows.loc["reason", "energy_unavailable"] == UNAVAILABLE_REASON
    times = listed["finetuning_time_list"]
    assert rows.loc["listed", "energy_j"] == \
        listed["finetuning_energy_j_list"][int(np.argmin(times))]
    assert "-5.0, not a positive, finite number of joules" in rows.loc["bad", "energy_unavailable"]
    assert rows["energy_j"].notna().sum() == 1


def test_energy_from_a_wandb_export_matches_the_run_folder(tmp_path):
    """The same figures through a W&B runs-table export (text cells, list as JSON text)."""
    results = synthetic_results(1, seed=7, failed_share=0.0, energy="measured")[0]
    _write(tmp_path / "folder" / "r", results)
    flat = {**results["config"], **{k: v for k, v in results.items() if not isinstance(v, dict)}}
    flat.update({"Name": "r", "State": "finished"})
    flat = {k: json.dumps(v) if isinstance(v, list) else v for k, v in flat.items()}
    pd.DataFrame([flat]).to_csv(tmp_path / "export.csv", index=False)
    for kind in ("finetuning", "inference"):
        folder = load_runs([tmp_path / "folder"], kind).iloc[0]
        export = load_runs([tmp_path / "export.csv"], kind).iloc[0]
        for column in ("energy_j", "avg_power_w", "energy_cv", "finetuning_energy_j",
                       "inference_energy_per_batch_j"):
            assert export[column] == pytest.approx(folder[column], nan_ok=True), (kind, column)
        assert export["energy_source"] == folder["energy_source"] == "nvml"


def test_energy_analysis_recovers_the_power_effect(table):
    """energy = power x time: a model's log-linear multiplier on energy is its multiplier on
    time times its power ratio (distilbert: 0.5 x 210/300 = 0.35 against bert-base)."""
    energy = analyze(table, metric="energy", forest_settings=SMALL, k=3, n_jobs=1)
    time = analyze(table, forest_settings=SMALL, k=3, n_jobs=1)
    assert energy.loglinear.formula.startswith("log_energy ~")
    multipliers = {}
    for analysis in (energy, time):
        coefs = analysis.loglinear.coefficients.set_index("level")
        multipliers[analysis.response.name] = coefs.loc["distilbert-base-uncased", "multiplier"]
    assert multipliers["time"] == pytest.approx(0.5, rel=0.05)
    assert multipliers["energy"] == pytest.approx(0.5 * 210 / 300, rel=0.06)
    data = energy.data
    one_way = anova_lm(smf.ols("energy_j ~ C(model)", data=data.assign(
        model=data["model"].astype(str))).fit(), typ=2)
    f_model = energy.anova.set_index("factor").loc["model", "F"]
    assert f_model == pytest.approx(one_way.loc["C(model)", "F"])
    assert energy.forest.settings["dv"] == "log_energy"


def test_energy_summary_says_what_was_analysed(table):
    s = summary(analyze(table, metric="energy", forest_settings=SMALL, k=3, n_jobs=1))
    assert (s["response"], s["response_unit"], s["response_column"]) == ("energy", "J", "energy_j")
    assert s["energy"]["count"] == s["n_analysed"] and "time" not in s
    assert {"log_energy", "correlations_with_energy", "energy_by_factor",
            "pooled_energy_metric"} <= set(s)
    assert "time" in s["correlations_with_energy"]  # how closely energy follows time
    assert s["pooled_energy_metric"]["accuracy_on_energy"]["fitted"]
    assert s["random_forest"]["test_rmse_log_energy"] is not None
    assert s["measurement_noise"]["source"] == "energy_cv"
    assert s["fastest_runs"][0]["energy_j"] == pytest.approx(s["energy"]["min"])
    assert {"time", "energy_j", "avg_power_w"} <= set(s["fastest_runs"][0])


def test_power_per_model_is_what_the_runs_drew(table):
    analysis = analyze(table, forest_settings=SMALL, k=2, n_jobs=1)
    power = analysis.power.set_index("model")
    for model, watts in POWER.items():
        assert power.loc[model, "median_power_w"] == pytest.approx(watts, rel=0.06), model
    assert list(analysis.power["median_time_s"]) == sorted(analysis.power["median_time_s"])
    inference = analyze(load_runs([table.attrs["sources"][0]], "inference"), "inference",
                        forest_settings=SMALL, k=2, n_jobs=1).power.set_index("model")
    for model, watts in POWER.items():
        assert inference.loc[model, "median_power_w"] == \
            pytest.approx(watts * INFERENCE_POWER_SHARE, rel=1e-6)


def test_report_with_energy_shows_energy_against_time(energy_runs, tmp_path):
    report = build_report([str(energy_runs)], tmp_path / "t", forest_settings=SMALL, k=2)
    text = report.read_text()
    assert "# Finetuning time analysis" in text and "## Energy against time" in text
    assert "![energy against time per model](energy_vs_time.png)" in text
    assert "median_power_w" in text
    assert "The fastest model, distilbert-base-uncased, also draws the least power" in text
    assert (tmp_path / "t" / "energy_vs_time.png").stat().st_size > 0
    assert json.loads((tmp_path / "t" / "summary.json").read_text())["energy_against_time"]


def test_energy_report_labels_joules(energy_runs, tmp_path):
    report = build_report([str(energy_runs)], tmp_path / "e", "inference", metric="energy",
                          forest_settings=SMALL, k=2)
    text = report.read_text()
    assert text.startswith("# Inference energy analysis")
    assert "inference energy per batch (J), finished runs:" in text
    assert "## Random forest on log energy" in text and "## Energy against accuracy" in text
    assert "one figure per evaluation" in text  # no repeats behind an inference energy
    for name in ("energy_box.png", "energy_histogram.png", "energy_vs_metric.png"):
        assert (tmp_path / "e" / name).is_file(), name
    assert not (tmp_path / "e" / "time_box.png").exists()


def test_runs_without_joules_get_a_report_silent_on_them(tmp_path):
    """(The name keeps "energy" out of tmp_path: run ids in the report are paths.)"""
    root = write_run_folders(tmp_path / "r", 30, seed=8)
    report = build_report([str(root)], tmp_path / "o", forest_settings=SMALL, k=2)
    before_cost_model = report.read_text().split("## Cost model")[0]
    assert "energy" not in before_cost_model.lower() and "power" not in before_cost_model.lower()
    assert "energy_against_time" not in json.loads((tmp_path / "o" / "summary.json").read_text())
    assert not (tmp_path / "o" / "energy_vs_time.png").exists()
    with pytest.raises(NoEnergyError, match=r"none of the \d+ finished run\(s\) has a fine-tuning"):
        analyze(load_runs([root]), metric="energy")


def test_runs_without_energy_are_left_out_with_a_note(tmp_path):
    write_run_folders(tmp_path / "with", 30, seed=9, energy="measured", failed_share=0.0)
    write_run_folders(tmp_path / "without", 5, seed=10, energy="unavailable", failed_share=0.0)
    analysis = analyze(load_runs([tmp_path]), metric="energy", forest_settings=SMALL, k=2)
    assert analysis.n_analysed == 30
    assert f"5 of 35 finished run(s) have no fine-tuning energy and are left out of the energy " \
           f"analysis (5 runs: {UNAVAILABLE_REASON})" in analysis.notes


@pytest.mark.parametrize("mode, reason", [("unavailable", UNAVAILABLE_REASON),
                                          (None, NO_ENERGY_KEYS)])
def test_cli_metric_energy_without_energy_is_one_line_exit_2(tmp_path, mode, reason):
    root = write_run_folders(tmp_path / "runs", 6, seed=11, energy=mode, failed_share=0.0)
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", str(root),
                           "--metric", "energy", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--metric energy: none of the 6 finished run(s)" in lines[0]
    assert f"6 runs: {reason}" in lines[0]
    assert not (tmp_path / "o" / "summary.json").exists()


def test_cli_metric_energy(energy_runs, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", str(energy_runs),
                           "--metric", "energy", "--out", str(tmp_path / "o"), "--no-plots",
                           "--forest-trees", "10", "--forest-folds", "0"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert proc.returncode == 0, proc.stderr
    assert "analysed (finetuning energy, J)" in proc.stdout and "log-linear R²" in proc.stdout
    data = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert data["response"] == "energy" and data["loglinear"]["formula"].startswith("log_energy")


def test_speed_for_power_names_the_trade():
    table = pd.DataFrame({"model": ["fast", "frugal"], "median_time_s": [10.0, 30.0],
                          "median_power_w": [400.0, 100.0]})
    assert speed_for_power(table) == ("The fastest model, fast, draws 400 W (median), 4.00x the "
                                      "power of frugal (100 W), which takes 3.00x its time.")
    assert speed_for_power(table.head(1)) is None


def test_power_levels_are_round_and_span_the_runs():
    assert energy_plots.power_levels([183, 359]) == [100.0, 200.0, 500.0]
    assert energy_plots.power_levels([15, 15]) == [10.0, 20.0]
    levels = energy_plots.power_levels([1, 9000])
    assert len(levels) == 4 and levels[0] == 1 and levels[-1] == 5000
    assert energy_plots.power_levels([]) == []


def test_energy_plot_axes(table):
    pairs = energy_time_pairs(analyze(table, forest_settings=SMALL, k=2, n_jobs=1).data,
                              "finetuning")
    ax = energy_plots.energy_vs_time(pairs)
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert {t.get_text() for t in ax.get_legend().get_texts()} == set(POWER)
    assert any(t.get_text().endswith(" W") for t in ax.texts)
    plt.close(ax.figure)
    _fig, given = plt.subplots()
    assert energy_plots.energy_vs_time(pairs, ax=given) is given and given.has_data()
    plt.close(given.figure)


def test_energy_axes_keep_plain_numbers_in_the_millions(table):
    """Joules reach millions: tick labels stay plain numbers (2000000), never 1e+06."""
    from timing_trainer.analysis.report import plots
    from timing_trainer.analysis.report.axes import labelled_ticks, plain_number
    from timing_trainer.analysis.stats.response import ENERGY

    assert plain_number(1e6) == "1000000" and plain_number(2.5e7) == "25000000"
    data = analyze(table, metric="energy", forest_settings=SMALL, k=2, n_jobs=1).data
    data = data.assign(energy_j=data["energy_j"] * 100)  # 3e5 .. 5e7 J
    for ax, axis in ((plots.time_density(data, response=ENERGY), "x"),
                     (plots.box_by_factor(data, "model", response=ENERGY), "y")):
        labels = labelled_ticks(getattr(ax, f"{axis}axis"))
        assert labels and not any("e" in t for t in labels), labels
        assert "(J)" in (ax.get_xlabel() + ax.get_ylabel())
        plt.close(ax.figure)
