"""A sweep's runs grouped by shape: what one slice can stand for, and the order slices go in."""

from __future__ import annotations

from timing_trainer.pilot.grouping import (
    cache_hits,
    group_runs,
    shape_key,
    shape_values,
    slice_order,
)


def _run(**params):
    base = {"task_name": "rte", "model_name_or_path": "m1", "max_seq_length": 64,
            "per_device_train_batch_size": 8, "learning_rate": 1e-4}
    return {**base, **params}


def test_runs_that_differ_in_what_does_not_change_a_step_share_a_shape():
    runs = list(enumerate([_run(), _run(learning_rate=5e-5), _run(num_train_epochs=5),
                           _run(seed=3), _run(task_name="sst2")]))
    shapes = group_runs(runs, None)
    assert len(shapes) == 1 and shapes[0].runs == [0, 1, 2, 3, 4]


def test_model_length_batches_precision_and_modes_each_make_a_shape():
    variants = [_run(), _run(model_name_or_path="m2"), _run(max_seq_length=128),
                _run(per_device_train_batch_size=16), _run(per_device_eval_batch_size=32),
                _run(bf16=True), _run(fp16="True"), _run(lora_r=8), _run(torch_compile=True),
                _run(attn_implementation="eager"), _run(gradient_accumulation_steps=2)]
    shapes = group_runs(list(enumerate(variants)), None)
    assert [s.runs for s in shapes] == [[i] for i in range(len(variants))]
    assert shapes[5].values["precision"] == "bf16" and shapes[6].values["precision"] == "fp16"
    assert "lora=8" in shapes[7].label and "compile=True" in shapes[8].label


def test_written_defaults_and_spellings_are_the_same_shape():
    """`bf16=False` written or not, `max_seq_length` 128 (the default) written or not, a
    boolean as text: one shape."""
    a = shape_values({"model_name_or_path": "m1", "bf16": "false", "max_seq_length": 128}, None)
    b = shape_values({"model_name_or_path": "m1"}, None)
    assert shape_key(a) == shape_key(b)


def test_dynamic_padding_makes_the_data_part_of_the_shape():
    padded = shape_values(_run(), None)
    dynamic = [shape_values(_run(pad_to_max_length=False, task_name=t), None)
               for t in ("rte", "sst2")]
    assert "task_name" not in padded
    assert shape_key(dynamic[0]) != shape_key(dynamic[1])


def test_a_local_model_is_one_shape_however_its_path_is_written(tmp_path):
    (tmp_path / "models" / "m").mkdir(parents=True)
    relative = shape_values({"model_name_or_path": "models/m"}, tmp_path)
    absolute = shape_values({"model_name_or_path": str(tmp_path / "models" / "m")}, tmp_path)
    assert shape_key(relative) == shape_key(absolute)


def test_slices_go_round_robin_over_the_models():
    runs = [_run(model_name_or_path=m, per_device_train_batch_size=b)
            for m in ("m1", "m2") for b in (8, 16, 32)]
    order = slice_order(group_runs(list(enumerate(runs)), None))
    assert [(s.model, s.values["per_device_train_batch_size"]) for s in order] == [
        ("m1", 8), ("m2", 8), ("m1", 16), ("m2", 16), ("m1", 32), ("m2", 32)]


def test_the_first_run_of_a_tokenization_tokenizes_and_the_others_read_the_cache():
    runs = list(enumerate([_run(), _run(per_device_train_batch_size=16), _run(max_seq_length=128),
                           _run(use_tokenization_cache=False)]))
    assert cache_hits(runs, None) == {0: False, 1: True, 2: False, 3: False}
