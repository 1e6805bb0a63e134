"""End to end: the local agent runs a small sweep of the GLUE program; where each run's wall time goes.

Nothing is fetched: `timing-trainer demo-assets` writes RTE data and the demo tokenizer, and a
BERT-base-sized model (hidden 768, 12 layers; random weights) is built from a config next to
it. A temporary sweep YAML (grid: max_seq_length x per_device_train_batch_size, bf16 on a GPU)
runs through `timing-trainer sweep --wandb disabled`. Per run: the agent's wall time (process
start to exit), the start-up (interpreter start to parsed arguments), the rest of the setup
(model load, tokenization, warm-up, train setup), the time on the clock (every fine-tuning
iteration plus every timed evaluation loop) and what is left (imports after parsing, the
environment probe, writing results, the process's exit).

    python bench/sweep_e2e.py                       # CUDA: BERT-base, bf16; CPU: small shapes
    python bench/sweep_e2e.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from bert_workload import device_name, write_json


def parse_args(argv=None):
    import torch

    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=768 if cuda else 64)
    parser.add_argument("--layers", type=int, default=12 if cuda else 2)
    parser.add_argument("--train-size", type=int, default=512 if cuda else 64)
    parser.add_argument("--dev-size", type=int, default=256 if cuda else 32)
    parser.add_argument("--lengths", default="128,256" if cuda else "32,64")
    parser.add_argument("--batch-sizes", default="16,32" if cuda else "8,16")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16" if cuda else "fp32")
    parser.add_argument("--iters", type=int, default=2, help="finetuning_iters per run")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    return parser.parse_args(argv)


def build_assets(opts, root: Path) -> Path:
    """Demo RTE data and tokenizer, and a random BERT of the chosen size saved beside them."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    subprocess.run([sys.executable, "-m", "timing_trainer", "demo-assets", str(root / "assets"),
                    "--tasks", "rte", "--train-size", str(opts.train_size), "--dev-size",
                    str(opts.dev_size)], check=True, capture_output=True, timeout=300)
    tokenizer = AutoTokenizer.from_pretrained(root / "assets" / "models" / "tiny-uncased")
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=opts.hidden,
                        num_hidden_layers=opts.layers, num_attention_heads=max(1, opts.hidden // 64),
                        intermediate_size=4 * opts.hidden, max_position_embeddings=512,
                        num_labels=2)
    model_dir = root / "assets" / "models" / "bert-random"
    BertForSequenceClassification(config).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return model_dir


def sweep_file(opts, root: Path, model_dir: Path) -> Path:
    numbers = lambda text: [int(x) for x in text.split(",")]  # noqa: E731
    spec = {
        "name": "e2e", "method": "grid",
        "command": ["${env}", "${interpreter}", "-m", "timing_trainer.glue", "--do_train",
                    "--do_eval", "--report_to=wandb", "--save_strategy=no", "${args}"],
        "parameters": {
            "max_seq_length": {"values": numbers(opts.lengths)},
            "per_device_train_batch_size": {"values": numbers(opts.batch_sizes)},
            "task_name": {"value": "rte"},
            "model_name_or_path": {"value": str(model_dir)},
            "data_dir": {"value": str(root / "assets")},
            "tokenization_cache_dir": {"value": str(root / "cache")},
            "per_device_eval_batch_size": {"value": 32},
            "num_train_epochs": {"value": 1},
            "finetuning_iters": {"value": opts.iters},
            "bf16": {"value": opts.precision == "bf16"},
            "disable_tqdm": {"value": True},
        },
    }
    path = root / "e2e.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def split(run_dir: Path) -> dict:
    """One run's wall time and where it went."""
    from timing_trainer.sweep.agent.walltime import on_clock_seconds

    record = json.loads((run_dir / "agent_record.json").read_text())
    results = json.loads((run_dir / "timing_results.json").read_text())
    parts = dict(results.get("setup_time_parts") or {})
    on_clock = on_clock_seconds(results) or 0.0
    startup = parts.pop("startup", None)
    setup = sum(parts.values())
    wall = record.get("wall_time")
    return {"run": run_dir.name, "status": results.get("status"), "wall_s": wall,
            "startup_s": startup, "setup_s": setup, "on_clock_s": on_clock,
            "rest_s": wall - (startup or 0.0) - setup - on_clock if wall else None,
            "on_clock_share": on_clock / wall if wall else None,
            "config": {k: results["config"].get(k) for k in ("max_seq_length",
                                                             "per_device_train_batch_size")},
            "mfu_train": results.get("mfu_train")}


def main(argv=None) -> int:
    opts = parse_args(argv)
    device = device_name()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model_dir = build_assets(opts, root)
        path = sweep_file(opts, root, model_dir)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        agent = subprocess.run([sys.executable, "-m", "timing_trainer", "sweep", str(path),
                                "--runs-dir", str(root / "runs"), "--wandb", "disabled",
                                "--no-progress"], cwd=root, env=env, capture_output=True,
                               text=True, timeout=420)
        runs = [split(d) for d in sorted((root / "runs").iterdir())
                if (d / "timing_results.json").exists()]
    figures = {"device": device, "model": f"BERT hidden={opts.hidden} layers={opts.layers}",
               "precision": opts.precision, "agent_exit": agent.returncode, "runs": runs,
               "n_finished": sum(r["status"] == "finished" for r in runs)}
    shares = [r["on_clock_share"] for r in runs if r["on_clock_share"] is not None]
    figures["on_clock_share_median"] = statistics.median(shares) if shares else None
    print(f"sweep e2e: local agent, GLUE RTE ({opts.train_size} train, {opts.dev_size} dev) on "
          f"{device}, {figures['model']}, {opts.precision}; agent exit {agent.returncode}")
    print(f"{'run':<18}{'len':>5}{'batch':>6}{'wall s':>8}{'start s':>8}{'setup s':>8}"
          f"{'clock s':>8}{'rest s':>8}{'clock %':>8}")
    for r in runs:
        print(f"{r['run']:<18}{r['config']['max_seq_length']:>5}"
              f"{r['config']['per_device_train_batch_size']:>6}{r['wall_s']:>8.1f}"
              f"{(r['startup_s'] or 0):>8.1f}{r['setup_s']:>8.1f}{r['on_clock_s']:>8.1f}"
              f"{r['rest_s']:>8.1f}{r['on_clock_share']:>8.1%}")
    if agent.returncode != 0:
        print(agent.stdout[-2000:] + agent.stderr[-2000:])
    write_json(opts.json, figures)
    return 0 if agent.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
