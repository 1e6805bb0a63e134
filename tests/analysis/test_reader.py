"""The report's reader (issue 22): the hardware and software section, runs named by folder and
W&B id, no plot of one level, the caveat sentences, labels inside the rendered PNGs."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from timing_trainer.analysis.analyze import analyze, build_report  # noqa: E402
from timing_trainer.analysis.report import plots  # noqa: E402
from timing_trainer.analysis.stats.caveats import MIN_FOREST_TEST  # noqa: E402
from timing_trainer.analysis.table.load import load_runs  # noqa: E402
from timing_trainer.testing.runs import synthetic_results, write_results  # noqa: E402

FAST = {"forest_settings": {"n_estimators": 10}, "forest_k": 0, "n_jobs": 1}
CPU = {"device": "cpu", "gpu_name": None, "gpu_count": 0, "cpu_model": "AMD EPYC 7763",
       "cpu_count": 16, "torch_num_threads": 8, "torch_version": "2.13.0",
       "transformers_version": "5.30"}


def _named(results, prefix):
    for index, result in enumerate(results):
        result["config"]["run_name"] = f"{prefix}{index:03d}-d83de8989f"
    return results


@pytest.fixture(scope="module")
def two_platforms(tmp_path_factory):
    root = tmp_path_factory.mktemp("platforms")
    gpu = _named(synthetic_results(12, seed=1, failed_share=0), "0")
    cpu = _named(synthetic_results(12, seed=2, failed_share=0, environment=CPU), "1")
    for result in gpu:
        result["wandb_run_id"] = f"w{result['config']['run_name'][:4]}"
    write_results(root, gpu + cpu)
    out = root / "report"
    build_report([str(root)], out, cache_dir=False, **FAST)
    return root, out


def test_hardware_section_first_with_each_platform_apart(two_platforms):
    _root, out = two_platforms
    report = (out / "report.md").read_text()
    section = report.split("## Hardware and software", 1)[1].split("\n## ", 1)[0]
    assert report.index("## Hardware and software") < report.index("## Data")
    assert "2 platforms, listed apart" in section
    assert "cuda: NVIDIA H100 80GB HBM3 x1" in section
    assert "cpu: AMD EPYC 7763 (16 cores, 8 threads)" in section
    assert "| torch_num_threads |" in section and "| 8 |" in section.replace(" | 8 |", "| 8 |")
    summary = json.loads((out / "summary.json").read_text())
    platforms = {p["platform"]: p for p in summary["environment"]}
    assert platforms["cpu: AMD EPYC 7763 (16 cores, 8 threads)"]["transformers_version"] == "5.30"
    assert platforms["cuda: NVIDIA H100 80GB HBM3 x1"]["runs"] == 12
    assert "driver_version" in summary["environment_missing"]


def test_runs_are_named_by_folder_and_wandb_id(two_platforms):
    _root, out = two_platforms
    runs = pd.read_csv(out / "runs.csv")
    row = runs.loc[runs["folder"] == "0003-d83de8989f"].iloc[0]
    assert row["wandb_id"] == "w0003"
    report = (out / "report.md").read_text()
    fastest = report.split("### Fastest runs", 1)[1].split("###", 1)[0]
    assert "(W&B w0" in fastest or "-d83de8989f" in fastest
    assert "/tmp" not in fastest  # the folder's real path (run_id) stays in the CSVs
    assert "0003-d83de8989f (W&B w0003)" in report


def test_no_box_plot_for_a_factor_with_one_level(two_platforms):
    _root, out = two_platforms
    report = (out / "report.md").read_text()
    assert not (out / "box_learning_rate.png").exists()  # every run: 2e-05
    assert "box plot by learning_rate" not in report
    assert (out / "box_model.png").exists()


def _ink_on_border(path) -> bool:
    image = mpimg.imread(path)[..., :3]
    border = np.concatenate([image[:2].reshape(-1, 3), image[-2:].reshape(-1, 3),
                             image[:, :2].reshape(-1, 3), image[:, -2:].reshape(-1, 3)])
    return bool((border < 0.9).any())


def test_rendered_labels_lie_inside_the_figure(tmp_path):
    """Long variable names on the heat map: every text's box inside the saved figure, and no
    ink on the PNG's edge (a clipped label would touch it)."""
    names = ["sequence length of the batch", "tokens per batch in the run", "time", "task size"]
    corr = pd.DataFrame(np.eye(4) * 0.5 + 0.5, index=names, columns=names)
    ax = plots.correlation_heatmap(corr)
    figure = ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    saved = figure.get_tightbbox(renderer)  # what bbox_inches="tight" saves, in inches
    texts = [t for t in figure.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]
    assert any("sequence length" in t.get_text() for t in texts)
    for text in texts:
        box = text.get_window_extent(renderer).transformed(figure.dpi_scale_trans.inverted())
        assert saved.x0 - 1e-6 <= box.x0 and box.x1 <= saved.x1 + 1e-6, text.get_text()
        assert saved.y0 - 1e-6 <= box.y0 and box.y1 <= saved.y1 + 1e-6, text.get_text()
    path = plots.save(ax, tmp_path / "heat.png")
    height, width = mpimg.imread(path).shape[:2]
    assert width >= saved.width * 110 - 2 and height >= saved.height * 110 - 2
    assert not _ink_on_border(path)


def test_report_pngs_have_nothing_cut_at_their_edges(two_platforms):
    _root, out = two_platforms
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 8
    assert [p.name for p in pngs if _ink_on_border(p)] == []


@pytest.fixture(scope="module")
def overfit_table(tmp_path_factory):
    """Twelve noisy runs, four models and four tasks: the log-linear model has nearly as many
    terms as runs, so it fits them (nearly) exactly and predicts held-out runs badly."""
    results = synthetic_results(12, seed=4, failed_share=0, noise=0.3)
    root = write_results(tmp_path_factory.mktemp("overfit"), results)
    return load_runs([str(root)], cache_dir=False)


def test_cv_disagreement_and_small_test_split_are_said(overfit_table):
    analysis = analyze(overfit_table, k=3, forest_settings={"n_estimators": 10}, n_jobs=1)
    ll = analysis.loglinear
    assert ll.r2 - ll.cv["r2_mean"] > 0.2
    from timing_trainer.analysis.report.sections import forest_section, regression_section

    text = "\n".join(regression_section(analysis, {}))
    assert "Cross-validation disagrees with the in-sample fit: the log-linear regression" in text
    assert f"{ll.r2:.2f} of the variance" in text
    forest = "\n".join(forest_section(analysis, {}))
    assert analysis.forest.n_test < MIN_FOREST_TEST
    assert f"The test split holds {analysis.forest.n_test} run(s), fewer than " \
           f"{MIN_FOREST_TEST}" in forest


def test_no_caveat_where_cv_agrees(tmp_path):
    root = write_results(tmp_path, synthetic_results(80, seed=3, failed_share=0, noise=0.02))
    analysis = analyze(load_runs([str(root)], cache_dir=False), **FAST)
    from timing_trainer.analysis.report.sections import regression_section

    assert analysis.loglinear.cv["r2_mean"] > 0.9
    assert "Cross-validation disagrees" not in "\n".join(regression_section(analysis, {}))
