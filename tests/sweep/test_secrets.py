"""A token given to a sweep reaches the program, and no file, log, printed line or W&B run.

Every file written under the runs folder and W&B's folder is read as bytes and searched for the
token (W&B's offline `.wandb` file is binary; a recorded argv would be plain bytes in it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from timing_trainer.runtime.masking import MASK
from timing_trainer.sweep.agent.local import LocalAgent
from timing_trainer.sweep.agent.plan import AgentOptions

TOKEN = "hf_SeCrEt0123456789abcdef"
ENV_TOKEN = "wandb_EnvSecret_0123456789"

ECHO = (
    "import json, os, sys\n"
    "run_dir = os.environ['TIMING_TRAINER_RUN_DIR']\n"
    "print('my argv:', sys.argv[1:])\n"  # a program that prints its token: run.log is scrubbed
    "json.dump({'argv': sys.argv[1:]}, open(os.path.join(run_dir, 'seen.json'), 'w'))\n"
    "json.dump({'status': 'finished', 'error': None},\n"
    "          open(os.path.join(run_dir, 'timing_results.json'), 'w'))\n"
)


def files_holding(root: Path, secret: str, skip: tuple[str, ...] = ()) -> list[str]:
    needle = secret.encode()
    return [str(p) for p in root.rglob("*")
            if p.is_file() and p.name not in skip and needle in p.read_bytes()]


def test_agent_writes_and_prints_no_secret(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MY_API_KEY", ENV_TOKEN)
    program = tmp_path / "echo.py"
    program.write_text(ECHO)
    config = {
        "name": "secret", "method": "grid", "program": str(program),
        "command": ["${env}", "${interpreter}", "${program}", "--api_key=${envvar:MY_API_KEY}",
                    "${args}", "${args_json}"],
        "parameters": {"hub_token": {"value": TOKEN}, "n": {"values": [1, 2]}},
    }
    runs_dir = tmp_path / "runs"
    LocalAgent(config, AgentOptions(runs_dir=runs_dir, dry_run=True, progress=False)).run()
    outcome = LocalAgent(config, AgentOptions(runs_dir=runs_dir, progress=False)).run()
    assert outcome.exit_code == 0
    printed = capsys.readouterr()
    for secret in (TOKEN, ENV_TOKEN):
        assert secret not in printed.out + printed.err
        assert files_holding(runs_dir, secret, skip=("seen.json",)) == []
    for record in outcome.records.values():
        seen = json.loads((runs_dir / record["dir"] / "seen.json").read_text())["argv"]
        assert f"--hub_token={TOKEN}" in seen and f"--api_key={ENV_TOKEN}" in seen  # real values
        assert json.loads(seen[-1])["hub_token"] == TOKEN
        assert record["params"]["hub_token"] == MASK
        assert f"--hub_token={MASK}" in record["command"]
        assert "my argv:" in (runs_dir / record["dir"] / "run.log").read_text()
    state = json.loads((runs_dir / "sweep_state.json").read_text())
    assert {r["params"]["hub_token"] for r in state["runs"]} == {MASK}


def test_args_json_file_holds_the_secret_only_while_the_run_lasts(tmp_path):
    program = tmp_path / "read_args.py"
    program.write_text(
        "import json, os, stat, sys\n"
        "path = sys.argv[1]\n"
        "mode = stat.S_IMODE(os.stat(path).st_mode)\n"
        "json.dump({'token': json.load(open(path))['hub_token'], 'mode': mode},\n"
        "          open(os.path.join(os.path.dirname(path), 'seen.json'), 'w'))\n"
    )
    config = {"name": "j", "method": "grid", "program": str(program),
              "command": ["${env}", "${interpreter}", "${program}", "${args_json_file}"],
              "parameters": {"hub_token": {"value": TOKEN}}}
    runs_dir = tmp_path / "runs"
    outcome = LocalAgent(config, AgentOptions(runs_dir=runs_dir, progress=False)).run()
    run_dir = runs_dir / next(iter(outcome.records.values()))["dir"]
    seen = json.loads((run_dir / "seen.json").read_text())
    assert seen == {"token": TOKEN, "mode": 0o600}
    assert not (run_dir / "args.json").exists()
    assert files_holding(runs_dir, TOKEN, skip=("seen.json",)) == []


@pytest.mark.slow
def test_glue_sweep_with_a_token_leaks_it_nowhere(tmp_path, monkeypatch):
    """The GLUE program under the agent, W&B offline: the token as a sweep parameter, then as an
    argument in the file's command."""
    from timing_trainer.glue.demo_assets import write_demo_assets

    assets = write_demo_assets(tmp_path / "assets", tasks=["rte"], train_size=16, dev_size=8)
    wandb_dir = tmp_path / "wandb"
    wandb_dir.mkdir()
    monkeypatch.setenv("WANDB_DIR", str(wandb_dir))
    base = ["${env}", "${interpreter}", "-m", "timing_trainer.glue", "--report_to=wandb",
            "--use_cpu=True", "--num_train_epochs=1", "--max_seq_length=32",
            "--finetuning_iters=1", "--disable_tqdm=True",
            f"--tokenization_cache_dir={tmp_path / 'cache'}"]
    params = {"task_name": {"value": "rte"},
              "model_name_or_path": {"value": str(assets / "models" / "tiny-uncased")},
              "data_dir": {"value": str(assets)}}
    sweeps = {
        "as-parameter": ([*base, "${args}"], {**params, "hub_token": {"value": TOKEN}}),
        "as-argument": ([*base, f"--hub_token={TOKEN}", "${args}"], params),
    }
    runs_root = tmp_path / "runs"
    for name, (command, parameters) in sweeps.items():
        config = {"name": name, "method": "grid", "command": command, "parameters": parameters}
        outcome = LocalAgent(config, AgentOptions(runs_dir=runs_root / name, progress=False,
                                                  cwd=tmp_path)).run(out=sys.stderr)
        record = next(iter(outcome.records.values()))
        log = (runs_root / name / record["dir"] / "run.log").read_text()
        assert record["status"] == "finished", log[-3000:]
        results = json.loads((runs_root / name / record["dir"] / "timing_results.json").read_text())
        assert "hub_token" not in results["config"]
    offline_runs = list(runs_root.rglob("*.wandb")) + list(wandb_dir.rglob("*.wandb"))
    assert offline_runs, "W&B wrote no offline run file"
    assert files_holding(runs_root, TOKEN) == []
    assert files_holding(wandb_dir, TOKEN) == []
