"""Energy of every fine-tuning iteration of the BERT-base-sized workload, as TimingTrainer records it.

Runs `TimingTrainer.train()` with `--iters` timed iterations (after its warm-up) on the workload
of bench/overhead.py (a BERT built from a config, random tokens: nothing to download) and prints
each iteration's joules and seconds, the CV of the joules across iterations, the average power
of each iteration and of the reported one (`finetuning_avg_power_w`), against the card's power
limits from NVML (the default limit is the board's TDP; the enforced one is what the driver
applies now). On a machine without a readable counter the figures are null and the reason is
printed: that is the row, not an error.

    python bench/energy.py                 # CUDA: BERT-base, length 128, batch 32, 40 steps
    python bench/energy.py --iters 5 --precision bf16 --json energy.json
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import warnings

from bert_workload import (
    CPU,
    build_dataset,
    build_model,
    prepare_torch,
    workload_parser,
    write_json,
)

warnings.filterwarnings("ignore", message="timing figures unavailable")  # the row says why


def parse_args(argv=None):
    parser, cuda = workload_parser(__doc__, cuda_seq_len=128)
    parser.add_argument("--steps", type=int, default=40 if cuda else 10,
                        help="optimizer steps per iteration")
    parser.add_argument("--iters", type=int, default=5, help="timed fine-tuning iterations")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    return parser.parse_args(argv)


def run(opts) -> dict:
    """Train once with `opts.iters` timed iterations; the energy figures and the power limits."""
    import torch

    from timing_trainer import TimingTrainer, TimingTrainingArguments

    with tempfile.TemporaryDirectory() as tmp:
        args = TimingTrainingArguments(
            output_dir=tmp, per_device_train_batch_size=opts.batch_size, max_steps=opts.steps,
            finetuning_iters=opts.iters, report_to="none", disable_tqdm=True, save_strategy="no",
            logging_steps=10**6, seed=0, cv_warning_threshold=10.0,
            bf16=opts.precision == "bf16", fp16=opts.precision == "fp16",
            use_cpu=not torch.cuda.is_available())
        trainer = TimingTrainer(model=build_model(opts), args=args,
                                train_dataset=build_dataset(opts))
        trainer.train()
        data = trainer.timing_results.to_dict()
        gpu = trainer.energy_meter.counter("nvml")
        limits = gpu.power_limits_w() if gpu is not None else {}
    joules = data["finetuning_energy_j_list"]
    times = data["finetuning_time_list"]
    return {
        "device": data["environment"]["gpu_name"] or CPU,
        "precision": data["environment"]["precision"], "steps": opts.steps,
        "energy_source": data["energy_source"], "finetuning_time_list": times,
        "finetuning_energy_j_list": joules,
        "finetuning_energy_j": data["finetuning_energy_j"],
        "finetuning_avg_power_w": data["finetuning_avg_power_w"],
        "energy_cv": (statistics.pstdev(joules) / statistics.mean(joules)) if joules else None,
        "power_w_list": [j / t for j, t in zip(joules, times)] if joules else None,
        "tdp_w": limits.get("default_w"), "enforced_limit_w": limits.get("enforced_w"),
        "reason": data["unavailable"].get("finetuning_energy_j"),
    }


def report(figures: dict) -> None:
    print(f"energy: {figures['device']}, {figures['precision']}, {figures['steps']} steps per "
          f"iteration, source {figures['energy_source'] or 'none'}")
    if figures["finetuning_energy_j_list"] is None:
        print(f"energy per iteration: null ({figures['reason']})")
        return
    for i, (t, j) in enumerate(zip(figures["finetuning_time_list"],
                                   figures["finetuning_energy_j_list"]), 1):
        print(f"  iteration {i}: {t:.3f} s  {j:.1f} J  {j / t:.1f} W")
    tdp = figures["tdp_w"]
    share = f" = {figures['finetuning_avg_power_w'] / tdp:.0%} of TDP {tdp:.0f} W" if tdp else ""
    print(f"energy CV across iterations {figures['energy_cv']:.2%}; reported iteration "
          f"{figures['finetuning_energy_j']:.1f} J at {figures['finetuning_avg_power_w']:.1f} W"
          f"{share} (enforced limit {figures['enforced_limit_w']} W)")


def main(argv=None) -> int:
    opts = parse_args(argv)
    prepare_torch(opts)
    figures = run(opts)
    report(figures)
    write_json(opts.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
