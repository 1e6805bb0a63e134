"""Fidelity of the per-batch latencies: the interval timer against a synchronized host clock.

Three views of the same BERT forward passes (eval mode, no grad, random tokens):

1. paired: around every batch, device synchronized -> host clock -> timer start -> forward ->
   timer stop -> synchronize -> host clock. The timer (CUDA events on a GPU, the host clock on
   CPU) and the synchronized host clock see the very same pass; goal: within 2 %.
2. trainer: `TimingTrainer.evaluate()` over the same batches, the way runs measure (no host
   synchronize per batch), its median latency against the paired host median.
3. unsynchronized host clock (the thesis's method), for contrast: on a GPU it times only the
   kernel launches.

    python bench/fidelity.py                      # CPU: small model; CUDA: BERT-base
    python bench/fidelity.py --seq-len 512 --batch-size 32 --batches 30
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from bert_workload import add_model_arguments, build_model  # noqa: E402

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse_args(argv=None):
    import torch

    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser, cuda)
    parser.add_argument("--batches", type=int, default=30 if cuda else 15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    opts = parse_args(argv)
    import torch
    from datasets import Dataset
    from transformers import TrainingArguments  # noqa: F401 (imported before timing_trainer)

    from timing_trainer import TimingTrainer, TimingTrainingArguments
    from timing_trainer.clock import interval_timer_for, synchronizer_for

    cuda = torch.cuda.is_available()
    if not cuda:
        torch.set_num_threads(opts.cpu_threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    device = torch.device("cuda" if cuda else "cpu")
    device_name = torch.cuda.get_device_name(0) if cuda else "CPU (no GPU)"
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[opts.precision]
    model = build_model(opts).to(device=device, dtype=dtype).eval()
    generator = torch.Generator().manual_seed(0)
    n = opts.batches * opts.batch_size
    ids = torch.randint(1, opts.vocab, (n, opts.seq_len), generator=generator)
    batches = [ids[i:i + opts.batch_size].to(device) for i in range(0, n, opts.batch_size)]
    sync = synchronizer_for(device)

    with torch.no_grad():
        for batch in batches[:opts.warmup]:
            model(input_ids=batch)
        sync()

        # 1. paired: the timer and the synchronized host clock around the same pass.
        timer = interval_timer_for(device)
        host = []
        for batch in batches:
            sync()
            start = time.perf_counter()
            timer.start()
            model(input_ids=batch)
            timer.stop()
            sync()
            host.append(time.perf_counter() - start)
        timed = timer.elapsed_seconds()

        # 3. unsynchronized host clock (the thesis's way).
        sync()
        unsynced = []
        for batch in batches:
            start = time.perf_counter()
            model(input_ids=batch)
            unsynced.append(time.perf_counter() - start)
        sync()

    rel = [abs(t - h) / h for t, h in zip(timed, host)]

    # 2. the trainer's own path, no per-batch synchronize.
    dataset = Dataset.from_dict({"input_ids": ids.tolist(),
                                 "labels": [0] * n})
    with tempfile.TemporaryDirectory() as tmp:
        args = TimingTrainingArguments(
            output_dir=tmp, per_device_eval_batch_size=opts.batch_size, report_to="none",
            use_cpu=not cuda, disable_tqdm=True, inference_warmup_batches=opts.warmup,
            bf16_full_eval=opts.precision == "bf16", fp16_full_eval=opts.precision == "fp16",
            write_timing_results=False)
        trainer = TimingTrainer(model=model, args=args, eval_dataset=dataset)
        trainer.evaluate()  # warm-up of the Trainer path
        trainer.evaluate()
        record = trainer.timing_results.evaluations[-1].to_dict()

    host_median = statistics.median(host)
    figures = {
        "device": device_name, "timer": timer.kind,
        "model": f"BERT hidden={opts.hidden} layers={opts.layers}",
        "seq_len": opts.seq_len, "batch_size": opts.batch_size, "batches": opts.batches,
        "precision": opts.precision,
        "host_median_s": host_median, "timer_median_s": statistics.median(timed),
        "paired_rel_diff_median": statistics.median(rel), "paired_rel_diff_max": max(rel),
        "trainer_median_s": record["inference_time_median"],
        "trainer_vs_host": record["inference_time_median"] / host_median,
        "unsynced_host_median_s": statistics.median(unsynced),
        "unsynced_vs_host": statistics.median(unsynced) / host_median,
    }
    print(f"fidelity: per-batch forward latency on {device_name}, {figures['model']}, "
          f"seq {opts.seq_len}, batch {opts.batch_size}, {opts.batches} batches, "
          f"{opts.precision}, timer {timer.kind}")
    print(f"{'measure':<44}{'median (ms)':>14}{'vs host':>10}")
    print(f"{'synchronized host clock (reference)':<44}{host_median * 1e3:>14.3f}{1.0:>10.4f}")
    print(f"{'interval timer, same passes':<44}{figures['timer_median_s'] * 1e3:>14.3f}"
          f"{figures['timer_median_s'] / host_median:>10.4f}")
    print(f"{'TimingTrainer.evaluate (no per-batch sync)':<44}"
          f"{figures['trainer_median_s'] * 1e3:>14.3f}{figures['trainer_vs_host']:>10.4f}")
    print(f"{'unsynchronized host clock (thesis)':<44}"
          f"{figures['unsynced_host_median_s'] * 1e3:>14.3f}{figures['unsynced_vs_host']:>10.4f}")
    print(f"paired relative difference: median {figures['paired_rel_diff_median']:.2%}, "
          f"max {figures['paired_rel_diff_max']:.2%} (goal: within 2%)")
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
