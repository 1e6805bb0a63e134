"""W&B logging: an offline run carries config, flat summary (eval metrics at top level), one
history row per fine-tuning iteration, and a failed run ends with a non-zero exit code."""

import glob
import json
import os
import sys

import pytest
import torch
from helpers.tiny import accuracy, tiny_bert, token_dataset
from helpers.wandb_file import read_finished_run
from transformers import TrainerCallback

from timing_trainer import TimingTrainer, TimingTrainingArguments
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.results.wandb_logging import WandbReporter, reports_to_wandb, wandb_config

torch.set_num_threads(1)
wandb = pytest.importorskip("wandb")


def _run_files(run_dir):
    return glob.glob(os.path.join(run_dir, "*.wandb"))


def _args(tmp_path, **kwargs):
    defaults = dict(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8,
                    num_train_epochs=1, finetuning_iters=3, report_to=["wandb"], use_cpu=True,
                    disable_tqdm=True, logging_steps=1, run_name="core-test",
                    cv_warning_threshold=10.0)
    defaults.update(kwargs)
    return TimingTrainingArguments(**defaults)


def test_offline_run_carries_the_figures(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path),
                            train_dataset=token_dataset(16), eval_dataset=token_dataset(8, seed=1),
                            compute_metrics=accuracy)
    trainer.timing_results.config.update({"task_name": "mnli", "max_seq_length": 16})
    trainer.train()
    assert dict(wandb.run.summary)["status"] == "running"
    trainer.evaluate()  # after a completed train(): the run is finished, later ones add to it
    trainer.evaluate(eval_dataset=token_dataset(8, seed=2), metric_key_prefix="eval_mm")
    assert dict(wandb.run.summary)["status"] == "finished"
    trainer.finish_timing_results()
    summary = dict(wandb.run.summary)
    run_dir = os.path.dirname(wandb.run.dir)
    run_id = wandb.run.id
    results = trainer.timing_results.to_dict()
    wandb.finish()
    assert results["wandb_run_id"] == run_id  # counts a run seen through two sources once

    files = _run_files(run_dir)
    assert len(files) == 1
    assert len(glob.glob(os.path.join(os.path.dirname(run_dir), "offline-run-*"))) == 1, \
        "three iterations must share one W&B run"
    run = read_finished_run(files[0])
    for key in ("finetuning_time", "finetuning_time_list", "finetuning_time_cv", "inference_time",
                "inference_total_time", "train_samples_per_second", "eval_accuracy",
                "eval_mm_accuracy", "eval_mm_inference_time", "status"):
        assert key in summary, key
        assert key in run["summary"], key
    assert run["summary"]["finetuning_time"] == results["finetuning_time"]
    assert run["summary"]["eval_accuracy"] == results["eval_metrics"]["eval_accuracy"]
    assert run["summary"]["status"] == "finished"
    rows = [row for row in run["history"] if "finetuning_iteration" in row]
    assert [row["finetuning_iteration"] for row in rows] == [0, 1, 2]
    # transformers' callback logs a loss row per step: 3 iterations x 2 steps; the 3 warm-up
    # steps left no row.
    assert trainer.timing_results.setup_time_parts["warmup"] > 0
    assert len([row for row in run["history"] if "train/loss" in row]) == 3 * 2
    assert [row["finetuning_iteration_time"] for row in rows] == results["finetuning_time_list"]
    config = run["config"]
    assert config["task_name"] == "mnli" and config["max_seq_length"] == 16
    assert config["finetuning_iters"] == 3 and config["learning_rate"] == 5e-5
    assert config["environment"]["device"] == "cpu"
    assert run["exit_code"] == 0


def test_failed_run_is_marked_failed(tmp_path):
    class Crash(TrainerCallback):
        run_dir = None

        def on_step_end(self, args, state, control, **kwargs):
            Crash.run_dir = os.path.dirname(wandb.run.dir)
            raise ValueError("something broke")

    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, finetuning_iters=1),
                            train_dataset=token_dataset(8), callbacks=[Crash()])
    with pytest.raises(ValueError):
        trainer.train()
    assert wandb.run is None  # finished, with a non-zero exit code
    run = read_finished_run(glob.glob(os.path.join(Crash.run_dir, "*.wandb"))[0])
    assert run["exit_code"] == 1
    assert run["summary"]["status"] == "failed"
    assert run["summary"]["error_kind"] == "exception"


