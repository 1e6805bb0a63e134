"""A typical Hugging Face setup without a download: a word-level BERT tokenizer from a small
vocabulary file, sentences of different lengths, tokenized without padding (so the Trainer pads
each batch with `DataCollatorWithPadding`, the tokenizer being the `processing_class`)."""

from __future__ import annotations

import os

import numpy as np

WORDS = ("good bad fine great poor movie film plot actor scene story music long short "
         "funny dull warm cold bright dark").split()
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_tokenizer(folder: str):
    """A BertTokenizerFast over SPECIAL + WORDS, written to and loaded from `folder`."""
    from transformers import BertTokenizerFast

    os.makedirs(folder, exist_ok=True)
    vocab = os.path.join(folder, "vocab.txt")
    with open(vocab, "w", encoding="utf-8") as handle:
        handle.write("\n".join(SPECIAL + list(WORDS)) + "\n")
    return BertTokenizerFast(vocab_file=vocab, model_max_length=64)


def sentences(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """`n` sentences of 2 to 20 words; label 1 when "good" or "great" occurs."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        words = rng.choice(WORDS, size=int(rng.integers(2, 21))).tolist()
        texts.append(" ".join(words))
        labels.append(int("good" in words or "great" in words))
    return texts, labels


def text_dataset(tokenizer, n: int, seed: int = 0):
    """A tokenized `datasets.Dataset` (input_ids, token_type_ids, attention_mask, labels), unpadded."""
    from datasets import Dataset

    texts, labels = sentences(n, seed)
    encoded = tokenizer(texts, truncation=True, max_length=32)
    return Dataset.from_dict({**encoded, "labels": labels})


def real_lengths(dataset) -> list[int]:
    return [len(ids) for ids in dataset["input_ids"]]
