"""Overhead of TimingTrainer against a plain transformers Trainer on the same workload.

Both trainers fine-tune the same BERT (built from a config: nothing to download) from the same
initial weights on the same random tokens, alternating A/B in one process. Two ratios:

- loop: the training loop alone, first step's start to last step's end, measured by the same
  external probe callback (device synchronized) in both trainers. This is what the timing
  hooks cost inside the timed region; the goal is <= 1.01 on a GPU with a BERT-base model.
- call: the whole `train()` call (TimingTrainer adds a weight snapshot, the environment probe
  and the results file, all outside its clock).

Also printed: TimingTrainer's own `finetuning_time` against the probe (they should agree), and
the energy reads' cost per clock boundary (one `EnergyMeter.read()` before the clock starts,
one after it stops; timing_trainer.energy): this machine's own meter (NVML on a GPU with
nvidia-ml-py), and a stand-in RAPL tree of two packages in plain files (a proxy for sysfs).
Neither is on the clock; they add to the wall time of a run, not to `finetuning_time`.

    python bench/overhead.py                       # CPU: a small model; CUDA: BERT-base
    python bench/overhead.py --hidden 768 --layers 12 --seq-len 128 --batch-size 32 --steps 40
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from bert_workload import (
    CPU,
    build_dataset,
    build_model,
    prepare_torch,
    workload_parser,
    write_json,
)


def parse_args(argv=None):
    parser, cuda = workload_parser(__doc__, cuda_seq_len=128)
    parser.add_argument("--steps", type=int, default=40 if cuda else 15)
    parser.add_argument("--repeats", type=int, default=3, help="A/B rounds (min is reported)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    return parser.parse_args(argv)


def make_probe(device):
    """A callback timing first step begin to last step end, device synchronized."""
    from transformers import TrainerCallback

    from timing_trainer.clocks.stopwatch import synchronizer_for

    sync = synchronizer_for(device)

    class Probe(TrainerCallback):
        def __init__(self):
            self.start = None
            self.seconds = None

        def on_step_begin(self, args, state, control, **kwargs):
            if self.start is None:
                sync()
                self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step >= state.max_steps:
                sync()
                self.seconds = time.perf_counter() - self.start

    return Probe()


def run_once(kind, opts, initial_state, dataset, output_dir):
    import torch
    from transformers import Trainer, TrainingArguments

    from timing_trainer import TimingTrainer, TimingTrainingArguments
    from timing_trainer.clocks.stopwatch import synchronizer_for

    model = build_model(opts)
    model.load_state_dict(initial_state)
    common = dict(output_dir=output_dir, per_device_train_batch_size=opts.batch_size,
                  max_steps=opts.steps, learning_rate=2e-5, report_to="none", disable_tqdm=True,
                  save_strategy="no", logging_steps=10, seed=0, dataloader_num_workers=0,
                  bf16=opts.precision == "bf16", fp16=opts.precision == "fp16",
                  use_cpu=not torch.cuda.is_available())
    if kind == "timing":
        args = TimingTrainingArguments(finetuning_iters=1, cv_warning_threshold=10.0, **common)
        cls = TimingTrainer
    else:
        args = TrainingArguments(**common)
        cls = Trainer
    probe = make_probe(args.device)
    trainer = cls(model=model, args=args, train_dataset=dataset, callbacks=[probe])
    sync = synchronizer_for(args.device)
    sync()
    start = time.perf_counter()
    output = trainer.train()
    sync()
    call_seconds = time.perf_counter() - start
    own = output.metrics.get("finetuning_time") if kind == "timing" else None
    del trainer, model
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return {"loop": probe.seconds, "call": call_seconds, "own": own}


def hook_cost_per_step(opts, dataset, initial_state, output_dir, calls=2000, repeats=5):
    """Host time our hooks add to one optimizer step, in seconds: the step events of both
    trainers' callback handlers (plus TimingTrainer's shape counting), called in a tight loop.

    A noise-robust complement to the A/B ratio: on a busy machine the ratio's noise dwarfs a
    cost of a few microseconds.
    """
    import torch
    from transformers import Trainer, TrainingArguments

    from timing_trainer import TimingTrainer, TimingTrainingArguments
    from timing_trainer.clocks.batches import BatchCounter
    from timing_trainer.clocks.stopwatch import Stopwatch
    from timing_trainer.clocks.training import TrainIteration

    common = dict(output_dir=output_dir, report_to="none", disable_tqdm=True,
                  use_cpu=not torch.cuda.is_available())
    model = build_model(opts)
    model.load_state_dict(initial_state)
    plain = Trainer(model=model, args=TrainingArguments(**common))
    timing = TimingTrainer(model=model, args=TimingTrainingArguments(**common))
    iteration = TrainIteration(Stopwatch(), BatchCounter(model.config, training=True))
    iteration.started = True  # the clock is running: the hooks take their steady-state path
    iteration.stopwatch.start()
    timing.timing_iteration = iteration
    batch = {key: torch.stack([dataset[i][key] for i in range(opts.batch_size)])
             for key in ("input_ids", "attention_mask")}  # the mask sum is counted too

    def per_call(trainer, count):
        handler, args, control = trainer.callback_handler, trainer.args, trainer.control
        state = trainer.state
        state.global_step, state.max_steps = 1, 10**9  # a step with no save or evaluation due
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                handler.on_step_begin(args, state, control)
                if count:
                    iteration.counter.add(batch)
                handler.on_step_end(args, state, control)
            best = min(best, (time.perf_counter() - start) / calls)
        return best

    cost = per_call(timing, True) - per_call(plain, False)
    timing.timing_iteration = None
    return max(cost, 0.0)


def _read_cost(meter, calls: int = 2000, repeats: int = 5) -> tuple[float, float]:
    """Seconds per `read()` (one clock boundary) and per `window()` (after the clock)."""
    best_read = best_window = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            first = meter.read()
        best_read = min(best_read, (time.perf_counter() - start) / calls)
        second = meter.read()
        start = time.perf_counter()
        for _ in range(calls):
            meter.window(first, second)
        best_window = min(best_window, (time.perf_counter() - start) / calls)
    return best_read, best_window


def energy_read_costs(device) -> dict:
    """The energy reads' cost: this process's meter, and a two-package RAPL stand-in."""
    from timing_trainer.energy import EnergyMeter, meter_for, rapl

    own = meter_for(device)
    figures = {"own_source": own.source, "own_reason": own.reason}
    figures["own_read_us"], figures["own_window_us"] = (x * 1e6 for x in _read_cost(own))
    with tempfile.TemporaryDirectory() as root:
        for n in range(2):
            folder = os.path.join(root, f"intel-rapl:{n}")
            os.makedirs(folder)
            for name, value in (("name", f"package-{n}"), ("energy_uj", 123456789),
                                ("max_energy_range_uj", 262143328850)):
                with open(os.path.join(folder, name), "w", encoding="ascii") as handle:
                    handle.write(f"{value}\n")
        stand_in = EnergyMeter((rapl.open_rapl({rapl.ROOT_ENV: root}),))
        figures["rapl2_read_us"], figures["rapl2_window_us"] = (
            x * 1e6 for x in _read_cost(stand_in))
    return figures


def report(figures: dict, opts) -> None:
    """The table, the hook cost and the energy reads' cost."""
    device, energy = figures["device"], figures["energy_reads"]
    print(f"overhead: TimingTrainer vs Trainer on {device}, {figures['model']}, "
          f"seq {opts.seq_len}, batch {opts.batch_size}, {opts.steps} steps, {opts.precision}, "
          f"{opts.repeats} A/B rounds")
    print(f"{'measure':<34}{'plain':>12}{'timing':>12}{'ratio':>10}")
    print(f"{'training loop, min (s)':<34}{figures['plain_loop_s']:>12.4f}"
          f"{figures['timing_loop_s']:>12.4f}{figures['loop_ratio_min']:>10.4f}")
    print(f"{'training loop, median (s)':<34}{figures['plain_loop_median_s']:>12.4f}"
          f"{figures['timing_loop_median_s']:>12.4f}{figures['loop_ratio_median']:>10.4f}")
    print(f"{'whole train() call, min (s)':<34}{figures['plain_call_s']:>12.4f}"
          f"{figures['timing_call_s']:>12.4f}{figures['call_ratio_min']:>10.4f}")
    print(f"{'finetuning_time / probe':<34}{'':>12}{'':>12}{figures['own_vs_probe']:>10.4f}")
    print(f"hook cost: {figures['hook_us_per_step']:.1f} us per optimizer step = "
          f"{figures['hook_share_of_step']:.4%} of a step (implied loop ratio "
          f"{1 + figures['hook_share_of_step']:.5f})")
    label = "CPU figure" if device == CPU else device
    print(f"energy reads ({label}), off the clock, per clock boundary: this process's meter "
          f"[{energy['own_source'] or 'nothing readable'}] {energy['own_read_us']:.2f} us "
          f"(window {energy['own_window_us']:.2f} us); RAPL stand-in, 2 packages in plain files "
          f"{energy['rapl2_read_us']:.2f} us (window {energy['rapl2_window_us']:.2f} us)")


