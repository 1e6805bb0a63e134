"""Two sets of runs side by side, configuration by configuration: how much faster is B than A?

Runs are matched on their shape (`SHAPE_KEYS`: model, task, lengths, batch sizes, precision,
...), everything except the compared factor. Matching is explicit: a shape key is `matched`
where the two sides share values, `differed` where each side has values the other has not (two
folders, one of fp32 runs and one of bf16: precision is then what is compared, not a key to
match on), `absent` where no run records it. Per configuration both sides ran, the ratio B/A of
the medians of its repeats (`bootstrap.run_values`) with a bootstrap interval (each side
resampled apart, the ratio of the medians each time; fixed seed): for time, throughput (the
inverse: the same configuration processes the same examples) and energy where both sides carry
it. Over the configurations, the geometric mean ratio (an interval from resampling the
configurations), overall and per model, task and sequence length. The configurations only one
side has are listed, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from timing_trainer.analysis.stats.bootstrap import CONFIDENCE, N_RESAMPLES, SEED, run_values
from timing_trainer.analysis.stats.hardware import HARDWARE_KEYS, SOFTWARE_KEYS
from timing_trainer.analysis.stats.response import ENERGY, TIME
from timing_trainer.analysis.table.labels import level_label

SHAPE_KEYS = ("task", "model", "max_seq_length", "batch_size", "eval_batch_size", "precision",
              "learning_rate", "num_train_epochs", "world_size", "n_train", "n_eval")
BY = ("model", "task", "max_seq_length")  # the geometric means per level of these
MISSING = "(none)"  # a shape key's missing value, matched as a value of its own


@dataclass
class Comparison:
    """Everything the compare report shows; `notes` say what could not be computed."""

    names: tuple[str, str]
    kind: str
    factor: str | None
    keys: dict[str, list[str]]  # matched / differed / absent -> shape keys
    differed: dict[str, tuple[list[str], list[str]]]  # key -> (A's values, B's values)
    pairs: pd.DataFrame
    only: dict[str, pd.DataFrame]  # "A" / "B" -> the configurations only that side ran
    overall: dict[str, Any]
    by: pd.DataFrame
    context: pd.DataFrame  # hardware and software of each side
    notes: list[str] = field(default_factory=list)


def _values(frame: pd.DataFrame, key: str) -> set[str]:
    if key not in frame:
        return set()
    return {level_label(v) for v in frame[key].dropna()}


def classify_keys(a: pd.DataFrame, b: pd.DataFrame, factor: str | None,
                  keys: Sequence[str] = SHAPE_KEYS) -> tuple[dict[str, list[str]], dict]:
    """Which shape keys match, which differ between the sides, which no run has."""
    out: dict[str, list[str]] = {"matched": [], "differed": [], "absent": []}
    differed = {}
    for key in keys:
        if key == factor:
            continue
        left, right = _values(a, key), _values(b, key)
        if not left and not right:
            out["absent"].append(key)
        elif left and right and not left & right:
            out["differed"].append(key)
            differed[key] = (sorted(left), sorted(right))
        else:
            out["matched"].append(key)
    return out, differed


def _shape(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    if not keys:
        return pd.Series([()] * len(frame), index=frame.index, dtype=object)
    cells = frame[keys].astype(object).map(lambda v: MISSING if v is None or v is pd.NA or (
        isinstance(v, float) and v != v) else level_label(v))
    return pd.Series(list(cells.itertuples(index=False, name=None)), index=frame.index)


def ratio_interval(a: Sequence[float], b: Sequence[float], seed: int = SEED) -> dict[str, Any]:
    """median(b) / median(a), with a bootstrap interval where each side has two repeats."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = {"ratio": float(np.median(b) / np.median(a)), "low": None, "high": None}
    if a.size < 2 or b.size < 2:
        out["why_not"] = "one repeat on a side: no interval"
        return out
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        out["low"] = out["high"] = out["ratio"]
        return out
    result = stats.bootstrap(
        (a, b), lambda x, y, axis: np.median(y, axis=axis) / np.median(x, axis=axis),
        paired=False, vectorized=True, confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES,
        method="percentile", random_state=np.random.default_rng(seed))
    out["low"] = float(result.confidence_interval.low)
    out["high"] = float(result.confidence_interval.high)
    return out


def _side_values(group: pd.DataFrame, kind: str, response) -> list[float]:
    return [v for _, row in group.iterrows() for v in run_values(row, kind, response)]


