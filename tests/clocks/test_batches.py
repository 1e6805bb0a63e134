"""Batch accounting for every input the Trainer sees: dict, BatchEncoding, dynamic padding,
no attention mask; FLOPs follow the padded shapes that ran."""

import pytest
import torch
from helpers.text import text_dataset, tiny_tokenizer
from transformers import BatchEncoding, BertConfig, DataCollatorWithPadding

from timing_trainer.clocks.batches import BatchCounter, batch_shape
from timing_trainer.results.flops import forward_flops_per_token, training_flops_per_token

CONFIG = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=64, vocab_size=100)


def _collated(tmp_path, n, batch_size):
    tokenizer = tiny_tokenizer(str(tmp_path / "tok"))
    dataset = text_dataset(tokenizer, n)
    collator = DataCollatorWithPadding(tokenizer)
    rows = [dataset[i] for i in range(n)]
    return [collator(rows[i:i + batch_size]) for i in range(0, n, batch_size)], dataset


def test_batch_encoding_from_the_padding_collator_is_counted(tmp_path):
    batches, dataset = _collated(tmp_path, 12, 4)
    assert all(isinstance(b, BatchEncoding) for b in batches)  # not a dict
    lengths = [b["input_ids"].shape[1] for b in batches]
    assert len(set(lengths)) > 1  # dynamic padding: each batch has its own length
    counter = BatchCounter(CONFIG, training=False)
    sizes = [counter.add(b) for b in batches]
    assert sizes == [4, 4, 4]
    assert counter.samples == 12
    assert counter.tokens == sum(4 * length for length in lengths)
    real = sum(len(ids) for ids in dataset["input_ids"])
    assert counter.real_tokens() == real < counter.tokens
    expected = sum(forward_flops_per_token(CONFIG, length) * 4 * length for length in lengths)
    assert counter.total_flops() == pytest.approx(expected)
    assert counter.flops_reason() is None


def test_training_counts_three_forwards(tmp_path):
    batches, _ = _collated(tmp_path, 8, 4)
    forward, training = BatchCounter(CONFIG, training=False), BatchCounter(CONFIG, training=True)
    for batch in batches:
        forward.add(batch)
        training.add(batch)
    assert training.total_flops() == pytest.approx(3 * forward.total_flops())
    shapes = [batch["input_ids"].shape for batch in batches]  # flops.py's one training rule
    assert training.total_flops() == sum(training_flops_per_token(CONFIG, seq) * size * seq
                                         for size, seq in shapes)


def test_inputs_without_attention_mask_count_every_token():
    counter = BatchCounter(CONFIG, training=False)
    counter.add({"input_ids": torch.ones(3, 7, dtype=torch.long), "labels": torch.zeros(3)})
    counter.add({"input_ids": torch.ones(2, 5, dtype=torch.long)})
    assert counter.samples == 5
    assert counter.tokens == 3 * 7 + 2 * 5
    assert counter.real_tokens() == counter.tokens


def test_mask_sums_are_device_tensors_read_later():
    counter = BatchCounter(CONFIG, training=False)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    counter.add({"input_ids": torch.ones(2, 3, dtype=torch.long), "attention_mask": mask})
    assert isinstance(counter._mask_sums[0], torch.Tensor)  # queued, not read with .item()
    assert counter.real_tokens() == 3


def test_shapes_from_any_mapping_and_nothing_from_other_inputs():
    assert batch_shape({"inputs_embeds": torch.zeros(2, 9, 4)}) == (2, 9)
    assert batch_shape({"labels": torch.zeros(6)}) == (6, None)
    assert batch_shape([torch.zeros(2, 3)]) is None
    counter = BatchCounter(CONFIG, training=False)
    assert counter.add([torch.zeros(2, 3)]) is None
    assert counter.real_tokens() is None and counter.total_flops() is None
    assert "no sequence dimension" in counter.flops_reason()


def test_unknown_architecture_gives_a_reason():
    counter = BatchCounter({"something": 1}, training=False)
    counter.add({"input_ids": torch.ones(2, 4, dtype=torch.long)})
    assert counter.total_flops() is None
    assert "layer count" in counter.flops_reason()
    assert "no config" in BatchCounter(None, training=False).flops_reason()
