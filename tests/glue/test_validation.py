"""Bad input to the GLUE program: one line, exit status 2, before any model or data is loaded.

Every case runs through `main()` with stderr captured and `load_model` replaced by a function
that fails the test (the one exception: a `--max_seq_length` too short for the tokenizer's
special tokens needs the tokenizer, and is caught once it loads, before the model:
test_max_seq_length.py). A representative set runs again as real processes, as a sweep agent
sees them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from timing_trainer.errors import GlueInputError
from timing_trainer.glue import run
from timing_trainer.glue.arguments import default_output_dir, parse_args
from timing_trainer.glue.validation import validate_arguments
from timing_trainer.results.schema import RESULTS_FILENAME

ASSETS = {"tasks": ["rte", "stsb", "sst2"], "train_size": 8, "dev_size": 4}


def _argv(assets, out, *extra, task="rte", data_dir=None, model=None):
    return [
        f"--task_name={task}", f"--model_name_or_path={model or assets / 'models' / 'tiny-uncased'}",
        f"--data_dir={data_dir or assets}", f"--output_dir={out}",
        f"--tokenization_cache_dir={out.parent / 'cache'}", "--max_seq_length=32",
        "--num_train_epochs=1", "--finetuning_iters=1", "--report_to=none", "--use_cpu=True",
        "--disable_tqdm=True", *extra,
    ]


def _copy_model(assets, tmp_path, damage):
    folder = tmp_path / "model"
    shutil.copytree(assets / "models" / "tiny-uncased", folder)
    damage(folder)
    return folder


def _truncate(folder):
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size * 9 // 10])


def _retype(folder):
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "hidden_size": "32"}))


def _data_with(assets, tmp_path, task_dir, file, line):
    root = tmp_path / "data"
    shutil.copytree(assets / task_dir, root / task_dir)
    path = root / task_dir / file
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]) + line + b"".join(lines[3:]))
    return root


def _a_file(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "results-here"
    path.write_text("not a folder")
    return path


STS_NAN = b"9\tx\tx\t2020\t9\tx\tx\tA wonderful cat .\tA dog .\tnan\n"
RTE_BAD_LABEL = b"9\tA cat .\tA dog .\t\xc2\xb2\n"  # "²": isdigit() is True, int() refuses it
RTE_LATIN1 = b"9\tA caf\xe9 .\tA dog .\tentailment\n"

# case: (extra arguments or a builder of them, expected text of the one line)
CASES = {
    "batch size 0": (["--per_device_train_batch_size=0"],
                     "--per_device_train_batch_size 0: must be an integer >= 1"),
    "eval batch negative": (["--per_device_eval_batch_size=-4"], "--per_device_eval_batch_size -4"),
    "learning rate nan": (["--learning_rate=nan"], "--learning_rate nan: must be a finite number"),
    "learning rate inf": (["--learning_rate=inf"], "--learning_rate inf: must be a finite number"),
    "learning rate negative": (["--learning_rate=-1e-5"], "--learning_rate -1e-05"),
    "weight decay nan": (["--weight_decay=nan"], "--weight_decay nan"),
    "epochs 0": (["--num_train_epochs=0"], "--num_train_epochs 0.0: nothing to train"),
    "epochs nan": (["--num_train_epochs=nan"], "--num_train_epochs nan"),
    "accumulation 0": (["--gradient_accumulation_steps=0"], "--gradient_accumulation_steps 0"),
    "negative seed": (["--seed=-1"], "--seed -1: must be an integer from 0"),
    "report_to bogus": (["--report_to=bogus"], "--report_to bogus: unknown; use one of"),
    "adam epsilon negative": (["--adam_epsilon=-1"], "--adam_epsilon -1.0"),
    "fp16 on cpu": (["--fp16"], "--fp16: this run is on the CPU"),
    "empty output_dir": (["--output_dir="], "--output_dir is empty"),
    "output_dir is a file": (lambda a, t: [f"--output_dir={_a_file(t)}"], "is a file, not a folder"),
    "missing tokenizer": (["--tokenizer_name=/no/such/tokenizer"],
                          "--tokenizer_name '/no/such/tokenizer' does not exist"),
    "stsb nan score": (lambda a, t: [f"--data_dir={_data_with(a, t, 'STS-B', 'train.tsv', STS_NAN)}",
                                     "--task_name=stsb"],
                       "train.tsv', line 4: score 'nan' is not a finite number"),
    "label does not parse": (lambda a, t: [f"--data_dir={_data_with(a, t, 'RTE', 'dev.tsv', RTE_BAD_LABEL)}"],
                             "dev.tsv', line 4: label '²' is not one of"),
    "not utf-8": (lambda a, t: [f"--data_dir={_data_with(a, t, 'RTE', 'train.tsv', RTE_LATIN1)}"],
                  "train.tsv', line 4: not UTF-8 text"),
    "config field type": (lambda a, t: [f"--model_name_or_path={_copy_model(a, t, _retype)}"],
                          "hidden_size is '32' (str); expected an integer"),
    "truncated weights": (lambda a, t: [f"--model_name_or_path={_copy_model(a, t, _truncate)}"],
                          "model.safetensors' is truncated or damaged"),
    "garbage weights": (lambda a, t: [f"--model_name_or_path={_copy_model(a, t, lambda f: (f / 'model.safetensors').write_bytes(b'garbage' * 50))}"],
                        "model.safetensors' is damaged"),
}
IN_A_REAL_PROCESS = ("learning rate inf", "report_to bogus", "fp16 on cpu", "stsb nan score",
                     "truncated weights")


def _extra(case, assets, tmp_path):
    extra, expected = CASES[case]
    return (extra(assets, tmp_path) if callable(extra) else extra), expected


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_loading(assets, tmp_path, monkeypatch, capsys, case):
    monkeypatch.setattr(run, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    extra, expected = _extra(case, assets, tmp_path)
    out = tmp_path / "out"
    assert run.main(_argv(assets, out, *extra)) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("timing_trainer.glue: error: ") and expected in lines[-1], lines
    assert not any("Traceback" in line for line in lines)
    assert not (out / RESULTS_FILENAME).exists()


@pytest.mark.slow
def test_bad_input_in_real_processes(assets, tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    procs = {}
    for case in IN_A_REAL_PROCESS:
        extra, expected = _extra(case, assets, tmp_path / case.replace(" ", "_"))
        argv = _argv(assets, tmp_path / case.replace(" ", "_") / "out", *extra)
        procs[case] = (expected, subprocess.Popen(
            [sys.executable, "-m", "timing_trainer.glue", *argv], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env))
    for case, (expected, proc) in procs.items():
        _, err = proc.communicate(timeout=300)
        lines = [line for line in err.splitlines() if line.strip()]
        assert proc.returncode == 2, (case, err[-2000:])
        assert len(lines) == 1 and expected in lines[0], (case, lines)


def test_max_seq_length_too_small_for_special_tokens(assets, tmp_path, capsys):
    out = tmp_path / "out"
    assert run.main(_argv(assets, out, "--max_seq_length=3")) == 2  # RTE pairs: 3 special tokens
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--max_seq_length 3 is too small" in line and "use at least 4" in line
    assert not (out / RESULTS_FILENAME).exists()


def test_bf16_on_cpu_and_inference_without_epochs_pass(tmp_path):
    def args(**values):
        base = dict(per_device_train_batch_size=8, per_device_eval_batch_size=8,
                    gradient_accumulation_steps=1, eval_accumulation_steps=None,
                    dataloader_num_workers=0, seed=42, data_seed=None, learning_rate=2e-5,
                    weight_decay=0.0, adam_epsilon=1e-8, max_grad_norm=1.0, adam_beta1=0.9,
                    adam_beta2=0.999, max_steps=-1, num_train_epochs=3.0, report_to=["none"],
                    fp16=False, bf16=False, do_train=False, do_eval=False,
                    device=SimpleNamespace(type="cpu"), output_dir=str(tmp_path / "out"))
        return SimpleNamespace(**{**base, **values})

    validate_arguments(args(bf16=True))  # CPU autocast runs bf16: allowed
    validate_arguments(args(num_train_epochs=0, do_eval=True))  # inference only
    validate_arguments(args(num_train_epochs=0, max_steps=10))
    with pytest.raises(GlueInputError, match="nothing to train"):
        validate_arguments(args(num_train_epochs=0))


def test_wandb_ids_cannot_lead_out_of_runs(monkeypatch):
    monkeypatch.delenv("TIMING_TRAINER_RUN_DIR", raising=False)
    for sweep_id, run_id in (("..", ".."), ("../..", "x"), (".", "/etc")):
        monkeypatch.setenv("WANDB_SWEEP_ID", sweep_id)
        monkeypatch.setenv("WANDB_RUN_ID", run_id)
        parts = default_output_dir("rte", "m").split("/")
        assert parts[0] == "runs" and len(parts) == 3 and not {".", ".."} & set(parts), parts


def test_output_dir_optional_and_empty_refused(tmp_path):
    _, _, args = parse_args(["--task_name=rte", "--model_name_or_path=m"])
    assert args.output_dir.startswith("runs/")
    with pytest.raises(GlueInputError, match="output_dir is empty"):
        parse_args(["--task_name=rte", "--model_name_or_path=m", "--output_dir", " "])
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"task_name": "rte", "model_name_or_path": "m", "output_dir": ""}))
    with pytest.raises(GlueInputError, match="output_dir is empty"):
        parse_args([str(path)])


def test_an_unreachable_hub_is_one_line_without_retries(tmp_path, assets):
    """Offline mode off, the Hub's endpoint refusing connections (a closed port on this host)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", PYTHONWARNINGS="ignore",
               HF_HOME=str(tmp_path / "hf"))
    env = {k: v for k, v in env.items() if "proxy" not in k.lower()}
    argv = _argv(assets, tmp_path / "out", model="some-org/some-model")
    proc = subprocess.run([sys.executable, "-m", "timing_trainer.glue", *argv], env=env,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and "cannot reach the Hugging Face Hub (127.0.0.1:9" in lines[0]
    assert "some-org/some-model" in lines[0] and "HF_HUB_OFFLINE=1" in lines[0]
