"""How far a request lies outside the fitted runs: model size, sequence length, batch size.

A fit prices the runs it has seen; between them its physics interpolates, beyond them it
extrapolates. A little beyond (a length 1.5x the longest fitted) is flagged per run
(`extrapolated`); far beyond (more than `FAR_FACTOR` times, e.g. BERT-base predicted from
runs of two-layer models of 40 thousand parameters) the prediction is said to be an
extrapolation in the headline, with the factor, and gets no interval: the cross-validated
residuals that calibrate intervals never met such a distance, so any interval would be a guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FAR_FACTOR = 2.0
FAR_NOTE = "far outside the fitted runs"  # how a far run's interval note begins
# Feature column -> (the fitted runs' range said, its name, the sweep's above / below it).
DIMENSIONS = {
    "params": ("the fitted runs' models have {} parameters", "parameters", "larger", "smaller"),
    "flops_per_token": ("the fitted runs' models take {} FLOPs per token", "FLOPs per token",
                        "more", "fewer"),
    "length": ("the fitted runs' sequences are {} tokens long", "sequence lengths", "longer",
               "shorter"),
    "batch": ("the fitted runs' batches hold {} examples", "batch sizes", "larger", "smaller"),
}


def fitted_ranges(feats: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """(min, max) of each dimension over the fitted runs (NaN where no run says it)."""
    out = {}
    for column in DIMENSIONS:
        values = pd.to_numeric(feats.get(column), errors="coerce") if column in feats else None
        if values is None or values.dropna().empty:
            out[column] = (float("nan"), float("nan"))
        else:
            out[column] = (float(values.min()), float(values.max()))
    return out


def outside_factors(ranges: dict[str, tuple[float, float]], feats: pd.DataFrame) -> pd.DataFrame:
    """Per run and dimension, how many times outside the fitted range (1.0: inside).

    A value above the range gives value / max, one below it min / value; unknown: 1.0.
    """
    out = pd.DataFrame(index=feats.index)
    for column in DIMENSIONS:
        low, high = ranges.get(column, (np.nan, np.nan))
        values = pd.to_numeric(feats[column], errors="coerce").to_numpy(float) \
            if column in feats else np.full(len(feats), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.fmax(values / high, low / values)
        out[column] = np.where(np.isfinite(factor) & (factor > 1.0), factor, 1.0)
    return out


def far_reason(factors: pd.Series) -> str:
    """Why one run far outside the fit has no interval (`factors`: one row of
    `outside_factors`), or "" when it is not far outside."""
    column = factors.idxmax()
    if factors[column] <= FAR_FACTOR:
        return ""
    return (f"{FAR_NOTE}: {_times(factors[column])} beyond their "
            f"{DIMENSIONS[column][1]}")


def headline(ranges: dict[str, tuple[float, float]], feats: pd.DataFrame) -> str:
    """One sentence for the estimate's headline, or "" when every run is within reach.

    Model size is told once: by parameters, else (ALBERT shares its weights) by FLOPs per
    token.
    """
    clauses: dict[str, str] = {}
    for column in DIMENSIONS:
        if column == "flops_per_token" and "params" in clauses:
            continue
        clause = _clause(column, ranges.get(column), feats)
        if clause:
            clauses[column] = clause
    if not clauses:
        return ""
    return ("extrapolation: " + "; ".join(clauses.values())
            + ": the prediction is an extrapolation, without an interval")


def _clause(column: str, fitted: tuple[float, float] | None, feats: pd.DataFrame) -> str:
    if fitted is None or column not in feats or not np.isfinite(fitted).all():
        return ""
    fitted_text, _, up, down = DIMENSIONS[column]
    values = pd.to_numeric(feats[column], errors="coerce").dropna().to_numpy(float)
    values = values[values > 0]
    if len(values) == 0:
        return ""
    low, high = fitted
    above, below = values.max() / high, low / values.min()
    if max(above, below) <= FAR_FACTOR:
        return ""
    fit_text = fitted_text.format(_span(low, high))
    if above >= below:
        nearest = values.min() / high
        span = (f"{_times(nearest)} to {_times(above)}" if nearest > 1.0
                else f"up to {_times(above)}")
        return f"{fit_text}, this sweep's are {span} {up}"
    nearest = low / values.max()
    span = f"{_times(nearest)} to {_times(below)}" if nearest > 1.0 else f"up to {_times(below)}"
    return f"{fit_text}, this sweep's are {span} {down}"


def _span(low: float, high: float) -> str:
    return _si(low) if _si(low) == _si(high) else f"{_si(low)} to {_si(high)}"


def _si(value: float) -> str:
    """41_536 -> '41.5 k', 109_482_240 -> '109 M' (three significant digits)."""
    for factor, prefix in ((1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{prefix}"
    return f"{value:.3g}"


def _times(factor: float) -> str:
    """3.04 -> '3.0x', 26.4 -> '26x', 1562 -> '1600x' (two significant digits)."""
    if factor < 10:
        return f"{factor:.1f}x"
    return f"{float(f'{factor:.2g}'):.0f}x"
