"""Energy through TimingTrainer (CPU, tiny BERT) with stand-in counters: joules per timed
iteration and per evaluation, read only at the clock's boundaries; a plain run's null energy
with its reason; W&B offline's summary and history."""

from __future__ import annotations

import glob
import json
import os
import sys

import pytest
import torch
from helpers.energy_standins import FakeGpu, LiveRapl, fake_nvml, use_gpu_zero
from helpers.tiny import accuracy, tiny_bert, token_dataset
from helpers.wandb_file import read_finished_run

from timing_trainer import TimingTrainer, TimingTrainingArguments
from timing_trainer.energy import rapl
from timing_trainer.results.schema import (
    FINETUNING_ENERGY_KEYS,
    INFERENCE_ENERGY_KEYS,
    RESULTS_FILENAME,
    validate_results,
)

torch.set_num_threads(1)
GPU_WATTS, CPU_WATTS = 250.0, 40.0
# The read window encloses the clock's interval; it is longer by the reads themselves only.
# The slack allows for the process being preempted between a clock read and an energy read on
# this shared machine (no speed is asserted: both figures come from the same interval).
SLACK_S = 0.05


def _trainer(tmp_path, iters=3, **kwargs):
    options = dict(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8,
                   per_device_eval_batch_size=4, num_train_epochs=1, finetuning_iters=iters,
                   timing_warmup_steps=1, report_to="none", use_cpu=True, disable_tqdm=True,
                   save_strategy="no", cv_warning_threshold=10.0)
    args = TimingTrainingArguments(**{**options, **kwargs})
    return TimingTrainer(model=tiny_bert(), args=args, train_dataset=token_dataset(24),
                         eval_dataset=token_dataset(12, seed=1), compute_metrics=accuracy)


def _file(tmp_path):
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    validate_results(data)
    return data


@pytest.fixture
def fake_gpu(monkeypatch, tmp_path):
    """GPU 0 of 250 W (a fake NVML), no RAPL."""
    module = fake_nvml([FakeGpu("GPU-fake-0", watts=GPU_WATTS)])
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.setenv(rapl.ROOT_ENV, str(tmp_path / "no-powercap"))
    use_gpu_zero(monkeypatch)
    return module


def _read_windows(module):
    """Pairs of (start, stop) read times after the meter's opening check."""
    times = [t for _, t in module.reads[1:]]
    return list(zip(times[::2], times[1::2]))


def test_joules_per_iteration_and_per_evaluation_with_a_fake_gpu(tmp_path, fake_gpu):
    trainer = _trainer(tmp_path)
    metrics = trainer.train().metrics
    assert len(fake_gpu.reads) == 1 + 2 * 3  # the opening check, then two per iteration only
    data = trainer.timing_results.to_dict()
    times, joules = data["finetuning_time_list"], data["finetuning_energy_j_list"]
    assert data["energy_source"] == "nvml" and len(joules) == len(times) == 3
    for (begin, end), seconds, energy in zip(_read_windows(fake_gpu), times, joules):
        assert energy == pytest.approx(GPU_WATTS * (end - begin), abs=0.002)  # mJ, J
        assert end - begin >= seconds  # read before the clock starts, after it stops
        assert energy == pytest.approx(GPU_WATTS * seconds, abs=GPU_WATTS * SLACK_S)
    fastest = times.index(min(times))
    assert data["finetuning_energy_j"] == joules[fastest]
    assert data["finetuning_avg_power_w"] == joules[fastest] / times[fastest]
    assert data["finetuning_avg_power_w"] >= GPU_WATTS * (1 - 1e-3)
    assert {k: metrics[k] for k in FINETUNING_ENERGY_KEYS} == {
        k: data[k] for k in FINETUNING_ENERGY_KEYS}
    assert data["unavailable"]["energy_source.rapl"].startswith("CPU package (RAPL) not counted")

    evaluation = trainer.evaluate()
    assert len(fake_gpu.reads) == 1 + 2 * 3 + 2
    (begin, end), = _read_windows(fake_gpu)[-1:]
    data = _file(tmp_path)
    assert data["schema_version"] == 3 and data["status"] == "finished"  # evaluated after train()
    assert evaluation["eval_inference_energy_j"] == data["inference_energy_j"]
    assert data["inference_energy_j"] == pytest.approx(GPU_WATTS * (end - begin), abs=0.002)
    assert end - begin >= data["inference_total_time"]
    assert evaluation["eval_inference_energy_per_sample_j"] == pytest.approx(
        data["inference_energy_j"] / 12)
    assert data["evaluations"][0]["inference_energy_j"] == data["inference_energy_j"]
    assert not any(k in data["unavailable"] for k in (*FINETUNING_ENERGY_KEYS,
                                                      *INFERENCE_ENERGY_KEYS, "energy_source"))


