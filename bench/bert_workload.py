"""The workload the core benchmarks time, and what their scripts share.

The workload: a BERT built from a config (nothing to download) on random tokens. On CUDA the
defaults are BERT-base (hidden 768, 12 layers, vocab 30522, length 512, batch 32), the size the
goals are stated for; on CPU a small model, so that a run takes seconds.

Shared by the scripts bench/gpu_check.sh runs: the offline defaults (set on import, before
transformers or W&B is imported: no run logs to W&B, nothing is fetched from the Hub), the
argument parser's start, the torch settings the figures are taken under, the device's name and
the JSON file of the figures (gpu_check.sh reads it).
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CPU = "CPU (no GPU)"  # the device's name on a machine without CUDA


def add_model_arguments(parser: argparse.ArgumentParser, cuda: bool, cuda_seq_len: int = 512) -> None:
    """Model shape, batch and thread options, with BERT-base defaults on CUDA."""
    parser.add_argument("--hidden", type=int, default=768 if cuda else 128)
    parser.add_argument("--layers", type=int, default=12 if cuda else 2)
    parser.add_argument("--heads", type=int, default=12 if cuda else 2)
    parser.add_argument("--vocab", type=int, default=30522 if cuda else 1000)
    parser.add_argument("--cpu-threads", type=int, default=1,
                        help="torch threads on CPU (1: steadier on a shared machine)")
    parser.add_argument("--seq-len", type=int, default=cuda_seq_len if cuda else 64)
    parser.add_argument("--batch-size", type=int, default=32 if cuda else 8)


def workload_parser(doc: str, cuda_seq_len: int = 512) -> tuple[argparse.ArgumentParser, bool]:
    """(a parser described by `doc`'s first line, with the model options and `--json`; whether
    CUDA is there, for the script's own defaults)."""
    import torch

    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    add_model_arguments(parser, cuda, cuda_seq_len)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    return parser, cuda


def prepare_torch(opts) -> str:
    """No TF32 for fp32 matmuls, `--cpu-threads` threads on a CPU; the device's name."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    if not torch.cuda.is_available():
        torch.set_num_threads(opts.cpu_threads)
    return device_name()


def device_name() -> str:
    """The GPU's name, or `CPU`."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else CPU


def write_json(path: str | None, figures: dict) -> None:
    """The figures as indented JSON at `path` (`--json`); nothing when it is not given."""
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(figures, handle, indent=2)


def build_model(opts):
    """A randomly initialised BertForSequenceClassification of the options' shape, seed 0."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(hidden_size=opts.hidden, num_hidden_layers=opts.layers,
                        num_attention_heads=opts.heads, intermediate_size=4 * opts.hidden,
                        vocab_size=opts.vocab, max_position_embeddings=max(512, opts.seq_len),
                        num_labels=2)
    torch.manual_seed(0)
    return BertForSequenceClassification(config)


def build_dataset(opts, n: int | None = None):
    """`n` (default: `--steps` x `--batch-size`) examples of random tokens and labels, seed 0."""
    import torch

    n = opts.steps * opts.batch_size if n is None else n
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, opts.vocab, (n, opts.seq_len), generator=generator)
    labels = torch.randint(0, 2, (n,), generator=generator)

    class Tokens(torch.utils.data.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return {"input_ids": ids[i], "attention_mask": torch.ones_like(ids[i]),
                    "labels": labels[i]}

    return Tokens()
