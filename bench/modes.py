"""What each fine-tuning mode changes: one GLUE run per mode, for a BERT and a ModernBERT.

The modes are the GLUE program's own (`python -m timing_trainer.glue`, one process per run, as
a sweep runs it), so the figures are what a user gets: full fine-tuning with eager attention
(the baseline), SDPA attention, LoRA rank 8 (peft), `--torch_compile` (inductor; its compilation
is in the warm-up, `setup_time_parts["warmup"]`, off the clock), `--padding_free` and, where
asked, flash_attention_2. A mode the program refuses (padding-free for every encoder of this
transformers; flash_attention_2 without CUDA or flash_attn; LoRA without peft) is a row that
says `refused: <its one line>`, not a crash. Nothing is fetched: `timing-trainer demo-assets`
writes RTE data and a tokenizer, the models are built from a config beside it (random weights).

Columns: model, mode, fine-tuning time (s, min of the timed iterations), its ratio to the same
model's baseline in this invocation, inference time (s per batch), trainable and total
parameters, warm-up time (s; compilation included for a compiled run) and the share of real
tokens among the padded ones the training batches carried.

    python bench/modes.py                        # CPU: tiny shapes, a few minutes
    python bench/modes.py --size base --modes eager,sdpa,flash_attention_2,lora,compile,padding_free
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bert_workload import device_name, write_json
from modern_lomo import _config as small_config
from modern_lomo import _timing_trainer, child_env, write_models

ARCHITECTURES = ("bert", "modernbert")
# mode -> (the row's name, the GLUE program's options for it)
MODES = {
    "eager": ("eager (baseline)", ["--attn_implementation", "eager"]),
    "sdpa": ("sdpa", ["--attn_implementation", "sdpa"]),
    "flash_attention_2": ("flash_attention_2", ["--attn_implementation", "flash_attention_2"]),
    "lora": ("LoRA r=8", ["--attn_implementation", "eager", "--lora_r", "8"]),
    "compile": ("torch_compile", ["--attn_implementation", "eager", "--torch_compile"]),
    "padding_free": ("padding_free", ["--attn_implementation", "eager", "--padding_free"]),
}
CPU_MODES = "eager,sdpa,lora,compile,padding_free"
# The base models' shapes (BERT-base; ModernBERT-base: 22 layers, gated MLP of 1152, a global
# attention layer every third, local windows of 128), with their own vocabularies.
BASE = {
    "bert": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, vocab_size=30522),
    "modernbert": dict(hidden_size=768, num_hidden_layers=22, num_attention_heads=12,
                       intermediate_size=1152, vocab_size=50368, global_attn_every_n_layers=3,
                       local_attention=128),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=("tiny", "base"), default="tiny",
                        help="tiny: hidden --hidden, --layers layers; base: BERT-base and "
                             "ModernBERT-base shapes")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--length", type=int, default=64, help="max_seq_length")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--iters", type=int, default=2, help="timed fine-tunings per run")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--modes", default=CPU_MODES,
                        help=f"comma-separated, of {', '.join(MODES)} (default {CPU_MODES})")
    parser.add_argument("--architectures", default=",".join(ARCHITECTURES))
    parser.add_argument("--run-timeout", type=float, default=300,
                        help="seconds one GLUE run may take before its row says it timed out")
    parser.add_argument("--json", help="write the rows (and the options) to this file")
    parser.add_argument("--markdown", help="write the table to this file")
    opts = parser.parse_args(argv)
    unknown = [m for m in opts.modes.split(",") if m not in MODES]
    if unknown:
        parser.error(f"--modes: unknown {', '.join(unknown)}; use {', '.join(MODES)}")
    return opts


def model_config(architecture: str, opts, tokenizer):
    """The config of `architecture` at the chosen size, for the demo tokenizer's ids."""
    overrides = BASE[architecture] if opts.size == "base" else {}
    return small_config(architecture, opts.hidden, opts.layers, tokenizer, **overrides)


def glue_command(model: Path, data: Path, out: Path, mode: str, opts) -> list[str]:
    """The GLUE program's command line of one run (RTE, one length and batch size)."""
    precision = ["--bf16"] if opts.precision == "bf16" else []
    return [sys.executable, "-m", "timing_trainer.glue", "--task_name", "rte", "--data_dir",
            str(data), "--model_name_or_path", str(model), "--output_dir", str(out),
            "--max_seq_length", str(opts.length), "--per_device_train_batch_size",
            str(opts.batch_size), "--per_device_eval_batch_size", str(opts.batch_size),
            "--num_train_epochs", str(opts.epochs), "--finetuning_iters", str(opts.iters),
            "--learning_rate", "1e-3", "--seed", "0", "--do_train", "--do_eval",
            "--report_to", "none", *precision, *MODES[mode][1]]


