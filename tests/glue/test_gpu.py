"""The GLUE program on a CUDA device, fp32 and bf16 (skipped without one; run by bench/gpu_check.sh)."""

from __future__ import annotations

import json

import pytest

from timing_trainer.glue import run
from timing_trainer.glue.demo_assets import write_demo_assets
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_glue_run_on_cuda(tmp_path, precision):
    assets = write_demo_assets(tmp_path / "demo", tasks=["rte"], train_size=64, dev_size=56)
    out = tmp_path / "run"
    argv = [
        "--task_name=rte", f"--model_name_or_path={assets / 'models' / 'tiny-uncased'}",
        f"--data_dir={assets}", f"--output_dir={out}", "--max_seq_length=64",
        "--per_device_train_batch_size=16", "--per_device_eval_batch_size=16",
        "--num_train_epochs=1", "--finetuning_iters=2", "--report_to=none",
        f"--tokenization_cache_dir={tmp_path / 'cache'}", f"--bf16={precision == 'bf16'}",
    ]
    assert run.main(argv) == 0
    data = json.loads((out / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert data["status"] == "finished"
    assert data["environment"]["device"] == "cuda"
    assert data["environment"]["precision"] == precision
    assert data["inference_timer"] == "cuda_event"
    latencies = data["inference_time_list"]
    assert len(latencies) == 4  # 56 examples: three full batches of 16 and one of 8
    # The first batch is warm-up and the last is partial: both stay in the list, out of the min.
    assert data["inference_time"] == min(latencies[1:3])
    assert data["peak_memory_train_bytes"] > 0
