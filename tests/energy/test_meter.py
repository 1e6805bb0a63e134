"""Energy counters with stand-ins: NVML device choice and reasons, RAPL packages and wrap-around,
the meter's windows, the stopwatch's read points, the figures and their reasons."""

from __future__ import annotations

import math
import sys

import pytest
from helpers.energy_standins import (
    NOT_FOUND,
    FakeGpu,
    fake_nvml,
    set_counter,
    write_rapl_tree,
)

from timing_trainer.clocks.stopwatch import ManualClock, Stopwatch
from timing_trainer.energy import EnergyMeter, meter_for, nvml, rapl
from timing_trainer.energy.meter import OTHER_RANK, EnergyWindow, gpu_ordinals, summed_over_ranks
from timing_trainer.errors import EnergyUnavailable, ResultsValidationError
from timing_trainer.results.energy import finetuning_energy_figures, inference_energy_figures
from timing_trainer.results.reasons import unavailable_reasons
from timing_trainer.results.run_results import EvaluationRecord, TimingResults, is_metric_key
from timing_trainer.results.schema import (
    EVALUATION_FIGURES,
    FIGURES,
    FINETUNING_ENERGY_KEYS,
    INFERENCE_ENERGY_KEYS,
    SCHEMA_VERSION,
    validate_results,
)
from timing_trainer.results.summary_line import evaluate_line, train_line

GPUS = [FakeGpu("GPU-aaaa1111-0000", watts=100.0), FakeGpu("GPU-bbbb2222-0000", watts=300.0)]


@pytest.fixture
def fake(monkeypatch):
    module = fake_nvml(GPUS, mig_uuids=("MIG-cccc3333-0000",))
    monkeypatch.setitem(sys.modules, "pynvml", module)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return module


# --- NVML: which GPUs, and why not -------------------------------------------------------------
A, B = GPUS[0].uuid, GPUS[1].uuid


@pytest.mark.parametrize("visible,ordinals,expected", [
    (None, [1], [B]),  # unset: the ordinal is NVML's index
    ("1,0", [0], [B]),
    (" 1 , 0", [0, 1], [B, A]),
    ("GPU-bbbb2222-0000", [0], [B]),
    ("GPU-bbbb", [0], [B]),  # CUDA accepts a unique UUID prefix
    ("GPU-aaaa1111-0000,GPU-bbbb2222-0000", [1], [B]),
])
def test_cuda_visible_devices_picks_the_nvml_device(fake, visible, ordinals, expected):
    env = {} if visible is None else {"CUDA_VISIBLE_DEVICES": visible}
    gpus = nvml.open_gpus(ordinals, env)
    assert [gpu.uuid for gpu in gpus.handles] == expected
    assert gpus.names[0] == f"cuda:{ordinals[0]} (NVIDIA Fake 80GB)"
    start = gpus.read()
    assert len(start) == len(expected) and all(isinstance(v, int) for v in start)


@pytest.mark.parametrize("visible,reason", [
    ("MIG-cccc3333-0000", "is a MIG instance"),
    ("GPU-ffff", "no NVML device has the UUID GPU-ffff"),
    ("GPU-", "more than one NVML device"),
    ("7", "NVML has no GPU 7"),
    ("0", "cuda:1 has no entry in CUDA_VISIBLE_DEVICES='0'"),
    ("abc", "neither an index nor a GPU UUID"),
])
def test_devices_nvml_cannot_attribute_are_refused_with_the_reason(fake, visible, reason):
    ordinal = 1 if reason.startswith("cuda:1") else 0
    with pytest.raises(EnergyUnavailable, match=reason):
        nvml.open_gpus([ordinal], {"CUDA_VISIBLE_DEVICES": visible})


def test_a_torch_uuid_of_a_mig_instance_is_refused(fake, monkeypatch):
    monkeypatch.setattr(nvml, "torch_uuid", lambda ordinal: "GPU-cccc3333-0000")
    with pytest.raises(EnergyUnavailable, match="MIG instance"):
        nvml.open_gpus([0], {})


