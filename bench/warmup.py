"""Warm-up before the clock: iteration 1 against the median of the others, with and without it.

Each variant runs in a fresh process (cold CUDA context, cuBLAS, allocator: what a sweep's runs
see), `TimingTrainer` with `finetuning_iters` iterations of the same BERT workload (built from a
config, random tokens), once with `timing_warmup_steps=0` and once with the default. The figure
is `finetuning_time_list[0] / median(finetuning_time_list[1:])`: about 1 when nothing one-off
lands on the clock. Variants alternate over `--rounds` rounds.

    python bench/warmup.py                        # CPU: a small model; CUDA: BERT-base, bf16
    python bench/warmup.py --rounds 3 --json out.json
    python bench/warmup.py --step-profile 3        # steps 1-5 of a plain Trainer / steady step
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

from bert_workload import (
    CPU,
    build_dataset,
    build_model,
    device_name,
    prepare_torch,
    workload_parser,
    write_json,
)


def parse_args(argv=None):
    parser, cuda = workload_parser(__doc__, cuda_seq_len=128)
    parser.add_argument("--steps", type=int, default=30 if cuda else 10,
                        help="optimizer steps per timed iteration")
    parser.add_argument("--iters", type=int, default=4, help="finetuning_iters per variant")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16" if cuda else "fp32")
    parser.add_argument("--step-profile", type=int, default=0, metavar="N",
                        help="instead: N fresh processes, each a plain Trainer's first steps "
                             "against the median of steps 11 on (40 steps)")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child(opts) -> dict:
    """One fresh process: TimingTrainer with `opts.child` warm-up steps; its iteration times."""
    from timing_trainer import TimingTrainer, TimingTrainingArguments

    cuda = prepare_torch(opts) != CPU
    dataset = build_dataset(opts)
    with tempfile.TemporaryDirectory() as tmp:
        args = TimingTrainingArguments(
            output_dir=tmp, per_device_train_batch_size=opts.batch_size, num_train_epochs=1,
            finetuning_iters=opts.iters, timing_warmup_steps=opts.child, report_to="none",
            disable_tqdm=True, save_strategy="no", logging_steps=10_000, use_cpu=not cuda,
            bf16=opts.precision == "bf16", cv_warning_threshold=10.0, write_timing_results=False)
        trainer = TimingTrainer(model=build_model(opts), args=args, train_dataset=dataset)
        trainer.train()
    times = trainer.timing_results.finetuning_times
    return {"warmup_steps": opts.child, "times": times,
            "first_over_rest": times[0] / statistics.median(times[1:]),
            "warmup_seconds": trainer.timing_results.setup_time_parts.get("warmup")}


def profile_child(opts) -> dict:
    """A plain Trainer in a fresh process: each step's time / the median of steps 11 on."""
    import time

    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    cuda = prepare_torch(opts) != CPU
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    class Steps(TrainerCallback):
        times: list[float] = []

        def on_step_begin(self, *args, **kwargs):
            sync()
            self.started = time.perf_counter()

        def on_step_end(self, *args, **kwargs):
            sync()
            Steps.times.append(time.perf_counter() - self.started)

    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_train_batch_size=opts.batch_size,
                                 max_steps=40, report_to="none", disable_tqdm=True,
                                 save_strategy="no", logging_steps=10_000, use_cpu=not cuda,
                                 bf16=opts.precision == "bf16")
        Trainer(model=build_model(opts), args=args, train_dataset=build_dataset(opts, 40 * opts.batch_size),
                callbacks=[Steps()]).train()
    steady = statistics.median(Steps.times[10:])
    return {"steps_over_steady": [t / steady for t in Steps.times[:5]], "steady_s": steady}


def run_child(argv: list[str], *flags: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *argv, *flags],
                         capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _without(argv: list[str], option: str) -> list[str]:
    """`argv` less `option` and the value after it."""
    return [a for i, a in enumerate(argv) if a != option and (i == 0 or argv[i - 1] != option)]


def step_profile(opts, passed: list[str]) -> int:
    print(f"steps 1-5 of a plain Trainer / median of steps 11-40, {opts.step_profile} fresh "
          f"processes, seq {opts.seq_len}, batch {opts.batch_size}, {opts.precision}")
    for _ in range(opts.step_profile):
        result = run_child(passed, "--profile-child")
        print(" ".join(f"{v:.2f}" for v in result["steps_over_steady"]),
              f"(steady step {result['steady_s'] * 1e3:.1f} ms)")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    opts = parse_args(argv)
    if opts.child is not None:
        print(json.dumps(child(opts)))
        return 0
    if opts.profile_child:
        print(json.dumps(profile_child(opts)))
        return 0
    from timing_trainer.arguments import DEFAULT_WARMUP_STEPS

    device = device_name()
    passed = _without(argv, "--json")  # the children's arguments
    if opts.step_profile:
        return step_profile(opts, _without(passed, "--step-profile"))
    runs: dict[int, list[dict]] = {0: [], DEFAULT_WARMUP_STEPS: []}
    for round_index in range(opts.rounds):
        order = sorted(runs, reverse=bool(round_index % 2))
        for warmup in order:
            runs[warmup].append(run_child(passed, "--child", str(warmup)))
    figures = {
        "device": device, "model": f"BERT hidden={opts.hidden} layers={opts.layers}",
        "seq_len": opts.seq_len, "batch_size": opts.batch_size, "steps": opts.steps,
        "iters": opts.iters, "precision": opts.precision, "rounds": opts.rounds,
        "without": [r["first_over_rest"] for r in runs[0]],
        "with": [r["first_over_rest"] for r in runs[DEFAULT_WARMUP_STEPS]],
        "default_warmup_steps": DEFAULT_WARMUP_STEPS, "runs": runs,
    }
    figures["without_median"] = statistics.median(figures["without"])
    figures["with_median"] = statistics.median(figures["with"])
    print(f"warm-up: iteration 1 / median of iterations 2-{opts.iters} on {device}, "
          f"{figures['model']}, seq {opts.seq_len}, batch {opts.batch_size}, {opts.steps} steps, "
          f"{opts.precision}, {opts.rounds} fresh processes per variant")
    for label, key in (("timing_warmup_steps=0", "without"),
                       (f"timing_warmup_steps={DEFAULT_WARMUP_STEPS}", "with")):
        values = " ".join(f"{v:.3f}" for v in figures[key])
        print(f"{label:<24} median {figures[key + '_median']:.3f}   ({values})")
    write_json(opts.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
