"""The workload both core benchmarks time: a BERT built from a config (nothing to download).

On CUDA the defaults are BERT-base (hidden 768, 12 layers, vocab 30522, length 512, batch 32),
the size the goals are stated for; on CPU a small model, so that a run takes seconds.
"""

from __future__ import annotations

import argparse


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
