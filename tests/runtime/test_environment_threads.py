"""The CPU's threads and peak memory in the environment: torch's thread counts and the variables
that set them (unset recorded as null), the CPU counts, and the process's peak resident set per
timed region (Linux's VmHWM, reset through /proc/self/clear_refs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from timing_trainer.clocks.stopwatch import peak_memory, reset_peak_memory
from timing_trainer.runtime import environment, processes
from timing_trainer.runtime.environment import THREAD_VARIABLES, collect_environment

HAS_PROC = os.path.exists("/proc/self/status")
PROBE = ("import json\nfrom timing_trainer.runtime.environment import collect_environment\n"
         "print(json.dumps(collect_environment('fp32')))\n")


def _environment_in_child(**variables: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=120, env={**env, **variables})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("threads", [1, 2])
def test_the_thread_count_and_the_variable_that_set_it_are_recorded(threads):
    env = _environment_in_child(OMP_NUM_THREADS=str(threads))
    assert env["torch_num_threads"] == threads
    assert isinstance(env["torch_num_interop_threads"], int) and env["torch_num_interop_threads"] >= 1
    assert env["thread_variables"]["OMP_NUM_THREADS"] == str(threads)
    # every other variable is there, and null: unset, not left out
    assert env["thread_variables"] == {name: str(threads) if name == "OMP_NUM_THREADS" else None
                                       for name in THREAD_VARIABLES}


def test_the_cpu_counts_are_recorded():
    env = collect_environment("fp32")
    assert env["cpu_count"] == os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert env["cpu_affinity_count"] == len(os.sched_getaffinity(0))
        assert 1 <= env["cpu_affinity_count"] <= env["cpu_count"]
    else:
        assert env["cpu_affinity_count"] is None
    assert env["torch_num_threads"] == torch.get_num_threads()


@pytest.mark.skipif(not HAS_PROC, reason="no /proc: the CPU's peak memory is not read here")
def test_the_peak_resident_set_grows_when_a_region_allocates_a_big_tensor():
    size = 256 * 2**20
    reset_peak_memory("cpu")
    before = peak_memory("cpu")
    big = torch.ones(size // 4, dtype=torch.float32)  # written: every page resident
    assert float(big[-1]) == 1.0
    del big
    grown = peak_memory("cpu")
    assert grown - before >= 0.9 * size, (before, grown)
    if collect_environment("fp32")["cpu_peak_memory"] == "per region":
        reset_peak_memory("cpu")  # the next region starts afresh: the tensor is gone
        assert peak_memory("cpu") < grown - 0.5 * size


@pytest.mark.skipif(not HAS_PROC, reason="no /proc: the CPU's peak memory is not read here")
def test_where_the_reset_is_refused_the_environment_says_since_process_start(monkeypatch,
                                                                           tmp_path):
    blocked = tmp_path / "not-a-folder" / "clear_refs"  # cannot be opened for writing
    monkeypatch.setattr(processes, "_CLEAR_REFS", str(blocked))
    assert processes.reset_peak_rss().startswith(f"{blocked} cannot be written")
    scope = environment.cpu_peak_memory_scope()
    assert scope.startswith("since process start: ") and str(blocked) in scope
    assert peak_memory("cpu") == processes.peak_rss_bytes() > 0  # still the process's peak


def test_without_proc_there_is_no_cpu_peak_and_the_scope_is_null(monkeypatch):
    monkeypatch.setattr(processes, "peak_rss_bytes", lambda pid="self": None)
    assert environment.cpu_peak_memory_scope() is None


def test_the_gpu_has_no_cpu_peak_scope(monkeypatch):
    monkeypatch.setattr(environment, "_torch_facts", lambda: {"device": "cuda"})
    assert collect_environment("bf16")["cpu_peak_memory"] is None
