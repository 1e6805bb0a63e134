"""Fidelity of the per-batch latencies: the interval timer against a synchronized host clock,
and the trainer's `forward_time` against a bare forward loop.

Four views of the same BERT forward passes (eval mode, no grad, random tokens):

1. paired: around every batch, device synchronized -> host clock -> timer start -> forward ->
   timer stop -> synchronize -> host clock. The timer (CUDA events on a GPU, the host clock on
   CPU) and the synchronized host clock see the very same pass; goal: within 2 %.
2. trainer: `TimingTrainer.evaluate()` over the same batches, the way runs measure (no host
   synchronize per batch), its median latency against the paired host median.
3. unsynchronized host clock (the thesis's method), for contrast: on a GPU it times only the
   kernel launches.
4. forward: the trainer's `forward_time` (module hooks on the model, CUDA events on a GPU, no
   per-batch synchronize) against a bare reference loop, `model(**batch)` on the same model and
   batches with the device synchronized around each call; goal: within 3 % on a GPU.

    python bench/fidelity.py                      # CPU: small model; CUDA: BERT-base
    python bench/fidelity.py --seq-len 512 --batch-size 32 --batches 30
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import warnings

from bert_workload import CPU, build_model, prepare_torch, workload_parser, write_json

warnings.filterwarnings("ignore", message="timing figures unavailable")  # not run figures here


def parse_args(argv=None):
    parser, cuda = workload_parser(__doc__)
    parser.add_argument("--batches", type=int, default=30 if cuda else 15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating rounds of the trainer and the bare forward loop")
    return parser.parse_args(argv)


def bare_forward(model, batches, labels, sync) -> list[float]:
    """The reference: `model(**batch)` with the trainer's inputs, synchronized around each."""
    import torch

    times = []
    with torch.no_grad():
        for batch in batches:
            sync()
            start = time.perf_counter()
            model(input_ids=batch, labels=labels)
            sync()
            times.append(time.perf_counter() - start)
    return times


def paired_and_unsynced(model, batches, device, sync, warmup: int):
    """1. the interval timer and a synchronized host clock around the same passes; 3. the
    unsynchronized host clock (the thesis's way). Returns (timer kind, timed, host, unsynced)."""
    import torch

    from timing_trainer.clocks.stopwatch import interval_timer_for

    timer = interval_timer_for(device)
    host, unsynced = [], []
    with torch.no_grad():
        for batch in batches[:warmup]:
            model(input_ids=batch)
        sync()
        for batch in batches:
            sync()
            start = time.perf_counter()
            timer.start()
            model(input_ids=batch)
            timer.stop()
            sync()
            host.append(time.perf_counter() - start)
        timed = timer.elapsed_seconds()
        sync()
        for batch in batches:
            start = time.perf_counter()
            model(input_ids=batch)
            unsynced.append(time.perf_counter() - start)
        sync()
    return timer.kind, timed, host, unsynced


def trainer_and_bare(opts, model, ids, batches, labels, sync, cuda: bool):
    """2. and 4.: TimingTrainer.evaluate (no per-batch synchronize) alternating with the bare
    forward reference, so that a drifting machine affects both alike; the best round of each."""
    from datasets import Dataset

    from timing_trainer import TimingTrainer, TimingTrainingArguments

    dataset = Dataset.from_dict({"input_ids": ids.tolist(), "labels": [0] * len(ids)})
    with tempfile.TemporaryDirectory() as tmp:
        args = TimingTrainingArguments(
            output_dir=tmp, per_device_eval_batch_size=opts.batch_size, report_to="none",
            use_cpu=not cuda, disable_tqdm=True, inference_warmup_batches=opts.warmup,
            bf16_full_eval=opts.precision == "bf16", fp16_full_eval=opts.precision == "fp16",
            write_timing_results=False)
        trainer = TimingTrainer(model=model, args=args, eval_dataset=dataset)
        trainer.evaluate()  # warm-up of the Trainer path
        records, bare_rounds = [], []
        for _ in range(opts.rounds):
            bare_rounds.append(bare_forward(model, batches, labels, sync)[opts.warmup:])
            trainer.evaluate()
            records.append(trainer.timing_results.evaluations[-1].to_dict())
    record = min(records, key=lambda r: r["forward_time_median"])
    return record, min(bare_rounds, key=statistics.median)


