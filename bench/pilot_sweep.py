"""Issue 20's acceptance: a pilot predicts a whole sweep, on the clock and in wall time.

Nothing is fetched: `timing-trainer demo-assets` writes RTE data (a few hundred rows) and the
demo's tokenizer, and two BERT models of different size (random weights) are built from configs
beside them. A grid sweep of 2 models x 2 lengths x 2 batch sizes (several epochs, 2 timed
iterations a run) is piloted with `timing-trainer pilot` (whose printed estimate is the
prediction, made before the sweep runs), then run whole with `timing-trainer sweep`; the table
compares each run's predicted and measured time on the clock and wall time. The pilot gets
`--budget-minutes` large enough to slice every shape (the default budget, 5 % of the predicted
sweep, would slice one shape per model here: these runs are far shorter than a real sweep's).

Goals (issue 20): pilot wall / sweep wall <= 0.25, total on-clock error <= 10 %, wall total
error <= 15 %; the per-run median error is reported. CPU figures on a CPU (OMP_NUM_THREADS=1
for the runs, as the demo).

    python bench/pilot_sweep.py                     # CPU: small models, about 6-8 minutes
    python bench/pilot_sweep.py --json out.json     # CUDA: BERT-base-sized, bf16
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bert_workload import device_name

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    import torch

    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="384x6,768x12" if cuda else "64x2,128x4",
                        help="HIDDENxLAYERS of the two models, comma-separated")
    parser.add_argument("--train-size", type=int, default=2000 if cuda else 800)
    parser.add_argument("--dev-size", type=int, default=277 if cuda else 100)
    parser.add_argument("--lengths", default="128,256" if cuda else "64,128")
    parser.add_argument("--batch-sizes", default="16,32" if cuda else "8,16")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--iters", type=int, default=2, help="finetuning_iters per run")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16" if cuda else "fp32")
    parser.add_argument("--budget-minutes", type=float, default=5.0)
    parser.add_argument("--keep", help="keep the work folder here (default: a temporary one)")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args(argv)


def _env() -> dict[str, str]:
    """The runs' environment: offline, one thread on a CPU, this checkout's package."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
            "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1", "PYTHONPATH": path}


