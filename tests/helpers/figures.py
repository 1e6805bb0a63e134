"""Checks shared by the tests of whole runs: every figure present, every null one explained."""

from __future__ import annotations

import os

from timing_trainer.results.reasons import NOT_MEASURED
from timing_trainer.results.schema import FINETUNING_ENERGY_KEYS, INFERENCE_ENERGY_KEYS

_NOT_FIGURES = ("error", "config", "environment")  # null there is a fact, not a missing figure


def nulls_without_reason(data: dict) -> list[str]:
    """Every null value of a results file (top level, evaluations, metrics) that `unavailable`
    does not explain, or explains only with the last-resort "not measured"."""
    found = []

    def check(where: str, value, reasons: dict, key: str) -> None:
        if value is None and reasons.get(key, NOT_MEASURED) == NOT_MEASURED:
            found.append(where)

    reasons = data["unavailable"]
    for key, value in data.items():
        if key not in _NOT_FIGURES:
            check(key, value, reasons, key)
    for key, value in data["eval_metrics"].items():
        check(f"eval_metrics.{key}", value, reasons, f"eval_metrics.{key}")
    for entry in data["evaluations"]:
        for key, value in entry.items():
            check(f"evaluations.{entry['name']}.{key}", value, entry.get("unavailable", {}), key)
    return found


ENERGY_FIGURES = {*FINETUNING_ENERGY_KEYS, *INFERENCE_ENERGY_KEYS, "energy_source"}


def cpu_unavailable(peak_known: bool, energy: bool = False) -> set[str]:
    """The figures a CPU run cannot have: MFU without a peak, energy without a readable counter
    (no RAPL: this project's machines), and peak memory where no /proc tells the peak RSS."""
    expected = {"wandb_run_id"}
    if not os.path.exists("/proc/self/status"):
        expected |= {"peak_memory_train_bytes", "peak_memory_eval_bytes"}
    if not energy:
        expected |= ENERGY_FIGURES
    return expected if peak_known else expected | {"peak_tflops", "mfu_train", "mfu_eval"}


def assert_every_figure(data: dict, peak_known: bool = False, dynamic: bool = True) -> None:
    """A trained and evaluated CPU run: every figure there but what a CPU cannot measure."""
    assert nulls_without_reason(data) == []
    missing = {k for k in data["unavailable"]
               if not k.startswith(("setup_time_parts.", "energy_source."))}
    energy = data["energy_source"] is not None
    assert missing == cpu_unavailable(peak_known, energy), data["unavailable"]
    if not energy:
        assert data["unavailable"]["finetuning_energy_j"].startswith("no energy counter readable")
    for key in ("inference_time", "inference_time_list", "inference_samples_per_second",
                "inference_tokens_per_second", "inference_real_tokens_per_second",
                "forward_time", "forward_time_list", "flops_per_token", "train_tokens",
                "train_real_tokens", "train_samples_per_second"):
        assert data[key], key
    assert 0 < data["train_real_tokens"] <= data["train_tokens"]
    for entry in data["evaluations"]:
        assert entry["inference_batch_sizes"] and 0 not in entry["inference_batch_sizes"]
        assert 0 < entry["n_real_tokens"] <= entry["n_tokens"]
        if dynamic:
            assert entry["n_real_tokens"] < entry["n_tokens"]  # padding was counted apart
