"""Two-process CPU DDP run for test_distributed.py: rank 1 is made slower on purpose.

Usage: torchrun --nproc_per_node 2 ddp_run.py OUTPUT_DIR SLEEP_SECONDS
Prints "SAVED rank=R" from every process that writes the results file. With
CORE_DDP_FAKE_GPU_WATTS=W each rank computes on a fake GPU of W x (rank + 1) watts (a stand-in
NVML; the ranks' joules must be summed once).
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402
from helpers.tiny import tiny_bert, token_dataset  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from timing_trainer import TimingTrainer, TimingTrainingArguments  # noqa: E402
from timing_trainer.results.run_results import TimingResults  # noqa: E402

torch.set_num_threads(1)


class SlowRankOne(TrainerCallback):
    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_optimizer_step(self, args, state, control, **kwargs):
        if int(os.environ.get("RANK", "0")) == 1:
            time.sleep(self.seconds)


def _fake_gpu(watts: float) -> None:
    from helpers.energy_standins import FakeGpu, fake_nvml

    from timing_trainer.energy import meter

    rank = int(os.environ.get("RANK", "0"))
    sys.modules["pynvml"] = fake_nvml([FakeGpu(f"GPU-rank-{rank}", watts=watts * (rank + 1))])
    meter.gpu_ordinals = lambda device, n_gpu=1: [0]


def main(output_dir: str, sleep_seconds: float) -> None:
    if os.environ.get("CORE_DDP_FAKE_GPU_WATTS"):
        _fake_gpu(float(os.environ["CORE_DDP_FAKE_GPU_WATTS"]))
    original_save = TimingResults.save

    def reporting_save(self, path):
        print(f"SAVED rank={os.environ.get('RANK')}", flush=True)
        return original_save(self, path)

    TimingResults.save = reporting_save
    args = TimingTrainingArguments(output_dir=output_dir, per_device_train_batch_size=4,
                                   num_train_epochs=1, finetuning_iters=2, report_to="none",
                                   use_cpu=True, disable_tqdm=True, save_strategy="no",
                                   ddp_backend="gloo", cv_warning_threshold=10.0)
    trainer = TimingTrainer(model=tiny_bert(), args=args, train_dataset=token_dataset(24),
                            eval_dataset=token_dataset(8), callbacks=[SlowRankOne(sleep_seconds)])
    trainer.train()
    trainer.evaluate()
    print(f"DONE rank={os.environ.get('RANK')} steps={trainer.state.global_step} "
          f"world={args.world_size}", flush=True)
    import torch.distributed as dist

    if dist.is_initialized():  # a clean shutdown: gloo threads left alive can abort at exit
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
