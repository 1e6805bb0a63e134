"""One declaration of the figures: the schema, the results, W&B's summary and the Trainer's metric
keys all come from timing_trainer.results.figures."""

import json
import subprocess
import sys

import pytest
from helpers.tiny import tiny_bert, token_dataset

from timing_trainer.results.figures import (
    EVAL_LIST_KEYS,
    EVAL_METRIC_KEYS,
    INFERENCE_KEYS,
    INFERENCE_MEASUREMENTS,
    TABLE_DTYPES,
    TABLE_FIGURES,
    TRAIN_METRIC_KEYS,
    EvaluationFigures,
    InferenceFigures,
    RunFigures,
    flat,
    keys,
    properties,
)
from timing_trainer.results.run_results import EvaluationRecord, TimingResults
from timing_trainer.results.schema import (
    EVALUATION_FIGURES,
    FIGURES,
    RESULTS_JSON_SCHEMA,
    empty_results,
    validate_results,
)

# The keys a results file holds beside the figures (bookkeeping and nested parts).
_NOT_FIGURES = {"schema_version", "status", "error", "created_at", "config", "environment",
                "setup_time_parts", "evaluations", "eval_metrics", "unavailable"}


def _measured_results():
    results = TimingResults(config={"task_name": "mnli"}, environment={"device": "cpu"})
    results.add_setup_time("model_load", 1.5)
    results.finetuning_times = [3.0, 2.0]
    results.train_samples, results.train_tokens, results.train_flops = 40, 40 * 16, 1e9
    results.peak_tflops = 1.0
    for name in ("eval", "eval_mm"):
        results.add_evaluation(EvaluationRecord(
            name=name, total_time=0.5, batch_times=[0.2, 0.1], forward_times=[0.15, 0.05],
            batch_sizes=[8, 8], batch_size=8, n_samples=16, n_tokens=256, flops=1e8,
            metrics={f"{name}_accuracy": 0.5}))
    return results


def test_the_schema_properties_are_the_declaration():
    schema_properties = RESULTS_JSON_SCHEMA["properties"]
    for key, spec in properties(RunFigures).items():
        assert schema_properties[key] is spec, key
    entry = schema_properties["evaluations"]["items"]["properties"]
    for key, spec in properties(EvaluationFigures).items():
        assert entry[key] is spec, key
    assert FIGURES == keys(RunFigures) and EVALUATION_FIGURES == keys(EvaluationFigures)
    assert set(schema_properties) == set(FIGURES) | _NOT_FIGURES
    assert set(INFERENCE_KEYS) <= set(FIGURES) and set(INFERENCE_KEYS) <= set(EVALUATION_FIGURES)


def test_the_file_writes_exactly_the_declared_figures():
    results = _measured_results()
    data = results.to_dict()
    validate_results(data)
    assert set(data) == set(FIGURES) | _NOT_FIGURES
    assert {key: data[key] for key in FIGURES} == flat(results.figures())
    assert data["mfu_train"] == pytest.approx(1e9 / 2.0 / 1e12)
    entry = data["evaluations"][1]
    assert {key: entry[key] for key in EVALUATION_FIGURES} == flat(results.evaluations[1].figures())
    assert set(entry) == {"name", *EVALUATION_FIGURES, "inference_batch_sizes", "metrics",
                          "unavailable"}
    assert set(empty_results()) <= set(data)


def test_a_misspelt_figure_is_an_error():
    with pytest.raises(TypeError):
        InferenceFigures(inference_tme=0.1)  # the producers fill these classes by name


def test_flat_copies_lists_and_opens_groups():
    figures = RunFigures()
    times = [1.0, 2.0]
    figures.finetuning.finetuning_time_list = times
    figures.finetuning.energy.finetuning_energy_j = 5.0
    out = flat(figures)
    assert list(out) == list(FIGURES)
    assert out["finetuning_time_list"] == times and out["finetuning_time_list"] is not times
    assert out["finetuning_energy_j"] == 5.0


def test_summary_keys_come_from_the_declaration():
    results = _measured_results()
    summary = results.summary()
    expected = {"status", "error_kind", *FIGURES, "eval_accuracy", "eval_mm_accuracy",
                "setup_time_model_load", *(f"eval_mm_{key}" for key in INFERENCE_MEASUREMENTS)}
    assert set(summary) == expected
    assert "eval_mm_inference_timer" not in summary  # a label, the same for every set
    assert summary["eval_mm_forward_time"] == 0.05


def test_trainer_metric_keys_come_from_the_declaration(tmp_path):
    from timing_trainer import TimingTrainer, TimingTrainingArguments

    args = TimingTrainingArguments(
        output_dir=str(tmp_path), per_device_train_batch_size=8, per_device_eval_batch_size=8,
        num_train_epochs=1, finetuning_iters=1, timing_warmup_steps=0, report_to="none",
        use_cpu=True, disable_tqdm=True, save_strategy="no")
    trainer = TimingTrainer(model=tiny_bert(), args=args, train_dataset=token_dataset(16),
                            eval_dataset=token_dataset(16))
    train_metrics = trainer.train().metrics
    assert set(TRAIN_METRIC_KEYS) <= set(train_metrics)
    assert "train_steps" not in train_metrics  # a count, not a metric of the Trainer's
    eval_metrics = trainer.evaluate()
    ours = {key for key in eval_metrics if key.removeprefix("eval_") in INFERENCE_KEYS}
    assert ours == {f"eval_{key}" for key in EVAL_METRIC_KEYS + EVAL_LIST_KEYS}
    data = trainer.timing_results.to_dict()
    assert all(train_metrics[key] == data[key] for key in TRAIN_METRIC_KEYS)


def test_table_figures_match_the_analysis_columns():
    from timing_trainer.analysis.table.columns import COLUMNS

    assert set(TABLE_FIGURES) <= set(FIGURES)
    for key in TABLE_FIGURES:
        assert COLUMNS[key] == TABLE_DTYPES[key], key


def test_the_declaration_loads_without_torch():
    code = ("import sys, timing_trainer.results.figures, timing_trainer.results.schema; "
            "print(json.dumps(sorted(m for m in ('torch', 'transformers') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout) == []
