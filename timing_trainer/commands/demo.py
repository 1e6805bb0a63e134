"""`timing-trainer demo` (= `make demo`): the whole path, offline, in a few minutes on a laptop.

1. Writes the demo assets (`demo/assets`: GLUE-format RTE and SST-2 data, two tiny local models)
   unless they are there already.
2. Runs `sweeps/demo.yaml` with the local agent, W&B offline (runs in `demo/runs`; a second
   `make demo` skips finished runs). The YAML names the assets by relative path (`demo/assets`),
   so the runs start in the folder that holds `demo/` (the current one, or `--base`).
3. Writes the report of `timing-trainer analyze` (`demo/report/report.md`): the analysis and
   the cost model's section.

Each run gets `OMP_NUM_THREADS=1` unless the caller set it: the demo's models are tiny, and on a
busy two-core machine PyTorch's default of one thread per core made a training step 20 to 100
times slower (threads spinning against each other) than one thread.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from timing_trainer.commands.analyze import build_report
from timing_trainer.errors import CliError
from timing_trainer.runtime import exit_codes

DEMO_DIR = "demo"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="offline demo: tiny models, generated GLUE data, a small local sweep, the report",
        description="Write the demo assets (demo/assets), run sweeps/demo.yaml with the local "
        "agent and W&B offline (demo/runs; resumable), then the analysis report (demo/report).",
    )
    parser.add_argument("--base", default=".",
                        help="folder in which demo/ is written and the runs start (default: .)")
    parser.add_argument("--count", type=int, help="run at most N runs of the demo sweep")
    parser.add_argument("--wandb", choices=("offline", "disabled"), default="offline",
                        help="W&B mode of the runs (default offline)")
    parser.add_argument("--no-report", action="store_true", help="skip the analysis report")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true",
                        help="run the demo sweep in a demo/runs that holds runs of an earlier "
                             "version of it (those stay; the report reads the current ones)")
    parser.set_defaults(func=run_demo)


def demo_sweep_file() -> Path:
    """The demo sweep shipped with the package (identical to `sweeps/demo.yaml`, checked by
    `timing-trainer sweeps generate --check`), so the demo works outside the checkout too."""
    from timing_trainer.sweep.config.generate import PACKAGE_DEMO

    if not PACKAGE_DEMO.is_file():
        raise CliError(f"the demo sweep file is missing from the package ({PACKAGE_DEMO})")
    return PACKAGE_DEMO


def ensure_assets(base: Path) -> Path:
    """Write the demo's data and models under `base/demo/assets` unless they are complete."""
    from timing_trainer.sweep.config.spec import (
        DEMO_ASSETS_DIR,
        DEMO_DEV_SIZE,
        DEMO_TASKS,
        DEMO_TRAIN_SIZE,
    )
    from timing_trainer.tasks import get_task

    assets = base / DEMO_ASSETS_DIR
    needed = [assets / get_task(t).display_name / "train.tsv" for t in DEMO_TASKS]
    needed += [assets / "models" / m / "config.json" for m in ("tiny-cased", "tiny-uncased")]
    if all(p.is_file() for p in needed):
        print(f"demo assets: {assets} (already there)")
        return assets
    from timing_trainer.glue.demo_assets import write_demo_assets

    print(f"demo assets: writing {assets} ...")
    write_demo_assets(assets, tasks=list(DEMO_TASKS), train_size=DEMO_TRAIN_SIZE,
                      dev_size=DEMO_DEV_SIZE, seed=0)
    return assets


def write_report(runs_dir: Path, out_dir: Path) -> Path:
    """The report of the demo's runs, as `timing-trainer analyze demo/runs` writes it."""
    return Path(build_report([str(runs_dir)], out_dir, kind="finetuning"))


def run_demo(args: argparse.Namespace) -> int:
    from timing_trainer.sweep.agent.local import LocalAgent
    from timing_trainer.sweep.agent.plan import AgentOptions
    from timing_trainer.sweep.config.runs import load_sweep_file

    base = Path(args.base).resolve()
    if not base.is_dir():
        raise CliError(f"--base {args.base}: no such folder")
    if args.count is not None and args.count < 1:
        raise CliError("--count must be at least 1")
    ensure_assets(base)
    sweep_file = demo_sweep_file()
    config = load_sweep_file(sweep_file)
    runs_dir = base / DEMO_DIR / "runs"
    extra_env = {} if "OMP_NUM_THREADS" in os.environ else {"OMP_NUM_THREADS": "1"}
    extra_env.setdefault("TOKENIZERS_PARALLELISM", "false")
    options = AgentOptions(
        runs_dir=runs_dir, count=args.count, wandb_mode=args.wandb, cwd=base,
        extra_env=extra_env, progress=not args.no_progress, force=args.force,
    )
    outcome = LocalAgent(config, options, sweep_file=str(sweep_file)).run()
    if outcome.interrupted:
        return outcome.exit_code
    print(f"runs: {runs_dir}")
    if args.wandb == "offline":
        print(f"W&B offline runs: `wandb sync {runs_dir}/*/wandb/offline-run-*` uploads them")
    if args.no_report:
        return outcome.exit_code
    report_dir = base / DEMO_DIR / "report"
    try:
        report = write_report(runs_dir, report_dir)
    except Exception as exc:  # the sweep's results stay; say in one line why the report did not
        print(f"timing-trainer demo: the report failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return exit_codes.FAILED
    print(f"report: {report}")
    return outcome.exit_code
