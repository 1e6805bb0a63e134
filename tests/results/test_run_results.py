"""TimingResults: raw values in, the schema's figures out; usable without torch or a trainer.
RunResults: the results file's round trip (write then read gives the same; bad files refused)."""

import json
import subprocess
import sys

import pytest

from timing_trainer.errors import ResultsValidationError, ResultsWriteError
from timing_trainer.results.file import RunResults
from timing_trainer.results.run_results import (
    EvaluationRecord,
    TimingResults,
    classify_error,
    is_metric_key,
)
from timing_trainer.results.schema import ERROR_KINDS, validate_results
from timing_trainer.runtime.atomic import atomic_write_json


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
    results = _results_with_evaluations()
    assert results.summary()["status"] == "running"
    assert results.mark_finished()
    summary = results.summary()
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
    code = ("import sys, timing_trainer.results.run_results as r; r.TimingResults().to_dict(); "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_status_runs_until_finished_and_failed_stays_failed():
    results = TimingResults()
    assert results.to_dict()["status"] == "running"
    assert results.mark_finished() and results.status == "finished"
    failed = TimingResults()
    failed.mark_failed("interrupted", "terminated by SIGTERM")
    assert not failed.mark_finished()
    assert failed.to_dict()["status"] == "failed"
    assert failed.to_dict()["error"]["kind"] == "interrupted"


def test_forward_and_real_token_figures():
    data = _results_with_evaluations().to_dict()
    assert data["forward_time"] is None  # no forward times were recorded in this set ...
    assert "forward" in data["unavailable"]["forward_time"]  # ... and the file says why
    record = EvaluationRecord(name="eval", total_time=2.0, batch_times=[0.3, 0.2, 0.25, 0.1],
                              forward_times=[0.2, 0.15, 0.18, 0.05], batch_sizes=[4, 4, 4, 2],
                              batch_size=4, warmup_batches=1, n_samples=14, n_tokens=140,
                              n_real_tokens=100)
    figures = record.to_dict()
    assert figures["forward_time"] == 0.15  # warm-up batch and partial batch left out
    assert figures["forward_time_median"] == pytest.approx(0.165)
    assert figures["forward_time_list"] == [0.2, 0.15, 0.18, 0.05]
    assert figures["inference_real_tokens_per_second"] == 50.0
    assert figures["inference_tokens_per_second"] == 70.0


def test_every_null_figure_has_a_reason(tmp_path):
    results = TimingResults(environment={"device": "cpu", "precision": "fp32"})
    results.finetuning_times = [1.0, 1.2]
    results.train_samples, results.train_tokens, results.train_steps = 16, 256, 2
    results.train_real_tokens = 200
    assert "has not run (yet)" in results.to_dict()["unavailable"]["inference_time"]
    results.mark_finished()
    data = results.to_dict()
    reasons = data["unavailable"]
    assert reasons["mfu_train"] == "peak TFLOP/s unknown for this CPU (set peak_tflops)"
    assert reasons["peak_memory_train_bytes"].startswith("peak memory is measured on CUDA")
    assert reasons["inference_time"] == "no evaluation in this run (evaluate() was not called)"
    assert data["train_real_tokens_per_second"] == pytest.approx(200 / 1.0)
    for key in data["unavailable"]:
        assert data.get(key.split(".")[0]) is None or key.startswith("eval_metrics.")
    for key in ("finetuning_time", "train_samples_per_second", "train_tokens_per_second"):
        assert data[key] is not None and key not in reasons
    validate_results(data)


def test_a_null_figure_without_a_reason_does_not_validate():
    data = TimingResults(environment={
        "device": "cpu", "torch_version": "x", "transformers_version": "y",
        "timing_trainer_version": "z", "python_version": "3"}).to_dict()
    validate_results(data)
    del data["unavailable"]["mfu_train"]
    with pytest.raises(ResultsValidationError, match="without a reason.*mfu_train"):
        validate_results(data)
    del data["unavailable"]  # a version 1 file: no reasons recorded, still readable
    validate_results(data)


def test_reasons_on_a_gpu_and_for_a_failed_run():
    results = TimingResults(environment={"device": "cuda", "gpu_name": "Some GPU X9",
                                         "precision": "bf16"})
    results.mark_failed("oom", "CUDA out of memory")
    reasons = results.to_dict()["unavailable"]
    assert reasons["peak_tflops"] == ("no datasheet peak TFLOP/s for Some GPU X9 at bf16 "
                                      "(set peak_tflops)")
    assert reasons["finetuning_time"] == "the run failed before fine-tuning finished"


def test_nan_metric_and_unknown_setup_part_have_reasons():
    results = TimingResults()
    results.add_evaluation(EvaluationRecord(name="eval", total_time=0.1, batch_times=[0.1],
                                            batch_sizes=[2], batch_size=2, n_samples=2,
                                            metrics={"eval_matthews_correlation": float("nan")}))
    results.notes["setup_time_parts.startup"] = "process start time unknown on this system"
    reasons = results.to_dict()["unavailable"]
    assert reasons["eval_metrics.eval_matthews_correlation"].startswith("the metric was not")
    assert reasons["setup_time_parts.startup"] == "process start time unknown on this system"
    results.add_setup_time("startup", 1.0)
    assert "setup_time_parts.startup" not in results.to_dict()["unavailable"]


def test_describe_groups_figures_by_reason():
    from timing_trainer.results.reasons import describe

    line = describe({"a": "r1", "b": "r1", "c": "r2", "d": "r1", "e": "r1", "f": "r1"}, shown=2)
    assert line == "r1: a, b and 3 more; r2: c"


def test_classify_a_script_exit():
    assert classify_error(SystemExit(3)) == "nonzero_exit"


# --- the results file's round trip (RunResults, timing_trainer.results.file) ----------------------

def test_written_results_read_back_equal(tmp_path):
    results = _results_with_evaluations()
    results.mark_finished()
    written = results.to_results()
    path = written.write(tmp_path / "timing_results.json")
    assert RunResults.read(path) == written
    assert RunResults.read(str(path)).data == results.to_dict()
    assert RunResults.from_json(path) == written  # a path object is read from its file
    assert RunResults.from_json(written.to_json()) == written
    assert RunResults.read(path).status == "finished"


def test_saved_file_is_the_text_the_writer_always_wrote(tmp_path):
    results = _results_with_evaluations()
    results.mark_failed("oom", "CUDA out of memory")
    saved = results.save(tmp_path / "new.json")
    before = atomic_write_json(tmp_path / "old.json", results.to_dict())
    assert saved.read_text() == before.read_text() == results.to_results().to_json()


def test_a_file_that_fails_the_schema_is_refused_on_read_with_the_reason(tmp_path):
    data = _results_with_evaluations().to_dict()
    del data["unavailable"]["mfu_train"]
    path = tmp_path / "timing_results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsValidationError, match="without a reason.*mfu_train"):
        RunResults.read(path)
    with pytest.raises(ResultsValidationError, match="without a reason.*mfu_train"):
        RunResults.from_json(path.read_text())
    assert RunResults.read(path, check="sections").data == data  # what the analysis asks


@pytest.mark.parametrize(("text", "reason"), [
    ("{not json", "Expecting property name"),
    ("[1, 2]", "a JSON list, not an object"),
    ('{"status": "weird"}', "timing results invalid"),
])
def test_content_that_is_not_results_is_refused_with_the_reason(tmp_path, text, reason):
    path = tmp_path / "timing_results.json"
    path.write_text(text)
    with pytest.raises(ResultsValidationError, match=reason):
        RunResults.read(path)
    assert issubclass(ResultsValidationError, ValueError)  # readers that skip catch ValueError


def test_the_lighter_checks_take_what_their_readers_take(tmp_path):
    partial = {"status": "finished", "error": None, "eval_metrics": {"score": 0.5}}
    assert RunResults.from_json(json.dumps(partial), check="object").data == partial
    assert RunResults.from_json(json.dumps(partial), check="sections").data == partial
    with pytest.raises(ResultsValidationError):
        RunResults.from_json(json.dumps(partial))
    wrong_shape = {**partial, "config": "bert"}
    assert RunResults.from_json(json.dumps(wrong_shape), check="object").data == wrong_shape
    with pytest.raises(ResultsValidationError, match="`config` is a str, not an object"):
        RunResults.from_json(json.dumps(wrong_shape), check="sections")
    with pytest.raises(ResultsValidationError, match="`status` is a int, not text"):
        RunResults.from_json('{"status": 1}', check="sections")
    with pytest.raises(ValueError, match="unknown check"):
        RunResults.from_json("{}", check="loose")


def test_unreadable_files_and_bytes_say_why(tmp_path):
    with pytest.raises(OSError):
        RunResults.read(tmp_path / "missing.json", check="object")
    path = tmp_path / "timing_results.json"
    path.write_bytes(b'{"status": "\xff"}')
    with pytest.raises(ResultsValidationError, match="utf-8"):
        RunResults.read(path, check="object")


def test_invalid_results_are_never_written(tmp_path):
    data = _results_with_evaluations().to_dict()
    data["status"] = "weird"
    with pytest.raises(ResultsValidationError):
        RunResults(data).write(tmp_path / "x.json")
    with pytest.raises(ResultsValidationError):
        RunResults(data).to_json()
    assert not (tmp_path / "x.json").exists()
