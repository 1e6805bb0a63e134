"""What a sweep will cost before it starts: every run of a sweep YAML, predicted, and the total.

A fine-tuning run's cost is its predicted fine-tuning time x `finetuning_iters` (every repeat
redoes the whole fine-tuning); an inference run's is its predicted per-batch latency x the
number of evaluation batches (one pass over the evaluation set). Model loading, tokenization and
evaluation are not included: they are outside the clock the fit was made on. Where the fitted
runs carry energy, each run's energy is predicted alike (energy.py), and the estimate gives hours,
kWh and, at a price per hour and a grid's intensity, money and emissions (sweep_costs.py);
sweep_text.py prints it.

The total's interval adds the runs' lower and upper bounds: it assumes their errors move
together (one device, one fit), which is conservative and the honest default, since a model's
or a shape's misfit repeats in every run that shares it.

A model the model table does not hold is read from its `config.json` (shapes.py: a local folder,
or the Hub cache), and the estimate says so (`shape_fallbacks`). A model of an architecture the
fit has no runs of is priced by its FLOPs at the fitted families' efficiency: its time is
predicted, not refused, and flagged as an extrapolation to an unseen architecture
(`unseen_architectures`, and a sentence in the headline).

Refusals (one line, `CostModelError`): a run on a platform the fit has no runs from (another
device, precision or world size; on a CPU, another thread count), a model with no size
information (not in the table, no `config.json` found), a sweep file that does not
parse or cannot be expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.report.summary import clean
from timing_trainer.costmodel.energy import EnergyFit
from timing_trainer.costmodel.extrapolation import headline as extrapolation_headline
from timing_trainer.costmodel.features import (
    PLATFORM_SEP,
    THREADS_COLUMN,
    fitted_cpu_threads,
    run_features,
)
from timing_trainer.costmodel.model import CostModel
from timing_trainer.costmodel.shapes import TABLE
from timing_trainer.costmodel.sweep_costs import Amount, Rates, add_run_costs, sweep_totals
from timing_trainer.errors import CostModelError, UnknownTaskError
from timing_trainer.models import short_model_name
from timing_trainer.tasks import get_task

# Hugging Face TrainingArguments / run_glue defaults, used when a sweep does not set a value.
DEFAULTS = {"max_seq_length": 128, "per_device_train_batch_size": 8,
            "per_device_eval_batch_size": 8, "num_train_epochs": 3.0, "finetuning_iters": 1}


@dataclass
class SweepEstimate:
    """Per-run predictions of a sweep and the total, in seconds."""

    name: str
    kind: str
    platform: str
    runs: pd.DataFrame  # parameters, predicted, lower, upper, interval_note, repeats, run_time..
    extrapolation: str = ""  # the headline's sentence when the runs lie far outside the fit
    fit: str = ""  # how many runs the fit used, and why the others were left out
    rates: Rates = Rates()  # price per hour and grid intensity, where given
    energy_fit: str = ""  # how many runs the energy fit used ("" without an energy fit)
    energy_note: str = ""  # why energy is not predicted ("" where it is)
    energy_source: str = ""  # what the fitted joules count (nvml, rapl, nvml+rapl)
    unseen_architectures: tuple[str, ...] = ()  # families of the sweep the fit has no runs of
    architecture_note: str = ""  # the headline's sentence about them ("" when none)
    shape_fallbacks: tuple[tuple[str, str], ...] = ()  # (model, config.json) not in the table

    @property
    def totals(self) -> dict[str, Amount | None]:
        """Hours, kWh, money and emissions of the whole sweep (sweep_costs.py)."""
        return sweep_totals(self.runs, self.rates, self.energy_note)

    @property
    def interval_notes(self) -> list[str]:
        """The distinct reasons why runs have no interval, in order of first appearance."""
        notes = self.runs["interval_note"].fillna("").astype(str)
        return [note for note in pd.unique(notes) if note]

    @property
    def total_interval_note(self) -> str:
        """Why the total has no interval ("" when it has one): the runs that have none."""
        reasons = self.interval_notes
        if not reasons:
            return ""
        n = int((self.runs["interval_note"].fillna("").astype(str) != "").sum())
        why = reasons[0] if len(reasons) == 1 else f"reasons (1) to ({len(reasons)}) above"
        return f"{n} of {len(self.runs)} runs have none: {why}"

    @property
    def total(self) -> tuple[float, float, float]:
        """(predicted, lower, upper) total seconds of every run."""
        r = self.runs
        return (float(r["run_time"].sum()), float(r["run_time_low"].sum(min_count=len(r))),
                float(r["run_time_high"].sum(min_count=len(r))))

    def to_dict(self) -> dict[str, Any]:
        total, low, high = self.total
        return {
            "sweep": self.name, "kind": self.kind, "platform": self.platform,
            "n_runs": len(self.runs), "total_s": total, "total_low_s": clean(low),
            "total_high_s": clean(high),
            "total_interval_note": self.total_interval_note or None,
            "interval_notes": self.interval_notes,
            "extrapolation": self.extrapolation or None, "fit": self.fit,
            "unseen_architectures": list(self.unseen_architectures),
            "architecture_note": self.architecture_note or None,
            "shape_fallbacks": [{"model": m, "config": c} for m, c in self.shape_fallbacks],
            "energy_fit": self.energy_fit or None, "energy_note": self.energy_note or None,
            "energy_source": self.energy_source or None,
            "price_per_hour": self.rates.price_per_hour,
            "grid_intensity_gco2e_per_kwh": self.rates.grid_intensity,
            "costs": {name: amount.to_dict() if amount else None
                      for name, amount in self.totals.items()},
            "runs": clean(self.runs.to_dict("records")),
        }


def sweep_runs(path: str | Path, only: dict[str, list[str]] | None = None,
               kind: str | None = None) -> tuple[str, list[dict]]:
    """The sweep's name and runs (parameter dicts), restricted by `only`.

    With `kind`, also checks that the sweep's program does that work: a sweep whose command has
    no `--do_train` does not fine-tune, and predicting its fine-tuning time would be fiction.
    """
    from timing_trainer.errors import SweepFileError
    from timing_trainer.sweep.config.runs import expand_runs, load_sweep_file
    from timing_trainer.sweep.config.select import select_runs

    try:
        config = load_sweep_file(path)
        runs = expand_runs(config, seed=0)
    except SweepFileError as exc:  # the sweeps module's one line; named by the file where not
        text = str(exc)
        raise CostModelError(text if str(path) in text else f"{path}: {text}") from None
    except Exception as exc:  # anything else the expansion trips on, still one line
        what = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line, type named
        raise CostModelError(f"{path}: cannot expand the sweep: {what}") from None
    command = config.get("command")
    if kind and isinstance(command, list):
        flag = "--do_train" if kind == "finetuning" else "--do_eval"
        if not any(str(part).split("=")[0] == flag for part in command):
            other = "inference" if kind == "finetuning" else "finetuning"
            raise CostModelError(
                f"{path}: its command has no {flag}, so its runs do no {kind}; "
                f"use --kind {other}")
    runs = select_runs(runs, only or {})  # `OnlyError`: one line, like `sweep --only`
    if not runs:
        raise CostModelError(f"{path}: no runs left to estimate"
                             + (" after --only" if only else ""))
    return str(config.get("name") or Path(path).stem), runs


def _precision(params: dict[str, Any]) -> str:
    def on(key: str) -> bool:
        return str(params.get(key, False)).lower() in ("true", "1", "yes")

    return "bf16" if on("bf16") else "fp16" if on("fp16") else "fp32"


def _task_sizes(task: str, table: pd.DataFrame | None) -> tuple[float, float]:
    """(n_train, n_eval): what the fitted runs of that task used, else the GLUE sizes."""
    try:
        canonical = get_task(task)
    except UnknownTaskError as exc:
        raise CostModelError(str(exc)) from None
    sizes = {"n_train": float(canonical.train_size), "n_eval": float(canonical.eval_size)}
    if table is not None and "task" in table and len(table):
        same = table[table["task"].astype(str) == canonical.name]
        for column in sizes:
            if column in same and same[column].notna().any():
                sizes[column] = float(same[column].dropna().mode().iloc[0])
    return sizes["n_train"], sizes["n_eval"]


def runs_table(runs: list[dict[str, Any]], *, device: str, gpu_name: str | None,
               world_size: int, fitted: pd.DataFrame | None = None,
               cpu_threads: int | None = None) -> pd.DataFrame:
    """The sweep's runs as rows of the analysis table's columns (what `run_features` reads);
    `cpu_threads`: the thread count they would run with on a CPU (part of its platform)."""
    rows = []
    for params in runs:
        p = {**DEFAULTS, **params}
        task = str(p.get("task_name"))
        n_train, n_eval = _task_sizes(task, fitted)
        if p.get("max_train_samples"):
            n_train = min(n_train, float(p["max_train_samples"]))
        if p.get("max_eval_samples"):
            n_eval = min(n_eval, float(p["max_eval_samples"]))
        model = str(p.get("model_name_or_path"))
        rows.append({
            "task": get_task(task).name, "model": short_model_name(model),
            "model_name_or_path": model,
            "max_seq_length": float(p["max_seq_length"]),
            "batch_size": float(p["per_device_train_batch_size"]),
            "eval_batch_size": float(p["per_device_eval_batch_size"]),
            "num_train_epochs": float(p["num_train_epochs"]),
            "max_steps": float(p.get("max_steps") or -1),
            "finetuning_iters": int(p["finetuning_iters"]),
            "precision": _precision(p), "world_size": world_size,
            "n_train": n_train, "n_eval": n_eval, "device": device, "gpu_name": gpu_name,
            THREADS_COLUMN: cpu_threads,
        })
    return pd.DataFrame(rows)


def choose_device(model: CostModel, device: str | None) -> tuple[str, str | None]:
    """(device, gpu_name) for the sweep's runs: the one the user named, or the fit's only one."""
    devices = sorted({p.split(PLATFORM_SEP)[0] for p in model.platforms})
    if device is None:
        if len(devices) != 1:
            raise CostModelError(
                f"the fit has runs from several devices ({', '.join(devices)}); name one with "
                "--device")
        device = devices[0]
    if device not in devices:
        raise CostModelError(
            f"no fitted runs on device {device!r} (fitted: {', '.join(devices)}); timings do "
            "not transfer between devices, measure some runs there first")
    if device in ("cpu", "mps", "unknown device"):
        return device, None
    return "cuda", device


def estimate_sweep(model: CostModel, path: str | Path, *, fitted: pd.DataFrame | None = None,
                   only: dict[str, list[str]] | None = None, device: str | None = None,
                   world_size: int = 1, energy: EnergyFit | None = None,
                   rates: Rates = Rates()) -> SweepEstimate:
    """Predict every run of the sweep at `path` on `device` (strict: refuses what it cannot).

    `energy`: the energy fit of the same runs (energy.py); without one, or where it cannot
    answer, the estimate gives hours and says why there is no energy. `rates`: price per hour
    and grid intensity, for money and emissions.
    """
    name, runs = sweep_runs(path, only, model.kind)
    dev, gpu = choose_device(model, device)
    table = runs_table(runs, device=dev, gpu_name=gpu, world_size=world_size, fitted=fitted,
                       cpu_threads=fitted_cpu_threads(model.platforms, dev))
    feats = run_features(table, model.kind, model.search_dirs)
    missing = sorted({p for p in feats["platform"] if p not in model.fits})
    if missing:
        precisions = sorted({p.split(PLATFORM_SEP)[1] for p in model.platforms})
        raise CostModelError(
            f"sweep runs on {', '.join(missing)} lie outside the fit (fitted: "
            f"{'; '.join(model.platforms)}); restrict the sweep, e.g. --only bf16=false, or "
            f"measure such runs first (fitted precisions: {', '.join(precisions)})")
    pred = model.predict_features(feats, strict=True)
    out = _run_costs(model, table, pred)
    energy_pred, energy_note = (energy.predictions(feats) if energy is not None
                                else (None, "not predicted: no energy fit"))
    add_run_costs(out, energy_pred, rates)
    unseen, note = unseen_architectures(model, feats, pred)
    return SweepEstimate(name, model.kind, feats["platform"].iloc[0], out,
                         extrapolation=_headline(model, feats), fit=model.fit_summary(),
                         unseen_architectures=unseen, architecture_note=note,
                         shape_fallbacks=shape_fallbacks(feats),
                         rates=rates, energy_note=energy_note,
                         energy_fit=(f"energy {energy.model.fit_summary()}"
                                     if energy_pred is not None else ""),
                         energy_source=energy.source if energy_pred is not None else "")


def _run_costs(model: CostModel, table: pd.DataFrame, pred: pd.DataFrame) -> pd.DataFrame:
    """Each run's parameters, prediction and its cost: one run's time x its repeats."""
    out = table[["task", "model", "max_seq_length", "batch_size", "eval_batch_size",
                 "precision", "finetuning_iters"]].copy()
    out["support"] = pred["support"].where(~pred["extrapolated"].astype(bool),
                                           pred["support"] + " (extrapolated)")
    for column in ("predicted", "lower", "upper", "interval_note"):
        out[column] = pred[column]
    if model.kind == "finetuning":
        repeats = table["finetuning_iters"].astype(float).clip(lower=1)
    else:
        repeats = np.ceil(table["n_eval"].astype(float) / table["eval_batch_size"].astype(float))
    out["repeats"] = repeats
    out["run_time"] = out["predicted"] * repeats
    out["run_time_low"] = out["lower"] * repeats
    out["run_time_high"] = out["upper"] * repeats
    return out


def _headline(model: CostModel, feats: pd.DataFrame) -> str:
    """The extrapolation sentence of each platform's runs against that platform's fit."""
    sentences = [extrapolation_headline(model.fits[platform].ranges, rows)
                 for platform, rows in feats.groupby("platform", sort=False)]
    return " ".join(s for s in sentences if s)


def unseen_architectures(model: CostModel, feats: pd.DataFrame, pred: pd.DataFrame
                         ) -> tuple[tuple[str, ...], str]:
    """The sweep's architectures no fitted run has, and the headline's sentence about them.

    Their runs are predicted (the physics prices their FLOPs; a family's efficiency effect is
    zero where the fit has not seen it), so the total stands, flagged: the error of pricing a
    new family is what leave-one-model-out measures, not what this family will do.
    """
    new = pred["support"].astype(str) == "new_architecture"
    unseen = tuple(sorted(set(feats.loc[new, "architecture"].astype(str))))
    if not unseen:
        return (), ""
    seen = sorted({a for fit in model.fits.values() for a in fit.architectures})
    return unseen, (
        f"extrapolation to an unseen architecture: {', '.join(unseen)} ({int(new.sum())} of "
        f"{len(feats)} runs); the fit has runs of {', '.join(seen)} only, so their time is "
        "their FLOPs priced at the fitted families' efficiency")


def shape_fallbacks(feats: pd.DataFrame) -> tuple[tuple[str, str], ...]:
    """(model, the config.json its shape was read from) for each model not in the table."""
    sources = feats.loc[feats["has_shape"].astype(bool), ["model_key", "shape_source"]]
    pairs = sources.drop_duplicates().itertuples(index=False)
    return tuple((str(m), str(s)) for m, s in pairs if s and s != TABLE)
