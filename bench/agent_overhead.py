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


def timed_seconds(results: dict) -> float | None:
    """Seconds on the clock inside a run: every fine-tuning iteration and every evaluation."""
    finetune = results.get("finetuning_time_list") or []
    evals = [e.get("inference_total_time") for e in results.get("evaluations") or []]
    evals = [e for e in evals if e is not None] or [results.get("inference_total_time") or 0.0]
    if not finetune and not evals:
        return None
    return float(sum(finetune) + sum(evals))


def variant_config(base: dict, use_cache: bool) -> dict:
    config = copy.deepcopy(base)
    params = config["parameters"]
    params["use_tokenization_cache"] = {"value": use_cache}
    params["tokenization_cache_dir"] = {"value": f"demo/cache-{'on' if use_cache else 'off'}"}
    config["name"] = f"demo-cache-{'on' if use_cache else 'off'}"
    return config


def collect(runs_dir: Path) -> list[dict]:
    rows = []
    for record_path in sorted(runs_dir.glob("*/agent_record.json")):
        record = json.loads(record_path.read_text())
        results_path = record_path.parent / "timing_results.json"
        if record.get("status") != "finished" or not results_path.is_file():
            continue
        results = json.loads(results_path.read_text())
        timed = timed_seconds(results)
        rows.append({
            "run": record["dir"],
            "wall": record["wall_time"],
            "timed": timed,
            "setup": results.get("setup_time"),
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
        "median_setup_s": med("setup"), "median_overhead_s": med("overhead"),
        "overhead_share": (med("overhead") / med("wall")) if rows else None,
        "cache": {k: sum(1 for r in rows if r["cache"] == k) for k in {r["cache"] for r in rows}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="runs per variant (default 8)")
    parser.add_argument("--workdir", help="folder for assets and runs (default: a temporary one)")
    parser.add_argument("--json", help="write the summary here")
    args = parser.parse_args(argv)

    from timing_trainer.demo import demo_sweep_file, ensure_assets
    from timing_trainer.sweep.agent import AgentOptions, LocalAgent
    from timing_trainer.sweep.runs import load_sweep_file

    work = Path(args.workdir or tempfile.mkdtemp(prefix="tt-agent-overhead-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    ensure_assets(work)
    base = load_sweep_file(demo_sweep_file())
    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "TOKENIZERS_PARALLELISM": "false"}
    variants = {flag: variant_config(base, flag) for flag in (True, False)}
    start = time.monotonic()
    for _ in range(args.runs):
        for config in variants.values():
            options = AgentOptions(runs_dir=work / "demo" / config["name"], count=1, cwd=work,
                                   wandb_mode="offline", extra_env=env, progress=False)
            LocalAgent(config, options, sweep_file=config["name"]).run(out=open(os.devnull, "w"))
    summaries = [summarise(config["name"], collect(work / "demo" / config["name"]))
                 for config in variants.values()]
    print(f"{'variant':<16} {'runs':>4} {'wall s':>8} {'timed s':>8} {'setup s':>8} "
          f"{'overhead s':>10} {'share':>6}  cache")
    for s in summaries:
        print(f"{s['variant']:<16} {s['runs']:>4} {s['median_wall_s']:>8.2f} {s['median_timed_s']:>8.2f} "
              f"{s['median_setup_s']:>8.2f} {s['median_overhead_s']:>10.2f} "
              f"{s['overhead_share']:>6.1%}  {s['cache']}")
    print(f"(medians per run; {args.runs} runs per variant, interleaved; "
          f"{time.monotonic() - start:.0f} s in all; workdir {work})")
    if args.json:
        Path(args.json).write_text(json.dumps({"summaries": summaries, "workdir": str(work)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