def timing_trainer(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    """`timing-trainer ARGS` as a process; (its result, its wall seconds)."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "timing_trainer", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"timing-trainer {args[0]} exited {done.returncode}")
    return done, time.monotonic() - start


def build_assets(opts, work: Path) -> list[Path]:
    """RTE data and the demo tokenizer; one random BERT per `--models` entry beside them."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    timing_trainer("demo-assets", "assets", "--tasks", "rte", "--train-size",
                   str(opts.train_size), "--dev-size", str(opts.dev_size), cwd=work)
    tokenizer = AutoTokenizer.from_pretrained(work / "assets" / "models" / "tiny-uncased")
    folders = []
    for spec in opts.models.split(","):
        hidden, layers = (int(x) for x in spec.split("x"))
        config = BertConfig(vocab_size=len(tokenizer), hidden_size=hidden,
                            num_hidden_layers=layers, num_attention_heads=max(1, hidden // 64),
                            intermediate_size=4 * hidden, max_position_embeddings=512,
                            num_labels=2)
        torch.manual_seed(0)
        folder = work / "assets" / "models" / f"bert-{spec}"
        BertForSequenceClassification(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders.append(folder.relative_to(work))
    return folders


def sweep_file(opts, work: Path, models: list[Path]) -> Path:
    numbers = lambda text: [int(x) for x in text.split(",")]  # noqa: E731
    spec = {
        "name": "pilot-bench", "method": "grid",
        "metric": {"name": "eval_accuracy", "goal": "maximize"},
        "command": ["${env}", "${interpreter}", "-m", "timing_trainer.glue", "--do_train",
                    "--do_eval", "--report_to=none", "--save_strategy=no", "${args}"],
        "parameters": {
            "model_name_or_path": {"values": [str(m) for m in models]},
            "max_seq_length": {"values": numbers(opts.lengths)},
            "per_device_train_batch_size": {"values": numbers(opts.batch_sizes)},
            "task_name": {"value": "rte"}, "data_dir": {"value": "assets"},
            "tokenization_cache_dir": {"value": "cache"},
            "num_train_epochs": {"value": opts.epochs},
            "finetuning_iters": {"value": opts.iters}, "learning_rate": {"value": 1e-4},
            "bf16": {"value": opts.precision == "bf16"},
        },
    }
    path = work / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def _records(folder: Path) -> dict[int, dict]:
    out = {}
    for path in folder.glob("*/agent_record.json"):
        record = json.loads(path.read_text())
        out[record["index"]] = record
    return out


def _error(predicted: float | None, measured: float | None) -> float | None:
    if predicted is None or not measured:
        return None
    return 100.0 * (predicted - measured) / measured


def compare(estimate: dict, runs: dict[int, dict]) -> list[dict]:
    """One row per run: predicted and measured on the clock and in wall time, and the errors."""
    rows = []
    for run in estimate["runs"]:
        record = runs.get(run["run_index"], {})
        clock, wall = record.get("on_clock_time"), record.get("wall_time")
        rows.append({
            "run": run["run_index"], "shape": run["shape"], "source": run["source"],
            "clock_pred": run["clock_s"], "clock": clock, "wall_pred": run["wall_s"],
            "wall": wall, "clock_err": _error(run["clock_s"], clock),
            "wall_err": _error(run["wall_s"], wall),
            "clock_in": run["clock_low_s"] is not None and clock is not None
            and run["clock_low_s"] <= clock <= run["clock_high_s"],
            "wall_in": run["wall_low_s"] is not None and wall is not None
            and run["wall_low_s"] <= wall <= run["wall_high_s"]})
    return rows


def _f(value, digits=1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report(rows: list[dict], estimate: dict, pilot_wall: float, sweep_wall: float,
           device: str) -> dict:
    print(f"{'run':>3} {'shape':<30} {'clock pred':>10} {'clock':>8} {'err %':>7} "
          f"{'wall pred':>10} {'wall':>8} {'err %':>7}")
    for r in rows:
        print(f"{r['run']:>3} {r['shape'][:30]:<30} {_f(r['clock_pred']):>10} {_f(r['clock']):>8} "
              f"{_f(r['clock_err']):>7} {_f(r['wall_pred']):>10} {_f(r['wall']):>8} "
              f"{_f(r['wall_err']):>7}")
    clock = sum(r["clock"] or 0 for r in rows)
    wall = sum(r["wall"] or 0 for r in rows)
    figures = {
        "device": device, "pilot_wall_s": pilot_wall, "sweep_wall_s": sweep_wall,
        "pilot_share": pilot_wall / sweep_wall,
        "total_clock_pred_s": estimate["total_s"], "total_clock_s": clock,
        "total_clock_error_pct": _error(estimate["total_s"], clock),
        "total_wall_pred_s": estimate["wall_total_s"], "total_wall_s": wall,
        "total_wall_error_pct": _error(estimate["wall_total_s"], wall),
        "median_abs_clock_error_pct": statistics.median(abs(r["clock_err"]) for r in rows
                                                        if r["clock_err"] is not None),
        "median_abs_wall_error_pct": statistics.median(abs(r["wall_err"]) for r in rows
                                                       if r["wall_err"] is not None),
        "clock_in_interval": sum(r["clock_in"] for r in rows),
        "wall_in_interval": sum(r["wall_in"] for r in rows), "n_runs": len(rows),
    }
    label = "CPU figures" if device.startswith("CPU") else device
    print(f"\n{label}: pilot {pilot_wall:.0f} s / sweep {sweep_wall:.0f} s = "
          f"{figures['pilot_share']:.3f} (goal <= 0.25)")
    print(f"on the clock: predicted {_f(estimate['total_s'])} s, measured {clock:.1f} s, error "
          f"{_f(figures['total_clock_error_pct'])} % (goal <= 10 %); per-run median |error| "
          f"{figures['median_abs_clock_error_pct']:.1f} %; in interval "
          f"{figures['clock_in_interval']}/{len(rows)}")
    print(f"wall: predicted {_f(estimate['wall_total_s'])} s, measured {wall:.1f} s, error "
          f"{_f(figures['total_wall_error_pct'])} % (goal <= 15 %); per-run median |error| "
          f"{figures['median_abs_wall_error_pct']:.1f} %; in interval "
          f"{figures['wall_in_interval']}/{len(rows)}")
    return figures


def main(argv=None) -> int:
    opts = parse_args(argv)
    work = Path(opts.keep) if opts.keep else Path(tempfile.mkdtemp(prefix="pilot-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        models = build_assets(opts, work)
        sweep = sweep_file(opts, work, models)
        pilot, pilot_wall = timing_trainer(
            "pilot", str(sweep.name), "--out", "pilot", "--wandb", "disabled",
            "--budget-minutes", str(opts.budget_minutes), "--json", cwd=work)
        estimate = json.loads(pilot.stdout)
        _, sweep_wall = timing_trainer("sweep", str(sweep.name), "--runs-dir", "runs",
                                       "--wandb", "disabled", "--no-progress", cwd=work)
        device = device_name()
        figures = report(compare(estimate, _records(work / "runs")), estimate, pilot_wall,
                         sweep_wall, device)
        if opts.json:
            Path(opts.json).write_text(json.dumps({"options": vars(opts), **figures}, indent=2))
        return 0
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
