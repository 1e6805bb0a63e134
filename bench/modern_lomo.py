"""Leave-one-model-out errors of the cost model for today's architectures, on runs made here.

Nothing is fetched: `timing-trainer demo-assets` writes RTE data and the demo's tokenizer, and
one small model of each architecture (BERT, ModernBERT, DeBERTa-v3's `deberta-v2`) is built from
a config beside it, sharing that tokenizer. A local sweep of the GLUE program (model x
max_seq_length x batch size) runs through `timing-trainer sweep --wandb disabled`; then
`timing-trainer predict --cv leave-one-model-out` fits the cost model on two architectures and
predicts the third's runs, for each in turn: the error a user meets when predicting a model
family the fit has never seen (their FLOPs from timing_trainer.results.flops). Besides the
overall figures, a table per held-out architecture (runs, median and p90 APE), from the same
cross-validation run in this process (`costmodel.cross_validation`).

    python bench/modern_lomo.py                     # CPU: small shapes, a few minutes
    python bench/modern_lomo.py --hidden 256 --layers 4 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from bert_workload import device_name, write_json

ARCHITECTURES = ("bert", "modernbert", "deberta-v2")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--train-size", type=int, default=96)
    parser.add_argument("--lengths", default="32,64")
    parser.add_argument("--batch-sizes", default="8,16")
    parser.add_argument("--json", help="write the figures to this file")
    return parser.parse_args(argv)


def _config(architecture: str, hidden: int, layers: int, tokenizer, **overrides):
    """A small config of `architecture` for the demo tokenizer's vocabulary; `overrides`
    replace any of its values (a base-sized shape: bench/modes.py)."""
    import transformers

    values = dict(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                  num_attention_heads=max(1, hidden // 32), intermediate_size=2 * hidden,
                  pad_token_id=tokenizer.pad_token_id, max_position_embeddings=512)
    if architecture == "bert":
        return transformers.BertConfig(**{**values, **overrides})
    if architecture == "modernbert":
        values.update(global_attn_every_n_layers=2, local_attention=32,
                      cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
                      bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id)
        return transformers.ModernBertConfig(**{**values, **overrides})
    values.update(relative_attention=True, position_buckets=64, pos_att_type=["p2c", "c2p"],
                  share_att_key=True, position_biased_input=False, norm_rel_ebd="layer_norm",
                  type_vocab_size=0)
    return transformers.DebertaV2Config(**{**values, **overrides})


def write_models(assets: Path, hidden: int, layers: int,
                 architectures=ARCHITECTURES, config=None) -> dict[str, Path]:
    """One model folder per architecture, each with the demo's (uncased) tokenizer.
    `config(architecture, tokenizer)`: the model's config (default: `_config` at `hidden`,
    `layers`)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    source = assets / "models" / "tiny-uncased"
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    config = config or (lambda architecture, tok: _config(architecture, hidden, layers, tok))
    folders = {}
    for architecture in architectures:
        folder = assets / "models" / f"small-{architecture}"
        torch.manual_seed(0)
        AutoModel.from_config(config(architecture, tokenizer),
                              attn_implementation="eager").save_pretrained(str(folder))
        tokenizer.save_pretrained(str(folder))
        folders[architecture] = folder
    return folders


def sweep_file(path: Path, assets: Path, models: dict[str, Path], opts) -> Path:
    """A grid over the models, lengths and batch sizes on RTE, 2 timed iterations a run."""
    sweep = {
        "program": "timing_trainer.glue", "method": "grid",
        "metric": {"name": "eval_accuracy", "goal": "maximize"},
        "command": ["${env}", "${interpreter}", "-m", "timing_trainer.glue", "--do_train",
                    "--do_eval", "--report_to=none", "${args}"],
        "parameters": {
            "task_name": {"value": "rte"},
            "data_dir": {"value": str(assets / "RTE")},
            "model_name_or_path": {"values": [str(m) for m in models.values()]},
            "attn_implementation": {"value": "eager"},
            "max_seq_length": {"values": [int(v) for v in opts.lengths.split(",")]},
            "per_device_train_batch_size": {"values": [int(v) for v in
                                                       opts.batch_sizes.split(",")]},
            "num_train_epochs": {"value": 1}, "finetuning_iters": {"value": 2},
            "learning_rate": {"value": 1e-3},
        },
    }
    path.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    return path