def test_fake_gpu_and_rapl_with_a_wrap_are_summed(tmp_path, fake_gpu, monkeypatch):
    # The counter starts 1 J before the end of its range: it wraps during the run.
    with LiveRapl(tmp_path / "powercap", CPU_WATTS, range_uj=100_000_000,
                  start_uj=99_000_000) as live:
        monkeypatch.setenv(rapl.ROOT_ENV, str(live.root))
        trainer = _trainer(tmp_path, iters=2)
        trainer.train()
        trainer.evaluate()
    data = trainer.timing_results.to_dict()
    assert data["energy_source"] == "nvml+rapl"
    watts = GPU_WATTS + CPU_WATTS
    for seconds, energy in zip(data["finetuning_time_list"], data["finetuning_energy_j_list"]):
        assert energy == pytest.approx(watts * seconds, abs=watts * SLACK_S)
    assert data["inference_energy_j"] == pytest.approx(watts * data["inference_total_time"],
                                                       abs=watts * SLACK_S)
    assert not any(k.startswith("energy") for k in data["unavailable"])


def test_a_plain_cpu_run_has_null_energy_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.delenv(rapl.ROOT_ENV, raising=False)
    try:
        rapl.open_rapl()
        pytest.skip("this machine has readable RAPL counters")
    except rapl.EnergyUnavailable as exc:
        rapl_reason = str(exc)
    trainer = _trainer(tmp_path, iters=2)
    metrics = trainer.train().metrics
    evaluation = trainer.evaluate()
    trainer.finish_timing_results()
    data = _file(tmp_path)
    assert data["status"] == "finished" and data["energy_source"] is None
    reason = ("no energy counter readable: GPU board (NVML): no GPU in use (device cpu); "
              f"CPU package (RAPL): {rapl_reason}")
    for key in (*FINETUNING_ENERGY_KEYS, *INFERENCE_ENERGY_KEYS, "energy_source"):
        assert data[key] is None and data["unavailable"][key] == reason, key
    assert data["evaluations"][0]["unavailable"]["inference_energy_j"] == reason
    assert all(metrics[k] is None for k in FINETUNING_ENERGY_KEYS)
    assert evaluation["eval_inference_energy_j"] is None
    assert not any("energy" in key for key in data["eval_metrics"])  # no figure as a metric
    assert data["finetuning_time"] > 0  # the timings are all there


def test_no_energy_read_for_an_evaluation_inside_train(tmp_path, fake_gpu):
    trainer = _trainer(tmp_path, iters=1, eval_strategy="epoch", eval_and_save_while_timing=True)
    trainer.train()
    assert len(fake_gpu.reads) == 1 + 2  # the evaluation inside the timed loop read nothing
    data = trainer.timing_results.to_dict()
    entry = data["evaluations"][0]
    assert entry["inference_energy_j"] is None
    assert "inside train()" in entry["unavailable"]["inference_energy_j"]
    assert data["finetuning_energy_j"] is not None


def test_wandb_summary_and_history_carry_energy(tmp_path, fake_gpu):
    wandb = pytest.importorskip("wandb")
    trainer = _trainer(tmp_path, iters=2, report_to=["wandb"], run_name="energy-test")
    trainer.train()
    trainer.evaluate()
    trainer.finish_timing_results()
    run_dir = os.path.dirname(wandb.run.dir)
    results = trainer.timing_results.to_dict()
    wandb.finish()
    run = read_finished_run(glob.glob(os.path.join(run_dir, "*.wandb"))[0])
    for key in ("finetuning_energy_j", "finetuning_avg_power_w", "inference_energy_j",
                "inference_energy_per_sample_j", "energy_source"):
        assert run["summary"][key] == results[key], key
    assert run["summary"]["finetuning_energy_j_list"] == results["finetuning_energy_j_list"]
    rows = [row for row in run["history"] if "finetuning_iteration" in row]
    assert [row["finetuning_iteration_energy_j"] for row in rows] == results[
        "finetuning_energy_j_list"]


@pytest.mark.gpu
def test_cuda_run_reads_the_real_counter_or_says_why(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    trainer = _trainer(tmp_path, iters=2, use_cpu=False)
    trainer.train()
    trainer.evaluate()
    data = _file(tmp_path)
    try:
        import pynvml  # noqa: F401
    except ImportError:
        assert data["energy_source"] in (None, "rapl")
        reason = data["unavailable"].get("energy_source.nvml") or data["unavailable"][
            "energy_source"]
        assert "nvidia-ml-py not installed" in reason
        return
    gpu = trainer.energy_meter.counter("nvml")
    if gpu is None:  # e.g. a MIG instance or a card without the counter: the reason says so
        assert "NVML" in str(data["unavailable"])
        return
    assert data["energy_source"].startswith("nvml")
    limit = gpu.power_limits_w()["enforced_w"] or 1000.0
    for seconds, joules in zip(data["finetuning_time_list"], data["finetuning_energy_j_list"]):
        assert 0 < joules / seconds < 2 * limit + 500  # a board's power, CPU packages included
    assert data["inference_energy_j"] > 0
