"""The timing options, declared once in `TimingOptions`, as `TimingTrainingArguments` flags."""

from dataclasses import fields

import pytest
from transformers import HfArgumentParser, TrainingArguments
from transformers.trainer_utils import IntervalStrategy

from timing_trainer.arguments import (
    TIMING_OPTION_NAMES,
    TimingOptions,
    TimingTrainingArguments,
    run_config,
    timing_options_for,
)


def test_the_arguments_inherit_the_one_declaration():
    declared = {f.name: f for f in fields(TimingTrainingArguments)}
    for option in fields(TimingOptions):
        assert declared[option.name] is option  # the same field: default, type and help
    names = [f.name for f in fields(TimingTrainingArguments)]
    assert names[-len(TIMING_OPTION_NAMES):] == list(TIMING_OPTION_NAMES)


def test_every_option_is_a_flag_with_its_help(tmp_path):
    parser = HfArgumentParser(TimingTrainingArguments)
    help_text = " ".join(parser.format_help().split())
    for option in fields(TimingOptions):
        assert f"--{option.name}" in help_text
        assert " ".join(option.metadata["help"].split()[:6]) in help_text, option.name
    (args,) = parser.parse_args_into_dataclasses(
        ["--output_dir", str(tmp_path), "--timing_warmup_steps", "0", "--cv_warning_threshold",
         "0.2", "--eval_and_save_while_timing", "--write_timing_results", "False",
         "--report_to", "none"])
    assert args.timing_warmup_steps == 0 and args.cv_warning_threshold == 0.2
    assert args.eval_and_save_while_timing is True and args.write_timing_results is False
    (defaults,) = parser.parse_args_into_dataclasses(["--output_dir", str(tmp_path)])
    assert defaults.timing_options() == TimingOptions()


def test_both_checks_run(tmp_path):
    args = TimingTrainingArguments(output_dir=str(tmp_path), eval_strategy="steps",
                                   report_to="none")
    assert args.eval_strategy is IntervalStrategy.STEPS  # TrainingArguments.__post_init__ ran
    with pytest.raises(ValueError, match="cv_warning_threshold must be a positive number"):
        TimingTrainingArguments(output_dir=str(tmp_path), cv_warning_threshold=0)
    with pytest.raises(ValueError, match="timing_warmup_steps must be an integer >= 0"):
        TimingOptions(timing_warmup_steps=-1)


def test_timing_options_are_a_plain_options_object(tmp_path):
    args = TimingTrainingArguments(output_dir=str(tmp_path), finetuning_iters=4, peak_tflops=9.5,
                                   report_to="none")
    options = args.timing_options()
    assert type(options) is TimingOptions  # W&B's config logs vars(options): no tokens in it
    assert options == TimingOptions(finetuning_iters=4, peak_tflops=9.5)
    assert timing_options_for(args) == options
    plain = TrainingArguments(output_dir=str(tmp_path), report_to="none")
    fallback = TimingOptions(finetuning_iters=2)
    assert timing_options_for(plain, fallback) is fallback
    assert timing_options_for(plain) == TimingOptions()


def test_run_config_takes_the_timing_options_from_the_options_in_use(tmp_path):
    plain = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, seed=7,
                              report_to="none")
    config = run_config(plain, TimingOptions(finetuning_iters=5, timing_warmup_steps=0))
    assert config["finetuning_iters"] == 5 and config["timing_warmup_steps"] == 0
    assert config["per_device_train_batch_size"] == 4 and config["seed"] == 7
    assert "output_dir" not in config
