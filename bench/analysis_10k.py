"""Benchmark: load and analyse 10,000 generated runs (goal: under 10 s on the 2-core dev box).

Generates run folders with the energy keys of schema version 3 (not timed), then times
`load_runs` (energy and metric columns included), then `analyze` (descriptive
statistics and the thesis's extras, ANOVA with Shapiro-Wilk, Levene and Tukey HSD, log-linear OLS
with diagnostics and 5-fold CV, the untransformed and alternative models, the thesis's 500-tree
random forest with its test errors, time against accuracy per task and pooled, the noise
summary, energy against time per model) twice: with the forest's 5-fold CV (five more fits of
100 trees) and without it; then the same without the forest's CV on energy (`metric="energy"`).
Usage:

    python3 bench/analysis_10k.py [--runs 10000] [--trees 500] [--plots]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

from timing_trainer.analysis.analyze import analyze
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.commands.analyze import write_outputs
from timing_trainer.testing.runs import write_run_folders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--trees", type=int, default=500, help="random forest trees (thesis: 500)")
    parser.add_argument("--plots", action="store_true", help="also time writing the report")
    args = parser.parse_args()
    forest = {"n_estimators": args.trees}
    with tempfile.TemporaryDirectory() as tmp:
        root = write_run_folders(Path(tmp) / "runs", args.runs, seed=0, energy="measured")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = load_runs([root])
        loaded = time.perf_counter()
        analyze(table, n_jobs=-1, forest_k=0, forest_settings=forest)
        without_cv = time.perf_counter()
        analysis = analyze(table, n_jobs=-1, forest_settings=forest)
        full = time.perf_counter()
        if args.plots:
            write_outputs(analysis, Path(tmp) / "out")
        written = time.perf_counter()
        analyze(table, metric="energy", n_jobs=-1, forest_k=0, forest_settings=forest)
        energy_s = time.perf_counter() - written
    load_s, light_s, full_s = loaded - start, without_cv - loaded, full - without_cv
    print(f"runs: {len(table)} ({analysis.n_analysed} analysed), cores: {os.cpu_count()}, "
          f"forest: {args.trees} trees")
    print(f"load_runs:                                   {load_s:6.2f} s")
    print(f"analyze, forest without k-fold CV:           {light_s:6.2f} s")
    print(f"analyze, everything (forest 5-fold CV too):  {full_s:6.2f} s")
    print(f"load + analyze without forest CV:            {load_s + light_s:6.2f} s (goal < 10 s)")
    print(f"load + analyze, everything:                  {load_s + full_s:6.2f} s")
    print(f"analyze --metric energy, forest without CV:  {energy_s:6.2f} s")
    if args.plots:
        print(f"report files (CSV, PNG, summary.json, report.md): {written - full:.2f} s")


if __name__ == "__main__":
    main()
