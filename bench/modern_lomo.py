"""Leave-one-model-out errors of the cost model for today's architectures, on runs made here.

Nothing is fetched: `timing-trainer demo-assets` writes RTE data and the demo's tokenizer, and
one small model of each architecture (BERT, ModernBERT, DeBERTa-v3's `deberta-v2`) is built from
a config beside it, sharing that tokenizer. A local sweep of the GLUE program (model x
max_seq_length x batch size) runs through `timing-trainer sweep --wandb disabled`; then
`timing-trainer predict --cv leave-one-model-out` fits the cost model on two architectures and
predicts the third's runs, for each in turn: the error a user meets when predicting a model
family the fit has never seen (their FLOPs from timing_trainer.results.flops).

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


def _config(architecture: str, hidden: int, layers: int, tokenizer):
    """A small config of `architecture` for the demo tokenizer's vocabulary."""
    import transformers

    common = dict(vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
                  num_attention_heads=max(1, hidden // 32), intermediate_size=2 * hidden,
                  pad_token_id=tokenizer.pad_token_id)
    if architecture == "bert":
        return transformers.BertConfig(max_position_embeddings=512, **common)
    if architecture == "modernbert":
        return transformers.ModernBertConfig(
            max_position_embeddings=512, global_attn_every_n_layers=2, local_attention=32,
            cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
            bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id, **common)
    return transformers.DebertaV2Config(
        max_position_embeddings=512, relative_attention=True, position_buckets=64,
        pos_att_type=["p2c", "c2p"], share_att_key=True, position_biased_input=False,
        norm_rel_ebd="layer_norm", type_vocab_size=0, **common)


def write_models(assets: Path, hidden: int, layers: int) -> dict[str, Path]:
    """One model folder per architecture, each with the demo's (uncased) tokenizer."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    source = assets / "models" / "tiny-uncased"
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    folders = {}
    for architecture in ARCHITECTURES:
        folder = assets / "models" / f"small-{architecture}"
        torch.manual_seed(0)
        AutoModel.from_config(_config(architecture, hidden, layers, tokenizer),
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


def _timing_trainer(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
           "WANDB_MODE": "disabled"}
    return subprocess.run([sys.executable, "-m", "timing_trainer", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


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
        if opts.json:
            write_json(opts.json, {"device": device_name(), "options": vars(opts),
                                   "predict_cv": figures})
        return 0 if ran.returncode == 0 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
