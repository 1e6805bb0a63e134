"""The GLUE program: fine-tune and evaluate one task under `TimingTrainer`, and say how it went.

`python -m timing_trainer.glue --task_name rte --model_name_or_path M [--data_dir D] ...`

Flow: parse the arguments; check the task's data (TSV files and their columns, before anything
slow happens) and the model path; load tokenizer, config and model (setup part `model_load`);
tokenize, or take the tokenized splits from the cache (setup part `tokenize`); then the timed
part: `train()` (`finetuning_iters` whole fine-tunings from the same state) and one timed
`evaluate()` per evaluation set (MNLI: matched with prefix `eval`, mismatched with `eval_mm`).
Without `--do_train`/`--do_eval` both happen; with one of them only that one.

Exit status (what a sweep agent sees; `timing_trainer.glue.failures` reports all but 0):
- 0: finished; `OUTPUT_DIR/timing_results.json` has `status: finished`.
- 1: failed with an exception; the results file says `failed`, kind `exception`; the traceback
  is in `OUTPUT_DIR/error_traceback.txt`.
- 2: bad input (unknown task or option, missing TSV file or column, a TSV row that does not
  match its header, model path that does not exist, `--max_seq_length 0`, an unknown
  `WANDB_MODE`, ...): one line on stderr, nothing run, no results file. Also a write the file
  system refuses during the run (full disk, read-only folder, name too long, no permission):
  one line naming the path, and the results file says `failed` where it can still be written.
- 3: out of memory (CUDA, MPS or CPU): the results file says `failed`, kind `oom`.
- 130: interrupted (Ctrl-C, SIGINT): the results file says `failed`, kind `interrupted`.
- 143: terminated (SIGTERM: a scheduler's time limit, `docker stop`): the same as 130.
Failures 1, 3, 130 and 143 print one line on stderr (no traceback) and, with `--report_to wandb`,
mark the W&B run failed. W&B online without a login is exit 1 with one line naming the fixes.
A reader that goes away (`... | head -1`) changes nothing: output it would have read is dropped
and the status is the run's own (timing_trainer.runtime.pipe_guard).
Until the run ends the results file says `running` (a SIGKILLed run leaves it so); `finished`
is written after the last evaluation. The process's start-up (interpreter start to the parsed
arguments in `main`, imports of torch and transformers included) is setup part `startup`.
The W&B project is `$WANDB_PROJECT`, by default `timing-trainer`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from timing_trainer.errors import (
    GlueInputError,
    OutputFolderInUseError,
    WandbModeError,
    WandbNotLoggedInError,
)
from timing_trainer.glue.arguments import DataArguments, ModelArguments, parse_args
from timing_trainer.glue.failures import (
    PROG,
    report_bad_input,
    report_failure,
    report_file_system,
    report_wandb_login,
)
from timing_trainer.runtime import exit_codes
from timing_trainer.runtime.atomic import check_writable_folder, file_system_error
from timing_trainer.runtime.pipe_guard import guarded_output
from timing_trainer.tasks import GlueTask, get_task

logger = logging.getLogger("timing_trainer.glue")

DEFAULT_WANDB_PROJECT = "timing-trainer"
IN_PROCESS_STARTUP = ("not measured: main() was called in a running process with an argument "
                      "list, so the process's start-up is not this run's")


def load_model(model_args: ModelArguments, task: GlueTask, max_seq_length: int | None = None,
               padding_free: bool = False):
    """Tokenizer and sequence-classification model (a fresh head with the task's labels).
    `max_seq_length` is checked against the config and the tokenizer before the model loads
    (a bad one is one line, exit 2, without the model's load)."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from timing_trainer.glue.model_files import loading
    from timing_trainer.glue.modes import check_padding_free
    from timing_trainer.glue.validation import check_max_seq_length

    name = model_args.model_name_or_path
    common = {"cache_dir": model_args.cache_dir, "revision": model_args.model_revision}
    # Each part's failure (not found, damaged file, not a classification model) is one line
    # naming that part; out of memory keeps exit status 3.
    with loading("config", model_args.config_name or name):
        config = AutoConfig.from_pretrained(
            model_args.config_name or name, num_labels=task.num_labels,
            finetuning_task=task.name, **common,
        )
    if task.is_regression:
        config.problem_type = "regression"
    else:
        config.problem_type = "single_label_classification"
        config.id2label = dict(enumerate(task.labels))
        config.label2id = {label: i for i, label in enumerate(task.labels)}
    with loading("tokenizer", model_args.tokenizer_name or name):
        tokenizer = AutoTokenizer.from_pretrained(
            model_args.tokenizer_name or name, use_fast=model_args.use_fast_tokenizer, **common
        )
    if max_seq_length is not None:
        check_max_seq_length(tokenizer, config, task, max_seq_length, name)
    if padding_free:
        check_padding_free(config, model_args.attn_implementation)  # before the weights
    attn = {"attn_implementation": model_args.attn_implementation}
    with loading("model", name):
        model = AutoModelForSequenceClassification.from_pretrained(
            name, config=config, ignore_mismatched_sizes=model_args.ignore_mismatched_sizes,
            **common, **(attn if model_args.attn_implementation else {}),
        )
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:  # GPT-style tokenizers
        tokenizer.pad_token = tokenizer.eos_token
        model.config.pad_token_id = tokenizer.pad_token_id
    return tokenizer, model


class GlueRun:
    """One run of the program; keeps what a failure report needs (config, setup times, trainer)."""

    def __init__(self, model_args: ModelArguments, data_args: DataArguments, training_args: Any):
        self.model_args = model_args
        self.data_args = data_args
        self.training_args = training_args
        self.task = get_task(data_args.task_name)
        self.config: dict[str, Any] = self._config()
        self.setup_times: dict[str, float] = {}
        self.notes: dict[str, str] = {}  # why a figure is unavailable (startup unknown)
        self.trainer: Any = None

    # --- configuration ----------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
        """The results' config before the trainer exists (a failure while loading writes it): the
        program's arguments, the task, and the hyperparameters the trainer records too."""
        from timing_trainer.arguments import run_config
        from timing_trainer.glue.modes import compile_config
        from timing_trainer.runtime.masking import is_secret_name

        args = self.training_args
        config: dict[str, Any] = {
            **asdict(self.model_args), **asdict(self.data_args),
            "task_name": self.task.name, "task_display_name": self.task.display_name,
            "num_labels": self.task.num_labels,
            **run_config(args, args),
            "fp16": args.fp16, "bf16": args.bf16, "tf32": args.tf32, "output_dir": args.output_dir,
            **compile_config(args),
        }
        return {key: value for key, value in config.items() if not is_secret_name(key)}

    @property
    def output_dir(self) -> Path:
        return Path(self.training_args.output_dir)

    def is_main_process(self) -> bool:
        return getattr(self.training_args, "process_index", 0) == 0

    def record_into(self, results: Any) -> None:
        """What the run knows before the trainer measures: config, setup times, notes."""
        results.config.update(self.config)
        for name, seconds in self.setup_times.items():
            results.add_setup_time(name, seconds)
        results.notes.update(self.notes)

    # --- the run ----------------------------------------------------------------------------
    def execute(self) -> int:
        """Run, and turn any failure into a results file, a W&B status and an exit code."""
        try:
            self._run()
        except (GlueInputError, WandbModeError, OutputFolderInUseError) as exc:
            return report_bad_input(exc)
        except WandbNotLoggedInError as exc:
            return report_wandb_login(self, exc)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - every failure is reported
            refused = file_system_error(exc)  # a full disk, a read-only folder: one line, exit 2
            if refused is not None:
                return report_file_system(self, refused)
            return report_failure(self, exc)
        return exit_codes.OK

    def record_startup(self, seconds: float | None, reason: str | None) -> None:
        """The process's start-up as setup part `startup`, or the reason it is unknown."""
        if seconds is not None:
            self.setup_times["startup"] = seconds
        else:
            self.notes["setup_time_parts.startup"] = reason or "not measured"

    def _run(self) -> None:
        from timing_trainer.glue.validation import steps_requested

        source = self._check_input()
        tokenizer, model = self._load()
        tokenized = self._tokenize(source, tokenizer)
        trainer = self._build_trainer(model, tokenizer, tokenized)
        do_train, do_eval = steps_requested(self.training_args)
        if do_train:
            trainer.train()
        if do_eval:
            for split in self.task.eval_splits:
                trainer.evaluate(
                    eval_dataset=tokenized.datasets[split.name], metric_key_prefix=split.key_prefix
                )
        if self.is_main_process():
            path = trainer.finish_timing_results()  # the last measurement is in: finished
            self._print_summary(path)
            _finish_wandb_run()

    def _check_input(self) -> Any:
        """Bad input first: these checks are cheap, loading a model is not. Returns the data
        source (a TSV folder is read whole here; the Hub dataset loads later)."""
        from timing_trainer.glue.data import open_source
        from timing_trainer.glue.hub_access import check_hub_reachable
        from timing_trainer.glue.model_files import check_model_folder
        from timing_trainer.glue.modes import check_modes_available
        from timing_trainer.glue.validation import validate_arguments
        from timing_trainer.results.placement import hold_folder
        from timing_trainer.results.wandb_logging import check_wandb_login, reports_to_wandb
        from timing_trainer.runtime.wandb_mode import check_wandb_mode

        model_args, data_args, args = self.model_args, self.data_args, self.training_args
        wandb = reports_to_wandb(args)
        if wandb:
            check_wandb_mode()  # WANDB_MODE=bogus: one line naming the accepted values
            os.environ.setdefault("WANDB_PROJECT", DEFAULT_WANDB_PROJECT)
        validate_arguments(args)
        check_modes_available(model_args, args)  # flash_attention_2, peft
        check_model_folder(model_args)
        source = open_source(self.task, data_args.data_dir, data_args.dataset_name,
                             model_args.cache_dir)
        check_hub_reachable(model_args, data_args)
        if self.is_main_process():  # a folder refused now is one line before the model loads
            check_writable_folder(self.output_dir)
            hold_folder(self.output_dir)  # another process timing into it: refused here
        self.config.update({"data_source": source.kind, "data_location": source.location})
        if wandb:
            check_wandb_login()  # before the model loads: one line naming the fixes
        return source

    def _load(self) -> tuple[Any, Any]:
        """Tokenizer and model (setup part `model_load`; `--max_seq_length` checked between),
        with the modes applied (LoRA's adapters: part of the load) and recorded, and where the
        model was and its config (`model_record`: the cost model's shape from any folder)."""
        from transformers import set_seed

        from timing_trainer.glue.model_record import model_record
        from timing_trainer.glue.modes import prepare_model

        set_seed(self.training_args.seed)  # the classifier head's initial weights
        started = time.perf_counter()
        tokenizer, model = load_model(self.model_args, self.task, self.data_args.max_seq_length,
                                      self.data_args.padding_free)
        loaded = model.config  # the model's own, before LoRA wraps it
        model, modes = prepare_model(model, self.model_args, self.data_args)
        self.config.update(modes)
        self.setup_times["model_load"] = time.perf_counter() - started
        self.config.update(model_record(self.model_args, loaded))  # for the cost model
        return tokenizer, model

    def _tokenize(self, source: Any, tokenizer: Any):
        """The tokenized splits, from the cache or made now (setup part `tokenize`)."""
        started = time.perf_counter()
        from timing_trainer.glue.tokenization import TokenizationSettings, prepare_tokenized

        data_args = self.data_args
        settings = TokenizationSettings(
            max_seq_length=data_args.max_seq_length,
            pad_to_max_length=data_args.pad_to_max_length,
            max_train_samples=data_args.max_train_samples,
            max_eval_samples=data_args.max_eval_samples,
        )
        # Rank 0 tokenizes (and fills the cache) first; the other ranks then read the cache.
        with self.training_args.main_process_first(desc="tokenization"):
            tokenized = prepare_tokenized(
                source, tokenizer, self.task, settings, data_args.tokenization_cache_dir,
                data_args.use_tokenization_cache,
            )
        datasets = tokenized.datasets
        primary = self.task.eval_splits[0].name
        self.config.update({
            "tokenization_cache": tokenized.cache_status,
            "n_train_samples": len(datasets["train"]),
            "n_eval_samples": len(datasets[primary]),
        })
        for split in self.task.eval_splits[1:]:
            self.config[f"n_{split.key_prefix}_samples"] = len(datasets[split.name])
        self.setup_times["tokenize"] = time.perf_counter() - started
        return tokenized

    def _build_trainer(self, model: Any, tokenizer: Any, tokenized: Any):
        from timing_trainer import TimingTrainer
        from timing_trainer.glue.metrics import make_compute_metrics
        from timing_trainer.glue.modes import make_collator

        args = self.training_args
        collator = make_collator(self.data_args, args, tokenizer, model)
        primary = self.task.eval_splits[0].name
        trainer = TimingTrainer(
            model=model,
            args=args,
            train_dataset=tokenized.datasets["train"],
            eval_dataset=tokenized.datasets[primary],
            processing_class=tokenizer,
            data_collator=collator,
            compute_metrics=make_compute_metrics(self.task),
        )
        self.trainer = trainer
        self.record_into(trainer.timing_results)
        return trainer

    def _print_summary(self, path: Any) -> None:
        """The run's one line (`summary_line.program_line`)."""
        from timing_trainer.results.summary_line import program_line

        data = self.trainer.timing_results.to_dict()
        print(program_line(data, path, PROG, self.task.display_name))


def _finish_wandb_run() -> None:
    """End a finished run's W&B run now (exit code 0), not at interpreter exit: the results are
    complete, and a caller that runs `main()` twice in one process gets two runs."""
    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.run.finish()


def _configure_logging() -> None:
    """Log lines to stdout, so stderr keeps the one-line reasons a sweep log should show."""
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S",
        stream=sys.stdout, level=logging.WARNING,
    )
    logger.setLevel(logging.INFO)
    _one_line_timing_warnings()


def _one_line_timing_warnings() -> None:
    """Show the trainer's own warnings (noise, unavailable figures) as one `note:` line on
    stdout, not as Python's two-line warning with a source line: they are findings about the
    run, read in a sweep's `run.log`. Other warnings keep Python's format."""
    import warnings

    from timing_trainer.errors import TimingNoiseWarning, UnavailableFiguresWarning

    original = warnings.showwarning
    if getattr(original, "timing_notes", False):  # main() ran before in this process
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, (TimingNoiseWarning, UnavailableFiguresWarning)):
            print(f"{PROG}: note: {message}", file=sys.stdout)
        else:
            original(message, category, filename, lineno, file, line)

    show.timing_notes = True
    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    """Run the program with `argv` (default: the command line) and return the exit status.

    Called with the command line (`argv` None), the process's start-up is recorded as setup
    part `startup`: from the interpreter's start to the parsed arguments, imports included
    (parsing imports torch and transformers); called in-process with an argument list, the
    process's start is not this run's, and `unavailable` says so.
    """
    with guarded_output():  # a reader that goes away (`| head -1`) changes no outcome
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    from timing_trainer.runtime.masking import mask_argv
    from timing_trainer.runtime.signals import sigterm_as_interrupt
    from timing_trainer.runtime.startup import process_age

    try:
        model_args, data_args, training_args = parse_args(argv)
    except GlueInputError as exc:
        return report_bad_input(exc)
    startup = process_age() if argv is None else (None, IN_PROCESS_STARTUP)
    # In place, before anything records the command line (W&B's run metadata reads sys.argv):
    # a --hub_token reaches no file. The parsed arguments keep the real value.
    sys.argv[:] = mask_argv(sys.argv)
    _configure_logging()
    with sigterm_as_interrupt():  # SIGTERM: failed, interrupted, exit 143
        glue_run = GlueRun(model_args, data_args, training_args)
        glue_run.record_startup(*startup)
        return glue_run.execute()
