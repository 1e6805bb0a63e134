"""The thesis's published statistics, reproduced from its exports (skipped without them).

Published figures: the thesis's notebooks `Analysis finetuning time.ipynb` and `Analysis
inference time.ipynb` in github.com/annakorotkova/Exploration-of-fine-tuning-and-inferencetime-
of-large-pre-trained-languagemodels-in-NLP (outputs printed by `anova_lm(typ=2)`, six decimals;
OLS summaries, three decimals). Our full-precision values are pinned beside them.
"""

from __future__ import annotations

import pytest

from timing_trainer.analysis.anova import one_way_anova
from timing_trainer.analysis.frame import analysis_frame
from timing_trainer.analysis.load import load_runs
from timing_trainer.analysis.regression import fit_loglinear
from timing_trainer.analysis.thesis import THESIS_COUNTS, thesis_files

PUBLISHED = {
    "finetuning": {
        "F": {"task": 66.741701, "model": 1.838809, "max_seq_length": 10.536817,
              "batch_size": 0.138402},
        "r2": 0.984, "adj_r2": 0.983,
        "ours_F": {"task": 66.74170101755352, "model": 1.8388088518709251,
                   "max_seq_length": 10.536817099572222, "batch_size": 0.1384018375486332},
        "ours_r2": 0.9835560838492926,
    },
    "inference": {
        "F": {"task": 0.787377, "model": 16.990979, "max_seq_length": 28.479173,
              "batch_size": 10.902677},
        "r2": 0.920, "adj_r2": 0.916,
        "ours_F": {"task": 0.7873770595584351, "model": 16.990978807496294,
                   "max_seq_length": 28.47917272075709, "batch_size": 10.902677037170205},
        "ours_r2": 0.9197007463645696,
    },
}


@pytest.mark.parametrize("kind", ["finetuning", "inference"])
def test_thesis_statistics_reproduced(thesis_runs_dir, kind):
    table = load_runs(thesis_files(thesis_runs_dir, kind), kind)
    n_finished, n_runs = THESIS_COUNTS[kind]
    assert len(table) == n_runs
    assert (table["state"] == "finished").sum() == n_finished
    data = analysis_frame(table)
    assert len(data) == n_finished
    anova = one_way_anova(data).set_index("factor")
    published = PUBLISHED[kind]
    for factor, f_value in published["F"].items():
        assert anova.loc[factor, "F"] == pytest.approx(f_value, abs=5e-7), factor
        assert anova.loc[factor, "F"] == pytest.approx(published["ours_F"][factor], rel=1e-9)
    fit = fit_loglinear(data)
    assert fit.n == n_finished
    assert fit.r2 == pytest.approx(published["r2"], abs=5e-4)
    assert fit.adj_r2 == pytest.approx(published["adj_r2"], abs=5e-4)
    assert fit.r2 == pytest.approx(published["ours_r2"], rel=1e-9)


def test_thesis_inference_time_drops_the_partial_last_batch(thesis_runs_dir):
    table = load_runs(thesis_files(thesis_runs_dir, "inference"), "inference")
    row = table[table["state"] == "finished"].iloc[0]
    assert row["time"] == min(row["inference_time_list"][:-1])
    ft = load_runs(thesis_files(thesis_runs_dir, "finetuning"), "finetuning")
    finished = ft[ft["state"] == "finished"]
    assert (finished["time"] == finished["finetuning_time_list"].map(min)).all()