def _pair_row(shape: dict, ga: pd.DataFrame, gb: pd.DataFrame, kind: str) -> dict[str, Any]:
    """One matched configuration: repeats per side, the time, throughput and energy ratios."""
    ta, tb = _side_values(ga, kind, TIME), _side_values(gb, kind, TIME)
    time = ratio_interval(ta, tb)
    row = {**shape, "runs_a": len(ga), "runs_b": len(gb), "repeats_a": len(ta),
           "repeats_b": len(tb), "median_a": float(np.median(ta)), "median_b": float(np.median(tb)),
           "time_ratio": time["ratio"], "time_low": time["low"], "time_high": time["high"],
           "throughput_ratio": 1 / time["ratio"],
           "throughput_low": None if time["high"] is None else 1 / time["high"],
           "throughput_high": None if time["low"] is None else 1 / time["low"]}
    ea, eb = (_side_values(g.dropna(subset=[ENERGY.column]), kind, ENERGY)
              if ENERGY.column in g else [] for g in (ga, gb))
    energy = ratio_interval(ea, eb) if ea and eb else {"ratio": None, "low": None, "high": None}
    row.update({"energy_ratio": energy["ratio"], "energy_low": energy["low"],
                "energy_high": energy["high"]})
    row["why_no_interval"] = time.get("why_not")
    return row


def geometric_mean(ratios: Sequence[float], seed: int = SEED) -> dict[str, Any]:
    """exp(mean(log ratio)) over configurations, with a bootstrap interval over them."""
    logs = np.log(np.asarray([r for r in ratios if r and r > 0], dtype=float))
    out: dict[str, Any] = {"n": int(logs.size), "ratio": float(np.exp(logs.mean()))
                           if logs.size else None, "low": None, "high": None}
    if logs.size >= 2 and np.ptp(logs) > 0:
        result = stats.bootstrap((logs,), np.mean, vectorized=True, method="percentile",
                                 confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES,
                                 random_state=np.random.default_rng(seed))
        out["low"] = float(np.exp(result.confidence_interval.low))
        out["high"] = float(np.exp(result.confidence_interval.high))
    elif logs.size >= 2:
        out["low"] = out["high"] = out["ratio"]
    return out


def _by(pairs: pd.DataFrame) -> pd.DataFrame:
    """The geometric mean time ratio per level of model, task and length (where matched)."""
    rows = []
    for key in (k for k in BY if k in pairs):
        for level, group in pairs.groupby(key, sort=True):
            mean = geometric_mean(group["time_ratio"])
            rows.append({"by": key, "level": level, "configurations": mean["n"],
                         "time_ratio": mean["ratio"], "low": mean["low"], "high": mean["high"]})
    return pd.DataFrame(rows)


def _context(a: pd.DataFrame, b: pd.DataFrame, names: tuple[str, str]) -> pd.DataFrame:
    """Each hardware and software key's values on the two sides, and whether they differ."""
    rows = []
    for key in (*HARDWARE_KEYS, *SOFTWARE_KEYS):
        left, right = _values(a, key), _values(b, key)
        if left or right:
            rows.append({"key": key, names[0]: ", ".join(sorted(left)) or MISSING,
                         names[1]: ", ".join(sorted(right)) or MISSING,
                         "differs": left != right})
    return pd.DataFrame(rows)


def _only(frame: pd.DataFrame, shapes: pd.Series, missing: set, keys: list[str]) -> pd.DataFrame:
    mask = shapes.map(lambda s: s in missing)
    rows = [dict(zip(keys, shape)) | {"runs": int(n)}
            for shape, n in shapes[mask].value_counts(sort=False).sort_index().items()]
    return pd.DataFrame(rows)


def compare(a: pd.DataFrame, b: pd.DataFrame, kind: str = "finetuning", *,
            names: tuple[str, str] = ("A", "B"), factor: str | None = None) -> Comparison:
    """Compare the finished runs `a` and `b` (`frame.analysis_frame`), B against A."""
    keys, differed = classify_keys(a, b, factor)
    matched = keys["matched"]
    shapes_a, shapes_b = _shape(a, matched), _shape(b, matched)
    common = sorted(set(shapes_a) & set(shapes_b))
    pairs = pd.DataFrame([_pair_row(dict(zip(matched, shape)), a[shapes_a == shape],
                                    b[shapes_b == shape], kind)
                          for shape in common]) if common else pd.DataFrame()
    notes = []
    if not common:
        notes.append(f"no configuration ran on both sides (matched on {', '.join(matched)})")
    overall = {metric: geometric_mean(pairs[f"{metric}_ratio"].dropna()) if len(pairs) else
               geometric_mean([]) for metric in ("time", "throughput", "energy")}
    if len(pairs) and pairs["energy_ratio"].isna().all():
        notes.append("energy not compared: a side carries no energy")
    return Comparison(
        names=names, kind=kind, factor=factor, keys=keys, differed=differed, pairs=pairs,
        only={names[0]: _only(a, shapes_a, set(shapes_a) - set(shapes_b), matched),
              names[1]: _only(b, shapes_b, set(shapes_b) - set(shapes_a), matched)},
        overall=overall, by=_by(pairs) if len(pairs) else pd.DataFrame(),
        context=_context(a, b, names), notes=notes)