def summarize(opts, device_name, kind, timed, host, unsynced, record, bare) -> dict:
    host_median = statistics.median(host)
    bare_median = statistics.median(bare)
    rel = [abs(t - h) / h for t, h in zip(timed, host)]
    return {
        "device": device_name, "timer": kind,
        "model": f"BERT hidden={opts.hidden} layers={opts.layers}",
        "seq_len": opts.seq_len, "batch_size": opts.batch_size, "batches": opts.batches,
        "precision": opts.precision, "rounds": opts.rounds,
        "host_median_s": host_median, "timer_median_s": statistics.median(timed),
        "paired_rel_diff_median": statistics.median(rel), "paired_rel_diff_max": max(rel),
        "trainer_median_s": record["inference_time_median"],
        "trainer_vs_host": record["inference_time_median"] / host_median,
        "unsynced_host_median_s": statistics.median(unsynced),
        "unsynced_vs_host": statistics.median(unsynced) / host_median,
        "bare_forward_median_s": bare_median, "bare_forward_min_s": min(bare),
        "trainer_forward_median_s": record["forward_time_median"],
        "trainer_forward_min_s": record["forward_time"],
        "forward_vs_bare": record["forward_time_median"] / bare_median,
        "forward_min_vs_bare_min": record["forward_time"] / min(bare),
        "prediction_step_vs_forward": record["inference_time_median"]
        / record["forward_time_median"],
    }


def print_table(opts, figures) -> None:
    host = figures["host_median_s"]
    print(f"fidelity: per-batch forward latency on {figures['device']}, {figures['model']}, "
          f"seq {opts.seq_len}, batch {opts.batch_size}, {opts.batches} batches, "
          f"{opts.precision}, timer {figures['timer']}")
    print(f"{'measure':<44}{'median (ms)':>14}{'vs host':>10}")
    rows = (("synchronized host clock (reference)", host),
            ("interval timer, same passes", figures["timer_median_s"]),
            ("TimingTrainer.evaluate (no per-batch sync)", figures["trainer_median_s"]),
            ("unsynchronized host clock (thesis)", figures["unsynced_host_median_s"]),
            ("bare forward, synchronized (reference)", figures["bare_forward_median_s"]),
            ("TimingTrainer forward_time (hooks)", figures["trainer_forward_median_s"]))
    for label, seconds in rows:
        print(f"{label:<44}{seconds * 1e3:>14.3f}{seconds / host:>10.4f}")
    print(f"paired relative difference: median {figures['paired_rel_diff_median']:.2%}, "
          f"max {figures['paired_rel_diff_max']:.2%} (goal: within 2%)")
    print(f"forward_time / bare forward: median {figures['forward_vs_bare']:.4f}, min "
          f"{figures['forward_min_vs_bare_min']:.4f} (goal on a GPU: within 3%); "
          f"prediction_step / forward: {figures['prediction_step_vs_forward']:.3f}")


def main(argv=None) -> int:
    opts = parse_args(argv)
    import torch
    from transformers import TrainingArguments  # noqa: F401 (imported before timing_trainer)

    from timing_trainer.clocks.stopwatch import synchronizer_for

    device_name = prepare_torch(opts)
    cuda = device_name != CPU
    device = torch.device("cuda" if cuda else "cpu")
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[opts.precision]
    model = build_model(opts).to(device=device, dtype=dtype).eval()
    n = opts.batches * opts.batch_size
    ids = torch.randint(1, opts.vocab, (n, opts.seq_len), generator=torch.Generator().manual_seed(0))
    batches = [ids[i:i + opts.batch_size].to(device) for i in range(0, n, opts.batch_size)]
    labels = torch.zeros(opts.batch_size, dtype=torch.long, device=device)
    sync = synchronizer_for(device)
    kind, timed, host, unsynced = paired_and_unsynced(model, batches, device, sync, opts.warmup)
    record, bare = trainer_and_bare(opts, model, ids, batches, labels, sync, cuda)
    figures = summarize(opts, device_name, kind, timed, host, unsynced, record, bare)
    print_table(opts, figures)
    write_json(opts.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