REPO = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """The children's environment: one torch thread unless set, W&B off, and this checkout
    first on the path (the package imports from here, installed or not)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
            "WANDB_MODE": "disabled", "PYTHONPATH": path}


def _timing_trainer(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "timing_trainer", *args], cwd=cwd,
                          env=child_env(), capture_output=True, text=True, check=False)


def architecture_of(model: str) -> str:
    """The architecture of a model folder this script wrote (`.../small-modernbert`)."""
    name = str(model).rstrip("/").rsplit("/", 1)[-1]
    return name.removeprefix("small-") if name.startswith("small-") else name


def per_architecture(runs_dir: Path) -> list[dict]:
    """Leave-one-model-out per held-out architecture: runs scored, median and p90 APE (%);
    a last row `all` over every run (the figures `predict --cv` printed)."""
    import numpy as np

    from timing_trainer.analysis.table.load import load_runs
    from timing_trainer.costmodel.cross_validation import cross_validate

    scored = cross_validate(load_runs([str(runs_dir)]), "finetuning",
                            "leave-one-model-out").runs
    rows = []
    held_out = scored["model"].map(architecture_of)
    for architecture in (*ARCHITECTURES, "all"):  # all: the overall figures, once more
        ape = scored.loc[(held_out == architecture) | (architecture == "all"), "ape"]
        ape = ape.dropna().to_numpy(float)
        rows.append({"architecture": architecture, "n": int(len(ape)),
                     "median_ape": float(np.median(ape)) if len(ape) else None,
                     "p90_ape": float(np.percentile(ape, 90)) if len(ape) else None})
    return rows


def breakdown_table(rows: list[dict]) -> str:
    """The per-architecture rows as a markdown table (APE in %)."""
    def pct(value):
        return "n/a" if value is None else f"{value:.1f} %"

    lines = ["| held-out architecture | runs | median APE | p90 APE |", "|---|---|---|---|"]
    lines += [f"| {r['architecture']} | {r['n']} | {pct(r['median_ape'])} | "
              f"{pct(r['p90_ape'])} |" for r in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    opts = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="modern-lomo-"))
    try:
        assets = work / "assets"
        made = _timing_trainer("demo-assets", str(assets), cwd=work)
        if made.returncode != 0:
            print(made.stderr[-2000:], file=sys.stderr)
            return 1
        models = write_models(assets, opts.hidden, opts.layers)
        sweep = sweep_file(work / "sweep.yaml", assets, models, opts)
        ran = _timing_trainer("sweep", str(sweep), "--runs-dir", str(work / "runs"),
                              "--wandb", "disabled", "--no-progress", cwd=work)
        print(ran.stdout.strip().splitlines()[-1] if ran.stdout.strip() else ran.stderr[-2000:])
        cv = _timing_trainer("predict", "--runs", str(work / "runs"), "--cv",
                             "leave-one-model-out", "--json", cwd=work)
        if cv.returncode != 0:
            print(cv.stderr[-2000:], file=sys.stderr)
            return 1
        figures = json.loads(cv.stdout)
        print(f"leave-one-model-out on {device_name()} (CPU figures where no GPU), "
              f"hidden {opts.hidden}, {opts.layers} layers:")
        print(json.dumps(figures, indent=1)[:4000])
        rows = per_architecture(work / "runs")
        print("per held-out architecture:\n" + breakdown_table(rows))
        if opts.json:
            write_json(opts.json, {"device": device_name(), "options": vars(opts),
                                   "predict_cv": figures, "per_architecture": rows})
        return 0 if ran.returncode == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
