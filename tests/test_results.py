"""TimingResults: raw values in, the schema's figures out; usable without torch or a trainer."""

import json
import subprocess
import sys

import pytest

from timing_trainer.results import (
    EvaluationRecord,
    ResultsWriteError,
    TimingResults,
    classify_error,
    is_metric_key,
)
from timing_trainer.schema import ERROR_KINDS, ResultsValidationError, validate_results


def _results_with_evaluations():
    results = TimingResults(config={"task_name": "mnli"}, environment={"device": "cpu"})
    results.finetuning_times = [3.0, 2.0, 2.5]
    results.train_samples = 200
    results.train_tokens = 200 * 128
    results.train_flops = 3 * 1e6 * 200 * 128
    results.train_steps = 25
    results.add_evaluation(EvaluationRecord(
        name="eval", total_time=0.5, batch_times=[0.09, 0.05, 0.06, 0.01],
        batch_sizes=[8, 8, 8, 3], batch_size=8, n_samples=27, n_tokens=27 * 128,
        flops=1e6 * 27 * 128, metrics={"eval_accuracy": 0.8, "eval_loss": 0.4,
                                       "eval_inference_time": 0.05, "eval_runtime": 0.6}))
    results.add_evaluation(EvaluationRecord(
        name="eval_mm", total_time=0.7, batch_times=[0.07, 0.08], batch_sizes=[8, 8],
        batch_size=8, n_samples=16, metrics={"eval_mm_accuracy": 0.7}))
    return results


def test_finetuning_figures():
    data = _results_with_evaluations().to_dict()
    assert data["finetuning_time"] == 2.0
    assert data["finetuning_time_list"] == [3.0, 2.0, 2.5]
    assert data["finetuning_time_median"] == 2.5
    assert data["train_samples_per_second"] == pytest.approx(100.0)
    assert data["train_tokens_per_second"] == pytest.approx(100.0 * 128)
    assert data["flops_per_token"] == pytest.approx(1e6)
    validate_results(data)


def test_inference_figures_come_from_the_primary_set_and_full_batches():
    data = _results_with_evaluations().to_dict()
    # Primary set "eval": the partial last batch (0.01 s, 3 samples) is not the minimum.
    assert data["inference_time"] == 0.05
    assert data["inference_time_list"] == [0.09, 0.05, 0.06, 0.01]
    assert data["inference_total_time"] == 0.5
    assert data["inference_samples_per_second"] == pytest.approx(27 / 0.5)
    assert [e["name"] for e in data["evaluations"]] == ["eval", "eval_mm"]
    assert data["evaluations"][1]["inference_time"] == 0.07


def test_warmup_batches_leave_the_statistics_but_not_the_list():
    record = EvaluationRecord(name="eval", batch_times=[0.01, 0.5, 0.6, 0.7],
                              batch_sizes=[8, 8, 8, 8], batch_size=8, warmup_batches=1)
    figures = record.to_dict()
    assert figures["inference_time"] == 0.5
    assert figures["inference_time_median"] == 0.6
    assert figures["inference_time_list"] == [0.01, 0.5, 0.6, 0.7]


def test_eval_metrics_gather_every_set_and_no_timings():
    data = _results_with_evaluations().to_dict()
    assert data["eval_metrics"] == {"eval_accuracy": 0.8, "eval_loss": 0.4,
                                    "eval_mm_accuracy": 0.7}


def test_repeated_evaluations_of_the_primary_set():
    results = TimingResults()
    for total, times in ((0.9, [0.3, 0.2]), (0.6, [0.25, 0.1])):
        results.add_evaluation(EvaluationRecord(name="eval", total_time=total, batch_times=times,
                                                batch_sizes=[4, 4], batch_size=4, n_samples=8))
    data = results.to_dict()
    assert data["inference_total_time"] == 0.6
    assert data["inference_time"] == 0.1
    assert data["inference_time_list"] == [0.3, 0.2, 0.25, 0.1]


def test_setup_time_is_the_sum_of_its_parts():
    results = TimingResults()
    assert results.to_dict()["setup_time"] is None
    results.add_setup_time("model_load", 1.5)
    results.add_setup_time("tokenize", 0.5)
    results.add_setup_time("tokenize", 0.25)
    data = results.to_dict()
    assert data["setup_time"] == pytest.approx(2.25)
    assert data["setup_time_parts"] == {"model_load": 1.5, "tokenize": 0.75}
    with pytest.raises(ValueError):
        results.add_setup_time("x", -1)
    with pytest.raises(ValueError):
        results.add_setup_time("", 1)


def test_failed_results_without_a_trainer_validate(tmp_path):
    results = TimingResults(config={"task_name": "rte"}, environment={
        "device": "cpu", "torch_version": None, "transformers_version": None,
        "timing_trainer_version": "0.1.0", "python_version": "3.11"})
    results.mark_failed("oom", "CUDA out of memory")
    path = results.save(tmp_path / "timing_results.json")
    data = json.loads(path.read_text())
    validate_results(data)
    assert data["status"] == "failed"
    assert data["error"] == {"kind": "oom", "message": "CUDA out of memory"}
    assert data["finetuning_time"] is None and data["inference_time"] is None
    with pytest.raises(ValueError, match="unknown error kind"):
        results.mark_failed("boom", "x")


def test_save_to_an_unwritable_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        TimingResults(environment={"device": "cpu"}).save(blocker / "timing_results.json")
    assert issubclass(ResultsWriteError, OSError)


def test_invalid_results_do_not_get_written(tmp_path):
    results = TimingResults(environment={"device": "cpu"})
    results.status = "weird"
    with pytest.raises(ResultsValidationError):
        results.save(tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_summary_is_flat_with_metrics_at_top_level():
    summary = _results_with_evaluations().summary()
    assert summary["eval_accuracy"] == 0.8
    assert summary["eval_mm_accuracy"] == 0.7
    assert summary["finetuning_time"] == 2.0
    assert summary["inference_time"] == 0.05
    assert summary["eval_mm_inference_time"] == 0.07
    assert summary["status"] == "finished"
    assert not any(isinstance(v, dict) for v in summary.values())


def test_metric_keys():
    assert is_metric_key("eval_accuracy") and is_metric_key("eval_mm_f1")
    for key in ("eval_runtime", "eval_samples_per_second", "eval_inference_time",
                "eval_mm_inference_total_time", "epoch", "eval_model_preparation_time"):
        assert not is_metric_key(key)


def test_classify_error():
    import torch

    assert classify_error(torch.cuda.OutOfMemoryError("CUDA out of memory.")) == "oom"
    assert classify_error(MemoryError()) == "oom"
    assert classify_error(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")) == "oom"
    assert classify_error(RuntimeError("MPS backend out of memory")) == "oom"
    assert classify_error(RuntimeError(
        "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")) == "oom"
    assert classify_error(KeyboardInterrupt()) == "interrupted"
    assert classify_error(ValueError("bad")) == "exception"
    assert classify_error(RuntimeError("shape mismatch")) == "exception"
    for kind in ("oom", "interrupted", "exception"):
        assert kind in ERROR_KINDS


def test_results_module_is_torch_free():
    code = ("import sys, timing_trainer.results as r; r.TimingResults().to_dict(); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
