"""The local agent as a user meets it: a small program a sweep runs (no torch: fast), sweep
files over it, and `timing-trainer` as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

# Writes its arguments and a results file into its run folder; `--mode` picks a failure:
# `hub` exits 2 with the GLUE program's "cannot reach the Hub" line naming the run's model,
# `chatty` prints 20 KB first.
PROGRAM = textwrap.dedent("""
    import json, os, sys
    args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    run_dir = os.environ["TIMING_TRAINER_RUN_DIR"]
    mode = args.get("mode", "ok")
    if mode == "hub":
        print(f"error: cannot reach the Hugging Face Hub (huggingface.co:443: Network is "
              f"unreachable) to load {args.get('model')}", file=sys.stderr)
        sys.exit(2)
    if mode == "chatty":
        print("x" * 20000, flush=True)
    with open(os.path.join(run_dir, "received.json"), "w") as f:
        json.dump(sys.argv[1:], f)
    took = 1.0 + len(os.listdir(os.path.dirname(run_dir))) / 100  # each run its own time
    with open(os.path.join(run_dir, "timing_results.json"), "w") as f:
        json.dump({"status": "finished", "error": None, "finetuning_time": took,
                   "finetuning_time_list": [took], "eval_metrics": {"score": 0.5},
                   "config": {"task_name": "rte", "model_name_or_path": args.get("model", "m"),
                              "per_device_train_batch_size": int(args.get("a", 8))}}, f)
""")


def sweep_file(folder: Path, program: Path, command: list[str] | None = None,
               name: str = "s.yaml", **parameters) -> Path:
    """A grid sweep over `parameters` (a list: values; else one value) running `program`."""
    params = {k: ({"values": v} if isinstance(v, list) else {"value": v})
              for k, v in parameters.items()}
    config = {"name": "s", "method": "grid", "program": str(program), "parameters": params}
    if command:
        config["command"] = command
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def cli(*argv: str, cwd: Path, preexec=None) -> subprocess.CompletedProcess:
    """`timing-trainer ARGV...` as a real process (`python -m timing_trainer.commands.main`)."""
    return subprocess.run([sys.executable, "-m", "timing_trainer.commands.main", *argv],
                          cwd=cwd, capture_output=True, text=True, timeout=300,
                          preexec_fn=preexec, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def agent(file: Path, runs: Path, *options: str, preexec=None) -> subprocess.CompletedProcess:
    return cli("sweep", str(file), "--runs-dir", str(runs), "--no-progress", *options,
               cwd=file.parent, preexec=preexec)


def records(runs: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(runs.glob("*/agent_record.json"))]
