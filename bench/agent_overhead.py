"""Per-run overhead of the local sweep agent on the demo sweep, with and without the tokenization
cache.

overhead of a run = the agent's wall time of the run (process start to exit)
                    - the time on the clock inside it (every fine-tuning iteration + evaluation)

It is what a sweep pays per run for starting Python, importing torch and transformers, loading
the model, tokenizing (or reading the cache), W&B's offline run, and writing results. On the demo
the timed work is tiny, so nearly all of a run is overhead: the figure is the per-run floor that
every sweep pays, and what it costs to launch one process per run as W&B's agent does.

The two variants run interleaved (one run of each in turn) so that the machine's load drifts
equally over both. Each variant has its own, initially empty, tokenization cache.

    python3 bench/agent_overhead.py [--runs 8] [--workdir DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def variant_config(base: dict, use_cache: bool, max_steps: int | None) -> dict:
    config = copy.deepcopy(base)
    params = config["parameters"]
    params["use_tokenization_cache"] = {"value": use_cache}
    if max_steps:
        params["max_steps"] = {"value": max_steps}
    params["tokenization_cache_dir"] = {"value": f"demo/cache-{'on' if use_cache else 'off'}"}
    config["name"] = f"demo-cache-{'on' if use_cache else 'off'}"
    return config


def collect(runs_dir: Path) -> list[dict]:
    from timing_trainer.sweep.agent.walltime import on_clock_seconds

    rows = []
    for record_path in sorted(runs_dir.glob("*/agent_record.json")):
        record = json.loads(record_path.read_text())
        results_path = record_path.parent / "timing_results.json"
        if record.get("status") != "finished" or not results_path.is_file():
            continue
        results = json.loads(results_path.read_text())
        timed = on_clock_seconds(results)  # every fine-tuning iteration and evaluation
        rows.append({
            "run": record["dir"],
            "wall": record["wall_time"],
            "timed": timed,
            "setup": results.get("setup_time"),
            "tokenize": (results.get("setup_time_parts") or {}).get("tokenize"),
            "overhead": record["wall_time"] - (timed or 0.0),
            "cache": (results.get("config") or {}).get("tokenization_cache"),
        })
    return rows


def summarise(name: str, rows: list[dict]) -> dict:
    def med(key):
        values = [r[key] for r in rows if r[key] is not None]
        return statistics.median(values) if values else None

    return {
        "variant": name, "runs": len(rows),
        "median_wall_s": med("wall"), "median_timed_s": med("timed"),
        "median_setup_s": med("setup"), "median_tokenize_s": med("tokenize"),
        "median_overhead_s": med("overhead"),
        "overhead_share": (med("overhead") / med("wall")) if rows else None,
        "cache": {k: sum(1 for r in rows if r["cache"] == k) for k in {r["cache"] for r in rows}},
    }


def import_floor(repeats: int = 3) -> float:
    """Median seconds to start Python and import what every run imports (no work at all)."""
    import subprocess

    code = "import torch, transformers, wandb, timing_trainer.glue.run"
    times = []
    for _ in range(repeats):
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def print_table(summaries: list[dict], floor: float) -> None:
    """The medians of each variant, and the import floor."""
    print(f"{'variant':<16} {'runs':>4} {'wall s':>8} {'timed s':>8} {'setup s':>8} "
          f"{'tokenize s':>10} {'overhead s':>10} {'share':>6}")
    for s in summaries:
        tok = f"{s['median_tokenize_s']:.2f}" if s["median_tokenize_s"] is not None else "-"
        print(f"{s['variant']:<16} {s['runs']:>4} {s['median_wall_s']:>8.2f} {s['median_timed_s']:>8.2f} "
              f"{s['median_setup_s']:>8.2f} {tok:>10} {s['median_overhead_s']:>10.2f} "
              f"{s['overhead_share']:>6.1%}")
    print(f"python start + imports alone (torch, transformers, wandb, the program): {floor:.2f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="runs per variant (default 8)")
    parser.add_argument("--workdir", help="folder for assets and runs (default: a temporary one)")
    parser.add_argument("--json", help="write the summary here")
    parser.add_argument("--train-size", type=int, default=None,
                        help="training examples per task in the assets (default: the demo's); "
                        "large values show what tokenization costs")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="optimizer steps per fine-tuning (keeps large --train-size runs short)")
    args = parser.parse_args(argv)

    from timing_trainer.commands.demo import demo_sweep_file, ensure_assets
    from timing_trainer.sweep.agent.local import LocalAgent
    from timing_trainer.sweep.agent.plan import AgentOptions
    from timing_trainer.sweep.config.runs import load_sweep_file

    work = Path(args.workdir or tempfile.mkdtemp(prefix="tt-agent-overhead-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.train_size:
        from timing_trainer.glue.demo_assets import write_demo_assets
        from timing_trainer.sweep.config.spec import DEMO_ASSETS_DIR, DEMO_DEV_SIZE, DEMO_TASKS

        write_demo_assets(work / DEMO_ASSETS_DIR, tasks=list(DEMO_TASKS),
                          train_size=args.train_size, dev_size=DEMO_DEV_SIZE)
    else:
        ensure_assets(work)
    base = load_sweep_file(demo_sweep_file())
    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "TOKENIZERS_PARALLELISM": "false"}
    variants = {flag: variant_config(base, flag, args.max_steps) for flag in (True, False)}
    start = time.monotonic()
    for _ in range(args.runs):
        for config in variants.values():
            options = AgentOptions(runs_dir=work / "demo" / config["name"], count=1, cwd=work,
                                   wandb_mode="offline", extra_env=env, progress=False)
            LocalAgent(config, options, sweep_file=config["name"]).run(out=open(os.devnull, "w"))
    summaries = []
    for config in variants.values():
        rows = collect(work / "demo" / config["name"])
        summaries.append(summarise(config["name"], rows))
        for status in sorted({r["cache"] for r in rows if r["cache"] in ("hit", "miss")}):
            summaries.append(summarise(f"  cache {status}", [r for r in rows if r["cache"] == status]))
    floor = import_floor()
    print_table(summaries, floor)
    print(f"(medians per run; {args.runs} runs per variant, interleaved; "
          f"{time.monotonic() - start:.0f} s in all; workdir {work})")
    if args.json:
        Path(args.json).write_text(json.dumps({"summaries": summaries, "import_floor_s": floor,
                                               "workdir": str(work)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