def last_line(text: str) -> str:
    """A refusal's one line (the program's last line on stderr, less its `PROG: error: `)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else "(no message)"
    return line.split(": error: ", 1)[-1]


def run_mode(model: Path, data: Path, out: Path, mode: str, opts) -> dict:
    """One GLUE run; its figures, or why there are none (refused, failed, timed out)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(glue_command(model, data, out, mode, opts), env=child_env(),
                              capture_output=True, text=True, timeout=opts.run_timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"outcome": f"timed out after {opts.run_timeout:g} s"}
    wall = time.perf_counter() - start
    if proc.returncode == 2:
        return {"outcome": f"refused: {last_line(proc.stderr)}", "wall_s": wall}
    if proc.returncode != 0:
        return {"outcome": f"failed (exit {proc.returncode}): {last_line(proc.stderr)}",
                "wall_s": wall}
    return {"outcome": "finished", "wall_s": wall,
            **figures(json.loads((out / "timing_results.json").read_text()))}


def figures(results: dict) -> dict:
    """The table's figures from a run's `timing_results.json`."""
    config = results.get("config") or {}
    parts = results.get("setup_time_parts") or {}
    real, padded = results.get("train_real_tokens"), results.get("train_tokens")
    return {"finetuning_time": results.get("finetuning_time"),
            "inference_time": results.get("inference_time"),
            "trainable_params": config.get("trainable_params"),
            "total_params": config.get("total_params"),
            "warmup_s": parts.get("warmup"),
            "attn_implementation": config.get("attn_implementation"),
            "real_token_share": real / padded if real and padded else None}


def with_ratios(rows: list[dict]) -> list[dict]:
    """Each finished row's fine-tuning time over its model's baseline (eager) in this run."""
    base = {r["model"]: r.get("finetuning_time") for r in rows if r["mode"] == "eager"}
    for row in rows:
        time_s, reference = row.get("finetuning_time"), base.get(row["model"])
        row["ratio"] = time_s / reference if time_s and reference else None
    return rows


def _cell(value, spec: str) -> str:
    return "" if value is None else format(value, spec)


def markdown(rows: list[dict]) -> str:
    """The rows as a markdown table; a run without figures says why in the time column."""
    lines = ["| model | mode | finetuning_time (s) | ratio to eager | inference_time (s/batch) "
             "| trainable params | total params | warm-up (s) | real / padded tokens |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r["outcome"] != "finished":
            lines.append(f"| {r['model']} | {MODES[r['mode']][0]} | {r['outcome']} "
                         "| | | | | | |")
            continue
        lines.append(
            f"| {r['model']} | {MODES[r['mode']][0]} | {_cell(r['finetuning_time'], '.3f')} | "
            f"{_cell(r['ratio'], '.2f')} | {_cell(r['inference_time'], '.4f')} | "
            f"{_cell(r['trainable_params'], ',d')} | {_cell(r['total_params'], ',d')} | "
            f"{_cell(r['warmup_s'], '.2f')} | {_cell(r['real_token_share'], '.3f')} |")
    return "\n".join(lines)


def by_model(rows: list[dict], opts) -> list[dict]:
    """The rows model by model (in `--architectures` order), each model's in mode order."""
    order = [f"{a} ({opts.size})" for a in opts.architectures.split(",")]
    return sorted(rows, key=lambda r: order.index(r["model"]))


def save(rows: list[dict], opts, complete: bool) -> None:
    """The JSON and markdown files as they stand: written after every run, so a step cut short
    by its time limit (gpu_check.sh) still leaves the rows it finished."""
    rows = by_model(with_ratios([dict(r) for r in rows]), opts)
    if opts.markdown:
        Path(opts.markdown).write_text(markdown(rows) + "\n", encoding="utf-8")
    write_json(opts.json, {"device": device_name(), "options": vars(opts), "rows": rows,
                           "complete": complete})


def run_all(work: Path, opts) -> list[dict]:
    """Assets, models, then every (mode, architecture) run, in that order."""
    assets = work / "assets"
    made = _timing_trainer("demo-assets", str(assets), cwd=work)
    if made.returncode != 0:
        raise RuntimeError(f"demo-assets failed: {last_line(made.stderr)}")
    architectures = opts.architectures.split(",")
    models = write_models(assets, opts.hidden, opts.layers, architectures,
                          config=lambda arch, tok: model_config(arch, opts, tok))
    rows = []
    for mode in opts.modes.split(","):  # mode by mode: a cut step loses the last modes only
        for architecture in architectures:
            out = work / "runs" / f"{architecture}-{mode}"
            row = {"model": f"{architecture} ({opts.size})", "mode": mode,
                   **run_mode(models[architecture], assets / "RTE", out, mode, opts)}
            print(f"{row['model']} {mode}: {row['outcome']}", flush=True)
            rows.append(row)
            save(rows, opts, complete=False)
    return with_ratios(rows)


def main(argv=None) -> int:
    opts = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="modes-"))
    start = time.perf_counter()
    try:
        rows = run_all(work, opts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = markdown(by_model(rows, opts))
    print(f"\nmodes on {device_name()} ({opts.size}: length {opts.length}, batch "
          f"{opts.batch_size}, {opts.precision}, {opts.iters} timed iterations; "
          f"{time.perf_counter() - start:.0f} s in all):\n")
    print(table)
    save(rows, opts, complete=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
