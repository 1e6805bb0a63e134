"""Tiny BERT and random token data for the core's tests: no download, a second on one core."""

from __future__ import annotations

import numpy as np


def tiny_bert(num_labels: int = 2, seed: int = 0):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, vocab_size=100, max_position_embeddings=64,
                        num_labels=num_labels)
    torch.manual_seed(seed)
    return BertForSequenceClassification(config)


def token_dataset(n: int, seq_len: int = 16, seed: int = 0, num_labels: int = 2):
    """Random token ids with labels; the label is a function of the first token, so it is learnable."""
    from datasets import Dataset

    rng = np.random.default_rng(seed)
    ids = rng.integers(1, 100, size=(n, seq_len))
    labels = (ids[:, 0] % num_labels).astype(int)
    return Dataset.from_dict({
        "input_ids": ids.tolist(),
        "attention_mask": np.ones_like(ids).tolist(),
        "labels": labels.tolist(),
    })


def accuracy(eval_prediction):
    predictions = np.argmax(eval_prediction.predictions, axis=-1)
    return {"accuracy": float((predictions == eval_prediction.label_ids).mean())}
