"""Cost model on the thesis's exports: the figures for bench/RESULTS.md (section costmodel).

    python3 bench/costmodel_thesis.py [--thesis-runs DIR] [--out FILE.json]

DIR holds `finetuning/` and `inference/` as `timing-trainer thesis-data DIR` writes them
(default: ../shared/thesis-runs beside the checkout).

For fine-tuning (291 finished runs) and inference (267): median / mean / p90 absolute
percentage error under k-fold (10), leave-one-task-out and leave-one-model-out; per-model
leave-one-model-out errors; the same with every effect switched off (physics alone); the
coverage of 90% prediction intervals for held-out tasks (intervals calibrated inside each
fold); the thesis's log-linear model under the same CVs, for reference; the repeat-to-repeat
spread; and the predicted cost of `sweeps/sweep_rte_cased.yaml` (fp32 runs) from a fit on the
other five tasks, against what the thesis's RTE runs of those models measured. The thesis's
runs carry no energy: `energy_note` says so, and every figure above is the time fit's alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.thesis import thesis_files
from timing_trainer.costmodel.cross_validation import CV_MODES, cross_validate, fold_labels
from timing_trainer.costmodel.energy import fit_energy
from timing_trainer.costmodel.model import CostModelConfig, fit_cost_model
from timing_trainer.costmodel.selection import usable_runs
from timing_trainer.costmodel.sweep_estimate import estimate_sweep

ROOT = Path(__file__).resolve().parents[1]
PHYSICS_ONLY = CostModelConfig(prior_sd={"architecture": 1e-4, "model_key": 1e-4,
                                         "shape_key": 1e-4, "arch_shape": 1e-4})


def loglinear_cv(runs: pd.DataFrame, kind: str, cv: str) -> dict:
    """The thesis's OLS of log time on model and task dummies + batch size + length, out of fold.

    A held-out task (or model) has no dummy: its coefficient is taken as 0 (the reference
    level's), the only thing such a model can do.
    """
    batch = "batch_size" if kind == "finetuning" else "eval_batch_size"
    y = np.log(runs["time"].to_numpy(float))
    groups = fold_labels(runs.assign(model_key=runs["model"]), runs, cv, 10, 0)
    pred = np.full(len(y), np.nan)
    for g in pd.unique(groups):
        test = groups == g
        X = pd.get_dummies(runs[["model", "task"]].astype(str), drop_first=False).astype(float)
        X[batch] = runs[batch].astype(float)
        X["max_seq_length"] = runs["max_seq_length"].astype(float)
        X["const"] = 1.0
        train_cols = [c for c in X.columns if X.loc[~test, c].abs().sum() > 0]
        coef, *_ = np.linalg.lstsq(X.loc[~test, train_cols].to_numpy(), y[~test], rcond=None)
        pred[test] = X.loc[test, train_cols].to_numpy() @ coef
    ape = np.abs(np.exp(pred - y) - 1) * 100
    return _summary(cv, ape)


def _summary(cv: str, ape: np.ndarray) -> dict:
    ape = ape[np.isfinite(ape)]
    return {"cv": cv, "n": int(len(ape)), "median_ape": float(np.median(ape)),
            "mean_ape": float(np.mean(ape)), "p90_ape": float(np.percentile(ape, 90))}


def interval_coverage_loto(runs: pd.DataFrame, kind: str) -> dict:
    """Share of held-out-task runs inside their 90% interval (calibrated without that task)."""
    inside, widths, n = 0, [], 0
    for task in runs["task"].unique():
        test = runs["task"] == task
        model = fit_cost_model(runs[~test], kind)
        pred = model.predict(runs[test])
        t = runs.loc[test, "time"].to_numpy(float)
        ok = pred["lower"].notna().to_numpy()
        inside += int(((pred["lower"].to_numpy() <= t) & (t <= pred["upper"].to_numpy()))[ok].sum())
        widths += list((pred["upper"] / pred["predicted"] - 1)[ok] * 100)
        n += int(ok.sum())
    return {"n": n, "coverage": inside / n if n else None,
            "median_upper_margin_pct": float(np.median(widths)) if widths else None}


def repeat_spread(runs: pd.DataFrame) -> dict:
    """Median over runs of the repeats' coefficient of variation and of max/min - 1, percent."""
    cvs, ranges = [], []
    for values in runs["finetuning_time_list"].dropna():
        if isinstance(values, (list, tuple)) and len(values) > 1:
            cvs.append(float(np.std(values, ddof=1) / np.mean(values)) * 100)
            ranges.append((max(values) / min(values) - 1) * 100)
    return {"median_cv_pct": float(np.median(cvs)) if cvs else None,
            "median_range_pct": float(np.median(ranges)) if ranges else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thesis-runs", default=str(ROOT.parent / "shared" / "thesis-runs"))
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args()
    figures: dict = {}
    for kind in ("finetuning", "inference"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = load_runs(thesis_files(args.thesis_runs, kind), kind=kind)
        runs = usable_runs(table)[0].reset_index(drop=True)
        out: dict = {"n_finished": len(runs), "cv": {}, "physics_only": {}, "loglinear": {}}
        for cv in CV_MODES:
            start = time.perf_counter()
            result = cross_validate(runs, kind, cv)
            out["cv"][cv] = {**result.summary(), "seconds": time.perf_counter() - start}
            if cv == "leave-one-model-out":
                by_model = result.runs.groupby("model")["ape"].median().round(2)
                out["lomo_median_ape_by_model"] = by_model.to_dict()
            out["physics_only"][cv] = cross_validate(runs, kind, cv, config=PHYSICS_ONLY).summary()
            out["loglinear"][cv] = loglinear_cv(runs, kind, cv)
        start = time.perf_counter()
        fit_cost_model(runs, kind)
        out["fit_and_calibrate_seconds"] = time.perf_counter() - start
        out["interval_coverage_loto"] = interval_coverage_loto(runs, kind)
        out["energy_note"] = fit_energy(table, kind, calibrate=False).note or None
        if kind == "finetuning":
            out["repeat_spread"] = repeat_spread(runs)
            # Before anyone ran RTE: fit on the other five tasks, predict the RTE sweep.
            rte = runs[runs["task"] == "rte"]
            others = runs[runs["task"] != "rte"]
            est = estimate_sweep(fit_cost_model(others, kind),
                                 ROOT / "sweeps/sweep_rte_cased.yaml", fitted=others,
                                 only={"bf16": ["false"]})
            total, low, high = est.total
            out["sweep_rte_cased_fp32_hours"] = {"total": total / 3600, "low": low / 3600,
                                                 "high": high / 3600, "n_runs": len(est.runs)}
            rte_cased = rte[rte["model"].isin(est.runs["model"].unique())]
            measured = (rte_cased["time"] * rte_cased["finetuning_iters"]).sum() / 3600
            out["sweep_rte_cased_fp32_hours"]["measured_thesis_runs"] = float(measured)
            out["sweep_rte_cased_fp32_hours"]["n_measured_runs"] = len(rte_cased)
        figures[kind] = out
        print(f"== {kind}: {len(runs)} finished runs", file=sys.stderr)
    text = json.dumps(figures, indent=2, default=float)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
