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

Each run's data sizes come from the sweep (data_size.py: a `data_dir`'s rows, the
`max_*_samples` caps, else the task table's Hub sizes), each with its source in the JSON, and its
modes (LoRA, torch.compile, the attention kernel, padding-free) from its parameters
(sweep_rows.py): a LoRA run is priced without the frozen weights' gradients, and a mode the
fitted runs never ran is named in the headline (`unseen_modes`). Where every run lies far
outside the fitted runs, no total is given without `--force`, and the headline recommends the
pilot (trust.py).

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
from timing_trainer.costmodel import trust
from timing_trainer.costmodel.data_size import DataSizes
from timing_trainer.costmodel.energy import EnergyFit
from timing_trainer.costmodel.extrapolation import headline as extrapolation_headline
from timing_trainer.costmodel.features import PLATFORM_SEP, fitted_cpu_threads, run_features
from timing_trainer.costmodel.model import CostModel
from timing_trainer.costmodel.modes import MODE_GROUPS, mode_label
from timing_trainer.costmodel.shapes import TABLE
from timing_trainer.costmodel.sweep_costs import Amount, Rates, add_run_costs, sweep_totals
from timing_trainer.costmodel.sweep_rows import DEFAULTS, runs_table
from timing_trainer.errors import CostModelError

__all__ = ["DEFAULTS", "SweepEstimate", "choose_device", "estimate_sweep", "runs_table",
           "shape_fallbacks", "sweep_runs", "unseen_architectures", "unseen_modes"]
# The runs' columns the estimate keeps beside its predictions (the JSON's `runs`).
RUN_COLUMNS = ("task", "model", "max_seq_length", "batch_size", "eval_batch_size", "precision",
               "finetuning_iters", "lora_r", "torch_compile", "attn_implementation",
               "padding_free", "n_train", "n_eval", "n_train_source", "n_eval_source")


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
    unseen_modes: str = ""  # the headline's sentence on modes no fitted run ran ("" when none)
    pilot_command: str = ""  # what measures this machine instead (trust.py)
    force: bool = False  # give the total even where every run is far outside the fit

    @property
    def all_far(self) -> bool:
        """Every run lies far outside the fitted runs (trust.py)."""
        return trust.all_far(self.runs)

    @property
    def total_withheld(self) -> bool:
        """No total is given: every run is far outside the fit and `--force` was not given."""
        return self.all_far and not self.force

    @property
    def total_note(self) -> str:
        """Why the total is not given, or given only because of `--force` ("" otherwise)."""
        return trust.total_note(len(self.runs), self.force) if self.all_far else ""

    @property
    def trust_note(self) -> str:
        """The headline's sentence on a withheld (or forced) total and the pilot ("" if none)."""
        return trust.headline(self.pilot_command, self.force) if self.all_far else ""

    @property
    def totals(self) -> dict[str, Amount | None]:
        """Hours, kWh, money and emissions of the whole sweep (sweep_costs.py); each without a
        value, `total_note` saying why, where the total is withheld."""
        totals = sweep_totals(self.runs, self.rates, self.energy_note)
        if self.total_withheld:
            return {name: Amount(None, None, None, amount.unit, self.total_note) if amount
                    else None for name, amount in totals.items()}
        return totals

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
        total, low, high = (None, None, None) if self.total_withheld else self.total
        return {
            "sweep": self.name, "kind": self.kind, "platform": self.platform,
            "n_runs": len(self.runs), "total_s": total, "total_low_s": clean(low),
            "total_high_s": clean(high), "total_note": self.total_note or None,
            "pilot_command": self.pilot_command if self.all_far else None,
            "total_interval_note": self.total_interval_note or None,
            "interval_notes": self.interval_notes,
            "extrapolation": self.extrapolation or None, "fit": self.fit,
            "unseen_architectures": list(self.unseen_architectures),
            "architecture_note": self.architecture_note or None,
            "unseen_modes": self.unseen_modes or None,
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
                   rates: Rates = Rates(), force: bool = False) -> SweepEstimate:
    """Predict every run of the sweep at `path` on `device` (strict: refuses what it cannot).

    `energy`: the energy fit of the same runs (energy.py); without one, or where it cannot
    answer, the estimate gives hours and says why there is no energy. `rates`: price per hour
    and grid intensity, for money and emissions. `force`: give the total even where every run
    lies far outside the fit (trust.py). `fitted` (the fitted runs) is accepted as before and no
    longer read: data sizes come from the sweep itself (data_size.py), not from the fitted
    runs of its task.
    """
    del fitted  # kept for callers written when the fitted runs' sizes priced a sweep
    name, runs = sweep_runs(path, only, model.kind)
    table, feats = _planned(model, runs, path, device, world_size)
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
                         unseen_modes=unseen_modes(model, feats),
                         pilot_command=trust.pilot_command(path, name, only), force=force,
                         rates=rates, energy_note=energy_note,
                         energy_fit=(f"energy {energy.model.fit_summary()}"
                                     if energy_pred is not None else ""),
                         energy_source=energy.source if energy_pred is not None else "")


def _planned(model: CostModel, runs: list[dict[str, Any]], path: str | Path,
             device: str | None, world_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sweep's runs as table rows and their features, on a platform the fit has."""
    dev, gpu = choose_device(model, device)
    table = runs_table(runs, device=dev, gpu_name=gpu, world_size=world_size,
                       cpu_threads=fitted_cpu_threads(model.platforms, dev),
                       sizes=DataSizes(path))
    feats = run_features(table, model.kind, model.search_dirs)
    missing = sorted({p for p in feats["platform"] if p not in model.fits})
    if missing:
        precisions = sorted({p.split(PLATFORM_SEP)[1] for p in model.platforms})
        raise CostModelError(
            f"sweep runs on {', '.join(missing)} lie outside the fit (fitted: "
            f"{'; '.join(model.platforms)}); restrict the sweep, e.g. --only bf16=false, or "
            f"measure such runs first (fitted precisions: {', '.join(precisions)})")
    return table, feats


def _run_costs(model: CostModel, table: pd.DataFrame, pred: pd.DataFrame) -> pd.DataFrame:
    """Each run's parameters, prediction and its cost: one run's time x its repeats."""
    out = table[list(RUN_COLUMNS)].copy()
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


def unseen_modes(model: CostModel, feats: pd.DataFrame) -> str:
    """The headline's sentence on the sweep's modes that no fitted run of its platform ran
    ("" when none): such runs are priced by their FLOPs and parameters alone (LoRA's
    arithmetic follows its rank; compile's or a kernel's efficiency has no effect to go by)."""
    clauses = []
    for group in MODE_GROUPS:
        seen = {level for fit in model.fits.values() for level in fit.modes.get(group, ())}
        levels = feats[group].astype(str)
        new = (levels != "") & ~levels.isin(seen)
        for level in sorted(set(levels[new])):
            count = int((levels[new] == level).sum())
            clauses.append(f"{mode_label(group, level)} ({count} of {len(feats)} runs)")
    if not clauses:
        return ""
    return ("modes no fitted run ran: " + "; ".join(clauses) + "; priced by their FLOPs and "
            "parameters alone, without an efficiency effect")