def test_torch_uuid_wins_over_the_variable(fake, monkeypatch):
    monkeypatch.setattr(nvml, "torch_uuid", lambda ordinal: "GPU-aaaa1111-0000")
    gpus = nvml.open_gpus([0], {"CUDA_VISIBLE_DEVICES": "1"})
    assert gpus.handles[0].uuid == "GPU-aaaa1111-0000"


def test_a_card_without_the_counter_is_null_not_estimated(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml([FakeGpu("GPU-old", supported=False,
                                                                   name="Tesla P100")]))
    with pytest.raises(EnergyUnavailable, match=r"Tesla P100.*no NVML total-energy counter "
                                                r"\(Volta or newer needed\)"):
        nvml.open_gpus([0], {})


def test_nvidia_ml_py_absent_or_without_driver(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    meter = meter_for("cuda:0", env={rapl.ROOT_ENV: "/nonexistent"})
    assert meter.source is None
    assert "GPU board (NVML): nvidia-ml-py not installed (pip install nvidia-ml-py)" in meter.reason
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml([], init_error=NOT_FOUND))
    meter = meter_for("cuda:0", env={rapl.ROOT_ENV: "/nonexistent"})
    assert "NVML could not start (Not Found)" in meter.reason


def test_gpu_ordinals_follow_the_device():
    assert gpu_ordinals("cpu") == [] and gpu_ordinals(None) == [] and gpu_ordinals("mps") == []
    assert gpu_ordinals("cuda:3") == [3]
    assert gpu_ordinals("cuda:0", n_gpu=2) == [0, 1]  # DataParallel: every visible GPU


def test_power_limits(fake):
    gpus = nvml.open_gpus([0, 1], {})
    assert gpus.power_limits_w() == {"enforced_w": 1400.0, "default_w": 1400.0}


# --- RAPL: packages only, wrap-around, limits ---------------------------------------------------
def test_rapl_reads_package_domains_only(tmp_path):
    root = write_rapl_tree(tmp_path / "powercap", packages=2)
    cpu = rapl.open_rapl({rapl.ROOT_ENV: str(root)})
    assert [f.split("/")[-2] for f in cpu.files] == ["intel-rapl:0", "intel-rapl:1"]
    start = cpu.read()
    set_counter(root, 0, 5_000_000)
    set_counter(root, 1, 2_500_000)
    assert cpu.joules(start, cpu.read(), 1.0) == pytest.approx(7.5)


def test_rapl_wrap_around(tmp_path):
    root = write_rapl_tree(tmp_path / "powercap", range_uj=1_000_000_000, limit_w=100.0)
    cpu = rapl.open_rapl({rapl.ROOT_ENV: str(root)})
    set_counter(root, 0, 999_000_000)  # 1 J before the end of the range
    start = cpu.read()
    set_counter(root, 0, 4_000_000)  # wrapped: 1 J + 4 J
    assert cpu.joules(start, cpu.read(), 1.0) == pytest.approx(5.0)
    # 1000 J of range at up to 100 W: a 10 s window may hold two wraps, so no figure
    with pytest.raises(EnergyUnavailable, match="more than one wrap-around"):
        cpu.joules(start, cpu.read(), 10.0)


def test_rapl_without_a_stated_limit_assumes_500_w(tmp_path):
    root = write_rapl_tree(tmp_path / "powercap", range_uj=1_000_000_000, limit_w=None)
    cpu = rapl.open_rapl({rapl.ROOT_ENV: str(root)})
    assert cpu.bounds_w == (rapl.DEFAULT_POWER_BOUND_W,)


