"""The one-line summaries: a script's line after `train()`, and a program's line for its run."""

from __future__ import annotations

from timing_trainer.results.summary_line import program_line, train_line

DATA = {
    "finetuning_time": 12.3456, "finetuning_time_list": [12.3456, 12.5, 13.0],
    "finetuning_time_cv": 0.021, "finetuning_energy_j": 250.0, "energy_source": "nvml",
    "inference_time": 0.0123, "eval_metrics": {"eval_accuracy": 0.65, "eval_f1": None},
    "config": {"task_name": "rte"},
}


def test_the_program_line_puts_the_task_first_in_fixed_units():
    line = program_line(DATA, "out/timing_results.json", "timing_trainer.glue", "RTE")
    assert line == ("timing_trainer.glue: RTE, finetuning_time 12.346 s (min of 3), 250.0 J "
                    "(nvml), inference_time 12.30 ms/batch, eval_accuracy 0.6500; "
                    "results: out/timing_results.json")


def test_the_program_line_leaves_out_what_was_not_measured():
    line = program_line({"eval_metrics": {"eval_accuracy": 0.5}}, "p", "prog", "SST-2")
    assert line == "prog: SST-2, eval_accuracy 0.5000; results: p"


def test_the_script_line_scales_units_and_names_its_task():
    line = train_line(DATA, "out/timing_results.json")
    assert line.startswith("timing-trainer: train [rte]: finetuning_time 12.346 s (min of 3, "
                           "CV 2.1%)")
    assert "250.0 J (nvml)" in line and line.endswith("results: out/timing_results.json")