def main(argv=None) -> int:
    opts = parse_args(argv)
    device = prepare_torch(opts)
    dataset = build_dataset(opts)
    initial_state = {k: v.clone() for k, v in build_model(opts).state_dict().items()}
    runs = {"plain": [], "timing": []}
    with tempfile.TemporaryDirectory() as tmp:
        run_once("plain", opts, initial_state, dataset, tmp)  # warm-up (kernels, allocator)
        for round_index in range(opts.repeats):
            order = ("plain", "timing") if round_index % 2 == 0 else ("timing", "plain")
            for kind in order:
                runs[kind].append(run_once(kind, opts, initial_state, dataset, tmp))
        hook_seconds = hook_cost_per_step(opts, dataset, initial_state, tmp)
    energy = energy_read_costs("cpu" if device == CPU else "cuda:0")

    def best(kind, key):
        return min(r[key] for r in runs[kind])

    def median(kind, key):
        return statistics.median(r[key] for r in runs[kind])

    figures = {
        "device": device,
        "model": f"BERT hidden={opts.hidden} layers={opts.layers} heads={opts.heads}",
        "seq_len": opts.seq_len, "batch_size": opts.batch_size, "steps": opts.steps,
        "precision": opts.precision, "repeats": opts.repeats,
        "plain_loop_s": best("plain", "loop"), "timing_loop_s": best("timing", "loop"),
        "plain_call_s": best("plain", "call"), "timing_call_s": best("timing", "call"),
        "loop_ratio_min": best("timing", "loop") / best("plain", "loop"),
        "plain_loop_median_s": median("plain", "loop"),
        "timing_loop_median_s": median("timing", "loop"),
        "loop_ratio_median": median("timing", "loop") / median("plain", "loop"),
        "call_ratio_min": best("timing", "call") / best("plain", "call"),
        "own_vs_probe": best("timing", "own") / best("timing", "loop"),
        "hook_us_per_step": hook_seconds * 1e6,
        "hook_share_of_step": hook_seconds / (best("plain", "loop") / opts.steps),
        "energy_reads": energy,
        "runs": runs,
    }
    report(figures, opts)
    write_json(opts.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