def test_report_to_detection():
    class Args:
        report_to = ["tensorboard", "wandb"]

    assert reports_to_wandb(Args())
    Args.report_to = "none"
    assert not reports_to_wandb(Args())
    Args.report_to = []
    assert not reports_to_wandb(Args())


def test_disabled_reporter_does_nothing():
    reporter = WandbReporter(enabled=False)
    assert reporter.run() is None
    reporter.update_summary({"x": 1})
    reporter.log_iteration(0, 1.0)
    reporter.finish_failed()
    assert not WandbReporter(enabled=True, is_main_process=False).enabled


def test_config_leaves_secrets_out(tmp_path):
    args = TimingTrainingArguments(output_dir=str(tmp_path), hub_token="hf_secret", use_cpu=True,
                                   report_to="none")
    config = wandb_config(args, args.timing_options(), {"task_name": "rte"}, {"device": "cpu"})
    assert "hf_secret" not in repr(config)
    assert config["task_name"] == "rte" and config["finetuning_iters"] == 3
    assert config["environment"] == {"device": "cpu"}


@pytest.fixture
def wandb_online_without_login(tmp_path, monkeypatch):
    """W&B online, no API key, no netrc, a server that cannot be reached (fails fast)."""
    monkeypatch.setenv("WANDB_MODE", "online")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NETRC", str(tmp_path / "home" / ".netrc"))
    monkeypatch.delenv("WANDB_SILENT", raising=False)


def test_not_logged_in_is_one_line_and_a_failed_results_file(tmp_path, caplog,
                                                             wandb_online_without_login):
    from timing_trainer.errors import WandbNotLoggedInError

    # Refused at construction, before anything asks the (unreachable) server.
    with pytest.raises(WandbNotLoggedInError) as caught:
        TimingTrainer(model=tiny_bert(), args=_args(tmp_path), train_dataset=token_dataset(8))
    message = str(caught.value)
    assert "\n" not in message
    assert "wandb login" in message and "WANDB_MODE=offline" in message
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    assert data["status"] == "failed" and data["error"]["message"] == message
    assert "could not record" not in caplog.text


def test_wandb_run_id_and_masked_argv(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["train.py", "--hub_token", "hf_secret", "--x=1",
                                      "--wandb_api_key=abc"])
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, finetuning_iters=1),
                            train_dataset=token_dataset(8))
    assert sys.argv == ["train.py", "--hub_token", "***", "--x=1", "--wandb_api_key=***"]
    trainer.train()
    run_id = wandb.run.id
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    wandb.finish()
    assert data["wandb_run_id"] == run_id
    assert "wandb_run_id" not in data["unavailable"]


def test_wandb_init_without_a_key_becomes_the_one_line(monkeypatch):
    from timing_trainer.errors import WandbNotLoggedInError
    from timing_trainer.results.wandb_logging import is_login_failure

    def refuse(**kwargs):
        raise wandb.errors.UsageError("No API key configured. Use `wandb login` to log in.")

    monkeypatch.setattr(wandb, "init", refuse)
    reporter = WandbReporter(enabled=True)
    with pytest.raises(WandbNotLoggedInError, match="WANDB_MODE=offline"):
        reporter.run()
    assert not reporter.enabled  # recording the failure will not try again
    assert is_login_failure(wandb.errors.UsageError("api_key not configured (no-tty)"))
    assert not is_login_failure(wandb.errors.UsageError("project name invalid"))
    assert not is_login_failure(ValueError("No API key configured"))


def test_only_the_last_iteration_reaches_the_wandb_callbacks_train_end(tmp_path):
    from transformers.integrations import WandbCallback

    class ArtifactWatch(WandbCallback):
        """A WandbCallback by class, not by name: it is silenced too; no W&B run starts."""

        train_ends = 0

        def setup(self, *args, **kwargs):
            self._initialized = True

        def on_log(self, *args, **kwargs):
            return None

        def on_train_end(self, *args, **kwargs):
            ArtifactWatch.train_ends += 1

    watch = ArtifactWatch()
    trainer = TimingTrainer(model=tiny_bert(),
                            args=_args(tmp_path, finetuning_iters=3, timing_warmup_steps=0,
                                       report_to="none"),
                            train_dataset=token_dataset(8), callbacks=[watch])
    trainer.train()
    assert ArtifactWatch.train_ends == 1  # the model artifact of the last iteration only
    assert "on_train_end" not in vars(watch)  # the callback's own method is back
