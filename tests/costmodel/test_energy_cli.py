"""`timing-trainer predict` with energy: run folders carrying the energy keys of schema 3."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from helpers.costmodel_runs import predict, write_run_folders, write_sweep

from timing_trainer.commands.main import main
from timing_trainer.testing.costs import synthetic_runs, with_energy

CPU_ONLY = "RAPL not readable: /sys/class/powercap/intel-rapl absent"
ENERGY_KEYS = ("finetuning_energy_j", "finetuning_energy_j_list", "finetuning_avg_power_w",
               "energy_source")


@pytest.fixture(scope="module")
def table():
    runs = synthetic_runs(noise=0.03, seed=11, tasks=("rte", "mrpc", "cola", "stsb"))
    return with_energy(runs, noise=0.03, seed=11, source="rapl").head(60)


@pytest.fixture
def sweep_file(tmp_path):
    return write_sweep(tmp_path)


def write_runs(root: Path, table: pd.DataFrame, *, energy: bool) -> Path:
    """Run folders as the GLUE program writes them: energy figures, or null ones with the
    reason in `unavailable` (a CPU without readable RAPL)."""
    def figures(row):
        if not energy:
            return {**{key: None for key in ENERGY_KEYS},
                    "unavailable": {key: CPU_ONLY for key in ENERGY_KEYS}}
        e, t = row["finetuning_energy_j"], row["time"]
        return {"finetuning_energy_j": e, "finetuning_energy_j_list": [e] * 3,
                "finetuning_avg_power_w": e / t, "energy_source": "rapl", "unavailable": {}}

    return write_run_folders(root, table, figures)


@pytest.mark.parametrize("option, value", [
    ("--price-per-hour", "-1"), ("--price-per-hour", "nan"), ("--price-per-hour", "1e999"),
    ("--grid-intensity", "-inf"), ("--grid-intensity", "lots"),
])
def test_a_bad_rate_is_one_line_and_exit_2_before_the_runs_are_read(tmp_path, sweep_file,
                                                                    option, value):
    # The runs do not exist: the rate's error, not the runs', proves the check comes first.
    proc = predict("--runs", str(tmp_path / "no-such-runs"), "--sweep", str(sweep_file),
                   f"{option}={value}")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"timing-trainer predict: error: {option} must be")
    assert repr(value) in lines[0] and proc.stdout == ""


def test_a_rate_with_cv_is_refused(tmp_path, capsys):
    assert main(["predict", "--runs", str(tmp_path), "--cv", "kfold",
                 "--grid-intensity", "300"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--grid-intensity" in err[0] and "--sweep" in err[0]


def test_sweep_json_gives_hours_kwh_money_and_emissions(tmp_path, table, sweep_file, capsys):
    root = write_runs(tmp_path / "runs", table, energy=True)
    assert main(["predict", "--runs", str(root), "--sweep", str(sweep_file), "--json",
                 "--price-per-hour", "2", "--grid-intensity", "300"]) == 0
    out = json.loads(capsys.readouterr().out)
    costs = out["costs"]
    hours, kwh = costs["hours"], costs["energy_kwh"]
    assert hours["total"] == pytest.approx(out["total_s"] / 3600)
    assert costs["money"]["total"] == pytest.approx(2 * hours["total"])
    assert costs["emissions_gco2e"]["total"] == pytest.approx(300 * kwh["total"])
    for amount in costs.values():
        assert amount["low"] < amount["total"] < amount["high"] and amount["note"] is None
    assert costs["money"]["low"] == pytest.approx(2 * hours["low"])
    assert costs["emissions_gco2e"]["high"] == pytest.approx(300 * kwh["high"])
    assert out["energy_source"] == "rapl" and out["energy_note"] is None
    assert out["price_per_hour"] == 2 and out["grid_intensity_gco2e_per_kwh"] == 300
    assert sum(run["run_kwh"] for run in out["runs"]) == pytest.approx(kwh["total"])


def test_cv_scores_energy_beside_time(tmp_path, table, capsys):
    root = write_runs(tmp_path / "runs", table, energy=True)
    assert main(["predict", "--runs", str(root), "--cv", "kfold", "--k", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("finetuning time, kfold: n=60")
    assert lines[2].startswith("finetuning energy, kfold: n=60")
    assert main(["predict", "--runs", str(root), "--cv", "kfold", "--k", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 60 and out["energy"]["n"] == 60 and out["energy_note"] is None
    assert 0 < out["energy"]["median_ape"] < 10


def test_cpu_only_runs_give_hours_and_the_one_line_reason(tmp_path, table, sweep_file):
    root = write_runs(tmp_path / "runs", table, energy=False)
    proc = predict("--runs", str(root), "--sweep", str(sweep_file), "--price-per-hour", "1.5",
                   "--grid-intensity", "300")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    energy = [line for line in lines if line.startswith("energy")]
    assert len(energy) == 1 and CPU_ONLY in energy[0] and "hours only" in energy[0], energy
    assert "60 finished without energy" in energy[0]
    assert any(line.startswith("total: ") and " h)" in line for line in lines)
    assert any(line.startswith("money: ") for line in lines)
    assert lines[-1].startswith("emissions: not given: no energy prediction")
    cv = predict("--runs", str(root), "--cv", "kfold", "--json")
    assert cv.returncode == 0, cv.stderr
    out = json.loads(cv.stdout)
    assert out["n"] == 60 and out["energy"] is None and CPU_ONLY in out["energy_note"]
