"""The GLUE program end to end on generated TSVs with the tiny demo models, and its failures.

Runs call `timing_trainer.glue.run.main` in-process (what `python -m timing_trainer.glue` calls);
one test runs real subprocesses to check exit status and stderr as a sweep agent sees them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from timing_trainer.glue import failures, run
from timing_trainer.glue.demo_assets import write_demo_assets
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results
from timing_trainer.runtime import exit_codes
from timing_trainer.tasks import TASK_NAMES, get_task

pytestmark = pytest.mark.slow




def _argv(assets, task, out, *extra, model="tiny-uncased", data_dir=None):
    return [
        f"--task_name={task}", f"--model_name_or_path={assets / 'models' / model}",
        f"--data_dir={data_dir or assets}", f"--output_dir={out}",
        f"--tokenization_cache_dir={out.parent / 'cache'}",
        "--max_seq_length=32", "--per_device_train_batch_size=8", "--per_device_eval_batch_size=4",
        "--num_train_epochs=1", "--finetuning_iters=2", "--report_to=none", "--disable_tqdm=True",
        "--use_cpu=True", *extra,
    ]


def _results(out):
    data = json.loads((out / RESULTS_FILENAME).read_text())
    validate_results(data)
    return data


@pytest.mark.parametrize("task_name", TASK_NAMES)
def test_every_task_end_to_end(assets, tmp_path, task_name):
    task = get_task(task_name)
    out = tmp_path / "run"
    model = "tiny-cased" if task_name in ("cola", "mrpc", "qqp") else "tiny-uncased"
    # A GLUE root for most tasks; the task's own folder (in GLUE's spelling) for the rest.
    data_dir = assets / task.display_name if task_name in ("rte", "stsb", "sst2") else assets
    assert run.main(_argv(assets, task.display_name, out, model=model, data_dir=data_dir)) == 0
    data = _results(out)
    assert data["status"] == "finished" and data["error"] is None
    assert data["config"]["task_name"] == task_name
    assert data["config"]["data_source"] == "tsv"
    assert data["config"]["n_train_samples"] == 16 and data["config"]["n_eval_samples"] == 8
    assert len(data["finetuning_time_list"]) == 2
    assert data["finetuning_time"] == min(data["finetuning_time_list"]) > 0
    assert set(data["setup_time_parts"]) >= {"model_load", "tokenize"}
    assert len(data["inference_time_list"]) == 2  # 8 dev examples in batches of 4
    for metric in task.metrics:
        assert f"eval_{metric}" in data["eval_metrics"]
    assert task.main_metric_key in data["eval_metrics"]
    evaluations = [e["name"] for e in data["evaluations"]]
    assert evaluations == [s.key_prefix for s in task.eval_splits]


def test_mnli_reports_matched_and_mismatched(assets, tmp_path):
    out = tmp_path / "mnli"
    assert run.main(_argv(assets, "mnli", out)) == 0
    data = _results(out)
    assert {"eval_accuracy", "eval_mm_accuracy"} <= set(data["eval_metrics"])
    by_name = {e["name"]: e for e in data["evaluations"]}
    assert set(by_name) == {"eval", "eval_mm"}
    for record in by_name.values():
        assert record["inference_total_time"] > 0 and len(record["inference_time_list"]) == 2
    assert data["config"]["n_eval_mm_samples"] == 8


def test_stsb_is_scored_as_regression(assets, tmp_path, monkeypatch):
    from transformers import AutoModelForSequenceClassification

    seen = {}
    original = AutoModelForSequenceClassification.from_pretrained

    def spy(*args, **kwargs):
        model = original(*args, **kwargs)
        seen["config"] = model.config
        return model

    monkeypatch.setattr(AutoModelForSequenceClassification, "from_pretrained", spy)
    out = tmp_path / "stsb"
    assert run.main(_argv(assets, "sts-b", out)) == 0
    assert seen["config"].num_labels == 1 and seen["config"].problem_type == "regression"
    metrics = _results(out)["eval_metrics"]
    assert set(metrics) >= {"eval_pearson", "eval_spearmanr"} and "eval_accuracy" not in metrics


def test_do_eval_alone_times_inference_without_training(assets, tmp_path, monkeypatch):
    import transformers

    monkeypatch.setattr(transformers.Trainer, "training_step",
                        lambda *a, **k: pytest.fail("an inference run must not train"))
    out = tmp_path / "inference"
    assert run.main(_argv(assets, "qnli", out, "--do_eval")) == 0
    data = _results(out)
    assert data["finetuning_time"] is None and data["inference_total_time"] > 0
    assert "eval_accuracy" in data["eval_metrics"]


def test_second_run_reuses_the_tokenization_cache(assets, tmp_path):
    first, second = tmp_path / "a" / "run", tmp_path / "b" / "run"
    cache = f"--tokenization_cache_dir={tmp_path / 'shared-cache'}"
    assert run.main(_argv(assets, "wnli", first, "--finetuning_iters=1", cache)) == 0
    assert run.main(_argv(assets, "wnli", second, "--finetuning_iters=1", cache)) == 0
    assert _results(first)["config"]["tokenization_cache"] == "miss"
    assert _results(second)["config"]["tokenization_cache"] == "hit"


def test_hub_path_with_stubbed_load_dataset(assets, tmp_path, monkeypatch):
    import datasets

    from timing_trainer.glue.tsv import read_tsv

    task = get_task("rte")
    features = datasets.Features({"sentence1": datasets.Value("string"),
                                  "sentence2": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=list(task.labels))})
    calls = []

    def fake_load_dataset(name, config, cache_dir=None):
        calls.append((name, config))
        return datasets.DatasetDict({
            split: datasets.Dataset.from_dict(read_tsv(assets / "RTE" / file, task), features=features)
            for split, file in (("train", "train.tsv"), ("validation", "dev.tsv"), ("test", "dev.tsv"))
        })

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    out = tmp_path / "hub"
    argv = [a for a in _argv(assets, "rte", out, "--finetuning_iters=1") if not a.startswith("--data_dir")]
    assert run.main(argv) == 0
    assert calls == [("nyu-mll/glue", "rte")]
    config = _results(out)["config"]
    assert config["data_source"] == "hub" and config["data_location"] == "nyu-mll/glue/rte"


def test_learnable_pattern_beats_chance(tmp_path):
    assets = write_demo_assets(tmp_path / "assets", tasks=["sst2"], train_size=256, dev_size=64)
    out = tmp_path / "sst2"
    argv = _argv(assets, "sst2", out, "--finetuning_iters=1", "--learning_rate=5e-3",
                 "--num_train_epochs=4", "--per_device_train_batch_size=16")
    assert run.main(argv) == 0
    assert _results(out)["eval_metrics"]["eval_accuracy"] >= 0.75  # chance is 0.5


# --- failures ---------------------------------------------------------------------------------


def _oom(*args, **kwargs):
    import torch

    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_in_training_is_recorded(assets, tmp_path, monkeypatch, capsys):
    import transformers

    monkeypatch.setattr(transformers.Trainer, "training_step", _oom)
    out = tmp_path / "oom"
    assert run.main(_argv(assets, "rte", out)) == exit_codes.OOM == 3
    data = _results(out)
    assert data["status"] == "failed" and data["error"]["kind"] == "oom"
    assert "CUDA out of memory" in data["error"]["message"]
    assert data["config"]["task_name"] == "rte" and data["finetuning_time"] is None
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("timing_trainer.glue: out of memory: ")


def test_out_of_memory_while_loading_the_model(assets, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "load_model", _oom)
    out = tmp_path / "oom-load"
    assert run.main(_argv(assets, "rte", out, "--learning_rate=3e-5")) == 3
    data = _results(out)
    assert data["status"] == "failed" and data["error"]["kind"] == "oom"
    assert data["config"]["learning_rate"] == pytest.approx(3e-5)
    assert data["config"]["max_seq_length"] == 32 and data["environment"]["device"] == "cpu"
    assert "Traceback" not in capsys.readouterr().err


def test_other_exception_is_exit_1_with_traceback_file(assets, tmp_path, monkeypatch, capsys):
    import transformers

    def broken(*args, **kwargs):
        raise RuntimeError("something broke in the loss")

    monkeypatch.setattr(transformers.Trainer, "training_step", broken)
    out = tmp_path / "boom"
    assert run.main(_argv(assets, "rte", out)) == 1
    data = _results(out)
    assert data["status"] == "failed" and data["error"]["kind"] == "exception"
    assert "something broke" in (out / failures.TRACEBACK_FILE).read_text()
    err = capsys.readouterr().err
    assert "Traceback" not in err and "failed: something broke in the loss" in err


def test_interrupt_is_recorded_and_exit_130(assets, tmp_path, monkeypatch, capsys):
    import transformers

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(transformers.Trainer, "training_step", interrupt)
    out = tmp_path / "ctrl-c"
    assert run.main(_argv(assets, "rte", out)) == 130
    assert _results(out)["error"]["kind"] == "interrupted"
    assert "timing_trainer.glue: interrupted" in capsys.readouterr().err


def _spy_wandb_finish(monkeypatch):
    """Record (exit code, config, summary) of every W&B run as it finishes (offline mode)."""
    pytest.importorskip("wandb")
    from wandb.sdk import wandb_run

    finished = []
    original_finish = wandb_run.Run.finish

    def spy_finish(self, exit_code=None, *args, **kwargs):
        finished.append((exit_code, dict(self.config), dict(self.summary)))
        return original_finish(self, exit_code, *args, **kwargs)

    monkeypatch.setattr(wandb_run.Run, "finish", spy_finish)
    return finished


def test_finished_run_logs_sweep_parameters_to_wandb(assets, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_PROJECT", "restored-after-the-test")
    monkeypatch.delenv("WANDB_PROJECT")
    finished = _spy_wandb_finish(monkeypatch)
    argv = [a for a in _argv(assets, "rte", tmp_path / "w") if a != "--report_to=none"]
    assert run.main([*argv, "--report_to=wandb", "--learning_rate=4e-5", "--fp16=False"]) == 0
    assert os.environ["WANDB_PROJECT"] == "timing-trainer"
    exit_code, config, summary = finished[-1]
    assert not exit_code
    for key, value in (("task_name", "rte"), ("max_seq_length", 32), ("fp16", False),
                       ("per_device_train_batch_size", 8), ("finetuning_iters", 2)):
        assert config[key] == value, key
    assert config["learning_rate"] == pytest.approx(4e-5)
    assert "eval_accuracy" in summary and summary["finetuning_time"] > 0


def test_failed_run_is_marked_failed_in_wandb(assets, tmp_path, monkeypatch):
    """Offline W&B: the project defaults to timing-trainer, the run's config holds the sweep's
    parameters, and the run ends with a non-zero exit code (failed)."""
    monkeypatch.setenv("WANDB_PROJECT", "restored-after-the-test")
    monkeypatch.delenv("WANDB_PROJECT")
    monkeypatch.setattr(run, "load_model", _oom)
    finished = _spy_wandb_finish(monkeypatch)
    argv = [a for a in _argv(assets, "rte", tmp_path / "w") if a != "--report_to=none"]
    assert run.main([*argv, "--report_to=wandb", "--learning_rate=4e-5"]) == 3
    assert os.environ["WANDB_PROJECT"] == "timing-trainer"
    exit_code, config, summary = finished[-1]
    assert exit_code == 1 and summary["error_kind"] == "oom"
    assert config["task_name"] == "rte" and config["max_seq_length"] == 32
    assert config["learning_rate"] == pytest.approx(4e-5)
    assert config["per_device_train_batch_size"] == 8


# --- bad input --------------------------------------------------------------------------------


def _bad_tsv_root(tmp_path):
    folder = tmp_path / "bad" / "RTE"
    folder.mkdir(parents=True)
    for name in ("train.tsv", "dev.tsv"):
        (folder / name).write_text("index\tsentence1\tlabel\n0\tA cat.\tentailment\n")
    return folder.parent


@pytest.mark.parametrize("case", ["unknown task", "missing file", "missing column",
                                  "no model", "length 0", "length too long"])
def test_bad_input_is_one_line_and_exit_2(assets, tmp_path, capsys, case):
    out = tmp_path / "out"
    argv = _argv(assets, "rte", out)
    if case == "unknown task":
        argv += ["--task_name=rtx"]
        expected = "valid tasks: cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli"
    elif case == "missing file":
        empty = tmp_path / "RTE"
        empty.mkdir()
        (empty / "train.tsv").write_text("index\tsentence1\tsentence2\tlabel\n")
        argv += [f"--data_dir={empty}"]
        expected = "missing TSV file"
    elif case == "missing column":
        argv += [f"--data_dir={_bad_tsv_root(tmp_path)}"]
        expected = "missing column 'sentence2'"
    elif case == "no model":
        argv += [f"--model_name_or_path={tmp_path / 'no-such-model'}"]
        expected = "does not exist"
    elif case == "length 0":
        argv += ["--max_seq_length=0"]
        expected = "max_seq_length must be at least 1"
    else:
        argv += ["--max_seq_length=1024"]
        expected = "exceeds what"
    assert run.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("timing_trainer.glue: error: ") and expected in lines[-1]
    assert not any("Traceback" in line for line in lines)
    assert not (out / RESULTS_FILENAME).exists()


def test_bad_input_in_a_real_process(assets, tmp_path):
    """As a sweep agent sees it: exit status 2 and exactly one line on stderr."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    commands = {
        "unknown task": ["--task_name=sst3", "--model_name_or_path=m"],
        "missing column": _argv(assets, "rte", tmp_path / "o",
                                data_dir=_bad_tsv_root(tmp_path)),
    }
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "timing_trainer.glue", *argv],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for name, argv in commands.items()
    }
    errors = {}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (name, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, (name, err)
        assert lines[0].startswith("timing_trainer.glue: error: ")
        errors[name] = lines[0]
    assert "valid tasks: cola, sst2" in errors["unknown task"]
    assert "missing column 'sentence2'" in errors["missing column"]


def test_demo_assets_command(tmp_path, capsys):
    from timing_trainer.commands.main import main

    assert main(["demo-assets", str(tmp_path / "d"), "--tasks", "sts-b", "MNLI",
                 "--train-size", "5", "--dev-size", "3"]) == 0
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["MNLI", "STS-B", "models"]
    assert len((tmp_path / "d" / "MNLI" / "dev_mismatched.tsv").read_text().splitlines()) == 4
    assert (tmp_path / "d" / "models" / "tiny-cased" / "config.json").is_file()
    assert main(["demo-assets", str(tmp_path / "e"), "--tasks", "glue"]) == 2
    assert "valid tasks" in capsys.readouterr().err


def test_demo_assets_are_deterministic(tmp_path):
    first = write_demo_assets(tmp_path / "a", tasks=["rte", "cola"], train_size=6, dev_size=3)
    second = write_demo_assets(tmp_path / "b", tasks=["rte", "cola"], train_size=6, dev_size=3)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    other = write_demo_assets(tmp_path / "c", tasks=["rte"], train_size=6, dev_size=3, seed=1)
    assert (other / "RTE" / "train.tsv").read_bytes() != (first / "RTE" / "train.tsv").read_bytes()
