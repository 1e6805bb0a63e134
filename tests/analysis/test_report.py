"""The report, `summary.json`, the cost-model hook and the `analyze` command."""

from __future__ import annotations

import json
import os
import sys

import pytest

from timing_trainer.analysis.analyze import analyze, summary, write_outputs
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.commands import analyze as full_report
from timing_trainer.commands.main import main
from timing_trainer.costmodel import report_section as costmodel_report
from timing_trainer.testing.runs import write_run_folders

SMALL_FOREST = {"n_estimators": 20}


RUN_FOLDERS = {"n": 80, "seed": 3}


def test_build_report_writes_everything(run_folders, tmp_path):
    """The report of `analyze`: the analysis's sections and, composed above it, the cost
    model's."""
    out = tmp_path / "out"
    path = full_report.build_report([str(run_folders)], out, "finetuning", forest_settings=SMALL_FOREST,
                                    k=3)
    assert path == out / "report.md"
    summary_json = json.loads((out / "summary.json").read_text())
    assert summary_json["n_runs"] == 80 and summary_json["n_finished"] < 80
    assert [a["factor"] for a in summary_json["anova"]] == ["task", "model", "max_seq_length",
                                                            "batch_size"]
    assert all(set(a) >= {"factor", "F", "p", "eta_sq"} for a in summary_json["anova"])
    ll = summary_json["loglinear"]
    assert set(ll) >= {"r2", "adj_r2", "n", "coefficients", "cv"} and len(ll["cv"]["r2_folds"]) == 3
    assert summary_json["random_forest"]["settings"]["n_estimators"] == 20
    assert summary_json["accuracy_relation"] and summary_json["pareto_front"]
    for name in ("runs.csv", "anova.csv", "tukey_hsd.csv", "loglinear_coefficients.csv",
                 "rf_importances.csv", "accuracy_relation.csv", "pareto_front.csv",
                 "box_task.png", "box_batch_size.png", "time_histogram.png",
                 "correlation_heatmap.png", "residual_qq.png", "time_vs_metric.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    text = path.read_text()
    for heading in ("## Data", "## Descriptive statistics", "## ANOVA", "## Log-linear regression",
                    "## Random forest", "## Time against accuracy", "## Cost model"):
        assert heading in text
    assert "![box plot by task](box_task.png)" in text
    assert text.index("## ANOVA") < text.index("## Log-linear") < text.index("## Random forest")
    assert text.index("## Random forest") < text.index("## Cost model")
    assert f"]({costmodel_report.FIGURE})" in text and (out / costmodel_report.FIGURE).is_file()


def test_the_analysis_alone_writes_no_cost_model_section(run_folders, tmp_path):
    """The analysis's own report knows nothing of the cost model; further sections are handed
    in, after its own, in their order."""
    analysis = analyze(load_runs([run_folders]), forest_settings=SMALL_FOREST, k=2)
    alone = write_outputs(analysis, tmp_path / "alone", plots_on=False).read_text()
    assert "## Cost model" not in alone and "## Random forest" in alone
    sections = [lambda a, out: ("First", f"{a.n_runs} runs in {out.name}"),
                lambda a, out: ("Second", "two")]
    text = write_outputs(analysis, tmp_path / "more", plots_on=False,
                         sections=sections).read_text()
    assert text.endswith("## First\n\n80 runs in more\n\n## Second\n\ntwo\n")


def test_cost_model_section_is_called_and_failures_are_contained(run_folders, tmp_path, monkeypatch):
    calls = []

    def section(table, out_dir, kind):
        calls.append((len(table), out_dir, kind))
        return "COSTMODEL-SECTION-MARKER"

    monkeypatch.setattr(costmodel_report, "report_section", section)
    table = load_runs([run_folders])
    analysis = analyze(table, forest_settings=SMALL_FOREST, k=2)
    path = full_report.write_outputs(analysis, tmp_path / "a", plots_on=False)
    assert "## Cost model\n\nCOSTMODEL-SECTION-MARKER" in path.read_text()
    assert calls == [(80, tmp_path / "a", "finetuning")]

    def broken(table, out_dir, kind):
        raise RuntimeError("boom")

    monkeypatch.setattr(costmodel_report, "report_section", broken)
    path = full_report.write_outputs(analysis, tmp_path / "b", plots_on=False)
    assert "cost model section failed (RuntimeError: boom)" in path.read_text()


def test_few_runs_still_give_a_report(tmp_path):
    root = write_run_folders(tmp_path / "r", 2, seed=0, failed_share=0.0)
    analysis = analyze(load_runs([root]), forest_settings=SMALL_FOREST)
    data = summary(analysis)
    assert data["n_analysed"] == 2 and data["loglinear"] is None
    assert any("no models fitted" in note for note in data["notes"])
    path = write_outputs(analysis, tmp_path / "out")
    assert "Not fitted" in path.read_text()


def test_cli_analyze(run_folders, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["analyze", str(run_folders), "--kind", "inference", "--out", str(out), "--no-plots",
                 "--folds", "3", "--forest-folds", "0", "--forest-trees", "10"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "ANOVA task" in printed and "report:" in printed and "log-linear R²" in printed
    data = json.loads((out / "summary.json").read_text())
    assert data["kind"] == "inference" and "evaluation batch size" in data["time_definition"]
    assert data["loglinear"]["cv"]["k"] == 3 and data["random_forest"]["cv"]["k"] == 0
    assert data["random_forest"]["r2_oob"] is not None
    # the inference forest's own defaults (the thesis's), with the one option given
    settings = data["settings"]["random_forest"]
    assert settings == {"n_estimators": 10, "random_state": 0, "split_seed": 42,
                        "max_depth": 4, "test_size": 0.2}
    assert data["random_forest"]["n_test"] == round(0.2 * data["n_analysed"] + 0.4999)
    assert data["settings"]["task_size_column"] == "n_eval"


def test_cli_forest_options_change_the_settings(run_folders, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["analyze", str(run_folders), "--out", str(out), "--no-plots", "--forest-folds", "0",
                 "--forest-trees", "10", "--forest-depth", "3", "--forest-test-size", "0.25"]) == 0
    rf = json.loads((out / "summary.json").read_text())["random_forest"]
    assert rf["settings"]["max_depth"] == 3 and rf["settings"]["test_size"] == 0.25
    assert all(v is not None for v in (rf["test_mae_log_time"], rf["test_rmse_log_time"]))
    assert rf["test_rmse_log_time"] == pytest.approx(rf["test_mse_log_time"] ** 0.5)


@pytest.mark.parametrize("option", [["--forest-depth", "0"], ["--forest-test-size", "1.5"],
                                    ["--forest-trees", "0"]])
def test_cli_bad_forest_option_is_one_line(run_folders, tmp_path, option):
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", str(run_folders), "--out",
                           str(tmp_path / "o"), *option], capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"}, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option[0] in lines[0]
    assert not (tmp_path / "o" / "summary.json").exists()


def test_cli_bad_source_is_one_line_error(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file or folder" in err[0]


def test_a_whole_report_never_imports_torch_or_transformers(run_folders, tmp_path):
    """A laptop with pandas alone can analyse a sweep: nothing on the report's path loads torch."""
    import subprocess

    code = (
        "import sys\n"
        "from timing_trainer.commands.main import main\n"
        f"assert main(['analyze', {str(run_folders)!r}, '--out', {str(tmp_path / 'out')!r}]) == 0\n"
        "print('LOADED=' + ','.join(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.stdout.strip().splitlines()[-1] == "LOADED="
    assert (tmp_path / "out" / "report.md").is_file()