def test_rapl_reasons(tmp_path, monkeypatch):
    with pytest.raises(EnergyUnavailable, match="no RAPL counters"):
        rapl.open_rapl({rapl.ROOT_ENV: str(tmp_path / "missing")})
    (tmp_path / "empty").mkdir()
    with pytest.raises(EnergyUnavailable, match="no RAPL package domain"):
        rapl.open_rapl({rapl.ROOT_ENV: str(tmp_path / "empty")})
    root = write_rapl_tree(tmp_path / "powercap")

    def denied(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(rapl, "_read_int", denied)
    with pytest.raises(EnergyUnavailable, match="not readable by this user"):
        rapl.open_rapl({rapl.ROOT_ENV: str(root)})


# --- the meter ----------------------------------------------------------------------------------
def test_meter_sums_sources_and_names_the_missing_one(fake, tmp_path):
    root = write_rapl_tree(tmp_path / "powercap")
    meter = meter_for("cuda:0", env={rapl.ROOT_ENV: str(root)})
    assert meter.source == "nvml+rapl" and meter.reason is None and meter.notes() == {}
    start = meter.read()
    set_counter(root, 0, 3_000_000)
    stop = meter.read()
    gpu_joules = (stop[1][0][0] - start[1][0][0]) / 1000
    assert meter.window(start, stop).joules == pytest.approx(gpu_joules + 3.0)
    only_gpu = meter_for("cuda:0", env={rapl.ROOT_ENV: str(tmp_path / "none")})
    assert only_gpu.source == "nvml"
    assert only_gpu.notes() == {"energy_source.rapl": "CPU package (RAPL) not counted: no RAPL "
                                f"counters ({tmp_path / 'none'} not found)"}
    second_process = meter_for("cuda:0", reads_host=False, env={rapl.ROOT_ENV: str(root)})
    assert second_process.source == "nvml" and second_process.notes() == {}


def test_a_failed_read_is_a_null_window_with_the_reason(fake):
    meter = meter_for("cuda:0", env={rapl.ROOT_ENV: "/nonexistent"})
    start = meter.read()
    GPUS[0].supported = False
    try:
        stop = meter.read()  # never raises inside the clock's boundary
    finally:
        GPUS[0].supported = True
    window = meter.window(start, stop)
    assert window.joules is None and "GPU board (NVML) read failed (Not Supported)" in window.reason
    assert meter.window(None, stop).reason == "the energy counters were not read at both ends"


def test_nothing_readable_is_one_reason_and_no_reads():
    meter = EnergyMeter((), {"nvml": "no GPU in use (device cpu)", "rapl": "no RAPL counters"})
    assert meter.read() is None
    assert meter.window(None, None) == EnergyWindow(None, meter.reason)
    assert meter.reason == ("no energy counter readable: GPU board (NVML): no GPU in use (device "
                            "cpu); CPU package (RAPL): no RAPL counters")


def test_ranks_are_summed_and_a_missing_rank_nulls_the_sum():
    other_rank = 40.0
    assert summed_over_ranks(EnergyWindow(2.0), lambda v: v + other_rank).joules == 42.0
    assert summed_over_ranks(EnergyWindow(2.0), lambda v: v + math.nan).reason == OTHER_RANK
    mine = summed_over_ranks(EnergyWindow(None, "mine failed"), lambda v: v + other_rank)
    assert mine == EnergyWindow(None, "mine failed")


# --- the stopwatch's read points ----------------------------------------------------------------
def test_reads_sit_outside_the_clock_interval():
    events, clock = [], ManualClock()

    def sync():
        events.append("sync")

    def barrier():
        events.append("barrier")

    def probe():
        events.append(("probe", clock()))
        clock.advance(0.5)  # an expensive read: must not be on the clock
        return len(events)

    def read_clock():
        events.append("clock")
        return clock()

    watch = Stopwatch(sync=sync, clock=read_clock, barrier=barrier, probe=probe)
    watch.start()
    clock.advance(2.0)
    assert watch.stop() == 2.0  # the reads' 2 x 0.5 s are outside
    assert events == ["barrier", "sync", ("probe", 0.0), "clock",
                      "sync", "barrier", "clock", ("probe", 2.5)]
    assert watch.probe_at_start == 3 and watch.probe_at_stop == 8
    watch.reset()
    assert watch.probe_at_start is None and watch.probe_at_stop is None


# --- figures, schema and reasons ----------------------------------------------------------------
def test_finetuning_figures_take_the_fastest_iteration():
    figures = finetuning_energy_figures([2.0, 1.0, 1.5], [600.0, 310.0, 450.0])
    assert figures == {"finetuning_energy_j": 310.0, "finetuning_energy_j_list": [600.0, 310.0,
                                                                                  450.0],
                       "finetuning_avg_power_w": 310.0}
    assert set(finetuning_energy_figures([1.0, 2.0], [3.0, None]).values()) == {None}
    assert set(finetuning_energy_figures([], []).values()) == {None}
    assert inference_energy_figures(8.0, 4) == {"inference_energy_j": 8.0,
                                                "inference_energy_per_sample_j": 2.0}
    assert inference_energy_figures(8.0, None)["inference_energy_per_sample_j"] is None


def test_schema_declares_the_energy_figures_once():
    assert SCHEMA_VERSION == 3
    for key in (*FINETUNING_ENERGY_KEYS, *INFERENCE_ENERGY_KEYS, "energy_source"):
        assert key in FIGURES, key  # each null one needs its reason
    assert set(INFERENCE_ENERGY_KEYS) <= set(EVALUATION_FIGURES)
    # evaluate()'s `eval_inference_energy_j` is a figure of ours, not a task metric
    assert not is_metric_key("eval_inference_energy_j")
    assert not is_metric_key("eval_mm_inference_energy_per_sample_j")
    assert is_metric_key("eval_accuracy")


def test_summary_lines_name_the_joules():
    data = {"finetuning_time": 1.0, "finetuning_time_list": [1.0], "finetuning_energy_j": 250.0,
            "energy_source": "nvml+rapl"}
    assert "250.0 J (nvml+rapl)" in train_line(data, "out/timing_results.json")
    entry = {"name": "eval", "inference_time": 0.01, "inference_energy_j": 3.25}
    assert "3.25 J" in evaluate_line(entry, {}, None)
    assert " J" not in train_line({**data, "finetuning_energy_j": None}, None)


def _results_with_energy(energies, source="nvml") -> TimingResults:
    results = TimingResults(environment={"device": "cuda"})
    results.energy_source = source
    results.finetuning_times = [1.2, 1.0]
    results.finetuning_energies = energies
    results.add_evaluation(EvaluationRecord(name="eval", total_time=0.5, batch_times=[0.1],
                                            batch_sizes=[8], batch_size=8, n_samples=8,
                                            energy_j=40.0))
    results.mark_finished()
    return results


def test_results_file_carries_energy_and_validates():
    data = _results_with_energy([360.0, 300.0]).to_dict()
    validate_results(data)
    assert data["finetuning_energy_j"] == 300.0 and data["finetuning_avg_power_w"] == 300.0
    assert data["inference_energy_j"] == 40.0 and data["inference_energy_per_sample_j"] == 5.0
    assert data["evaluations"][0]["inference_energy_j"] == 40.0
    for key in (*FINETUNING_ENERGY_KEYS, *INFERENCE_ENERGY_KEYS, "energy_source"):
        assert key not in data["unavailable"]
    data["energy_source"] = "gpu"
    with pytest.raises(ResultsValidationError, match="energy_source"):
        validate_results(data)


def test_null_energy_has_its_reason():
    results = _results_with_energy([360.0, None])
    results.notes["finetuning_energy"] = "iteration 2: GPU board (NVML) read failed (boom)"
    data = results.to_dict()
    validate_results(data)
    for key in FINETUNING_ENERGY_KEYS:
        assert data["unavailable"][key] == "iteration 2: GPU board (NVML) read failed (boom)"
    assert data["inference_energy_j"] == 40.0  # the evaluation's window was fine
    results.notes["energy_source.rapl"] = "CPU package (RAPL) not counted: no RAPL counters"
    assert unavailable_reasons(results.to_dict(), results.notes, {})["energy_source.rapl"] == (
        "CPU package (RAPL) not counted: no RAPL counters")


def test_energy_source_of_a_run_that_failed_before_a_timed_loop():
    results = TimingResults()
    results.mark_failed("oom", "loading the model")
    data = results.to_dict()
    validate_results(data)
    assert data["unavailable"]["energy_source"] == "the run failed before a timed loop finished"
    assert data["unavailable"]["finetuning_energy_j"] == "the run failed before fine-tuning finished"
