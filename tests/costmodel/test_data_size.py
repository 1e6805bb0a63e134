"""A sweep's data sizes: a data_dir's rows, the max_*_samples caps, the task table; in proportion."""

from __future__ import annotations

import json

import pytest
from helpers.costmodel_runs import write_run_folders, write_sweep

from timing_trainer.commands.main import main
from timing_trainer.costmodel.data_size import TASK_TABLE, DataSizes
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.costmodel.sweep_estimate import estimate_sweep
from timing_trainer.errors import CostModelError
from timing_trainer.glue.demo_assets import write_task_tsvs
from timing_trainer.tasks import get_task

RTE = get_task("rte")
SWEEP = """\
name: sized
method: grid
parameters:
  task_name:
    value: rte
  model_name_or_path:
    values: [google-bert/bert-base-uncased, distilbert/distilbert-base-uncased]
  max_seq_length:
    value: 128
  per_device_train_batch_size:
    value: 16
  num_train_epochs:
    value: 2
  finetuning_iters:
    value: 3
"""


@pytest.fixture(scope="module")
def glue_roots(tmp_path_factory):
    """Two GLUE roots whose RTE differs only in size: 256 and 2,490 training rows."""
    roots = {}
    for rows in (256, 2490):
        root = tmp_path_factory.mktemp(f"glue{rows}")
        write_task_tsvs(root, RTE, rows, 64, seed=0)
        roots[rows] = root
    return roots


def test_rows_of_the_tsv_files_the_program_would_read(glue_roots, tmp_path):
    sizes = DataSizes(tmp_path / "s.yaml").of({"task_name": "rte",
                                                "data_dir": str(glue_roots[256])})
    assert (sizes.n_train, sizes.n_eval) == (256, 64)
    assert sizes.train_source == f"rows of {glue_roots[256] / 'RTE' / 'train.tsv'}"
    capped = DataSizes().of({"task_name": "rte", "data_dir": str(glue_roots[256] / "RTE"),
                             "max_train_samples": 100, "max_eval_samples": 1000})
    assert (capped.n_train, capped.train_source) == (100, "max_train_samples")
    assert (capped.n_eval, capped.eval_source[:7]) == (64, "rows of")  # the cap is above it
    hub = DataSizes().of({"task_name": "rte", "max_eval_samples": 50})
    assert (hub.n_train, hub.train_source, hub.n_eval) == (2490, TASK_TABLE, 50)


def test_a_relative_data_dir_is_looked_for_here_then_beside_the_sweep(glue_roots, tmp_path,
                                                                       monkeypatch):
    sweep = tmp_path / "sweeps" / "s.yaml"
    sweep.parent.mkdir()
    (sweep.parent / "data").symlink_to(glue_roots[256])
    monkeypatch.chdir(tmp_path)
    assert DataSizes(sweep).of({"task_name": "rte", "data_dir": "data"}).n_train == 256
    (tmp_path / "data").symlink_to(glue_roots[2490])  # the current folder comes first
    assert DataSizes(sweep).of({"task_name": "rte", "data_dir": "data"}).n_train == 2490
    lost = DataSizes(sweep).of({"task_name": "rte", "data_dir": "elsewhere"})
    assert lost.n_train == RTE.train_size
    assert "not found here" in lost.train_source and str(sweep.parent) in lost.train_source


def test_a_data_dir_the_program_would_refuse_is_refused(glue_roots, tmp_path):
    (tmp_path / "RTE").mkdir()
    (tmp_path / "RTE" / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n")
    with pytest.raises(CostModelError, match="data_dir .*missing TSV file .*dev.tsv"):
        DataSizes().of({"task_name": "rte", "data_dir": str(tmp_path)})


def test_two_sweeps_differing_only_in_data_size_are_priced_in_proportion(runs, glue_roots,
                                                                         tmp_path):
    model = fit_cost_model(runs, "finetuning", calibrate=False)
    ests = {rows: estimate_sweep(model, write_sweep(
        tmp_path, SWEEP + f"  data_dir:\n    value: {root}\n", f"s{rows}.yaml"))
        for rows, root in glue_roots.items()}
    small, large = ests[256].runs, ests[2490].runs
    assert list(small["n_train"]) == [256, 256] and list(large["n_train"]) == [2490, 2490]
    steps = (2490 // 16 + 1) * 2 / ((256 // 16) * 2)  # optimizer steps: 312 / 32
    ratio = large["run_time"] / small["run_time"]
    # on-clock time scales with the steps, less a fixed cost per run (a few % here)
    assert ((ratio > 0.9 * steps) & (ratio <= steps)).all(), (ratio, steps)


def test_the_json_says_where_each_runs_size_came_from(runs, glue_roots, tmp_path, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(30))
    sweep = write_sweep(tmp_path, SWEEP + f"  data_dir:\n    value: {glue_roots[256]}\n")
    assert main(["predict", "--runs", str(root), "--sweep", str(sweep), "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert (run["n_train"], run["n_eval"]) == (256, 64)
    assert run["n_train_source"].endswith("RTE/train.tsv")
    assert run["n_eval_source"].endswith("RTE/dev.tsv")
