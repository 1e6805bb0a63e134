"""The trainer's FLOPs count per model: LoRA's training FLOPs for a peft model, the batch size
for DeBERTa, and an unknown architecture null with its reason."""

import pytest
import torch
from transformers import (
    AutoModelForSequenceClassification,
    BertConfig,
    DebertaV2Config,
    XLNetConfig,
)

from timing_trainer.clocks.batches import BatchCounter
from timing_trainer.results.flops import LoraSpec, count_flops

SMALL = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
         "intermediate_size": 48, "vocab_size": 100}


def _batch(size, length):
    return {"input_ids": torch.ones(size, length, dtype=torch.long),
            "attention_mask": torch.ones(size, length, dtype=torch.long)}


def test_a_peft_model_counts_lora_training_flops():
    from peft import LoraConfig, TaskType, get_peft_model

    model = get_peft_model(AutoModelForSequenceClassification.from_config(BertConfig(**SMALL)),
                           LoraConfig(task_type=TaskType.SEQ_CLS, r=4,
                                      target_modules=["query", "value"]))
    training = BatchCounter.for_model(model, training=True)
    full = BatchCounter(model.config, training=True)
    training.add(_batch(4, 16))
    full.add(_batch(4, 16))
    assert training.lora == LoraSpec(4, ("query", "value"), ("classifier", "score"))
    assert training.total_flops() == pytest.approx(count_flops(model.config, 16, 4,
                                                               training.lora)[1] * 64)
    assert training.total_flops() < 0.9 * full.total_flops()  # no frozen weights' gradients
    assert training.fresh().lora == training.lora
    plain = AutoModelForSequenceClassification.from_config(BertConfig(**SMALL))
    assert BatchCounter.for_model(plain, training=True).lora is None


def test_deberta_flops_follow_each_batch_size():
    config = DebertaV2Config(relative_attention=True, position_buckets=16, share_att_key=True,
                             pos_att_type="p2c|c2p", **SMALL)
    counter = BatchCounter(config, training=False)
    counter.add(_batch(8, 32))
    counter.add(_batch(1, 32))  # the last, short batch: its projections weigh more per token
    expected = count_flops(config, 32, 8)[0] * 8 * 32 + count_flops(config, 32, 1)[0] * 32
    assert counter.total_flops() == pytest.approx(expected)


def test_an_unknown_architecture_is_null_with_its_reason():
    counter = BatchCounter(XLNetConfig(d_model=32, n_layer=2, n_head=2, d_inner=48), training=True)
    counter.add(_batch(2, 8))
    assert counter.total_flops() is None
    assert "no FLOPs formula for architecture 'xlnet'" in counter.flops_reason()
    assert counter.tokens == 16  # the other counts go on
