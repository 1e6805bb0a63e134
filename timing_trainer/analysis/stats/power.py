"""Energy against time per model: which models buy speed with power.

Energy = average power x time, so on log-log axes runs of equal average power lie on one line,
and a model that is faster for more joules sits on a higher power line. The pairs compared share
their boundaries, so that energy / time is the power actually drawn:
- fine-tuning: the fastest iteration's time (`time`) and its energy (`finetuning_energy_j`);
- inference: the whole evaluation's time and energy, per sample (`inference_total_time` and
  `inference_energy_j` over the samples, `inference_energy_j / inference_energy_per_sample_j`).
  The analysed per-batch latency is a minimum over batches and the per-batch energy a mean, so
  their ratio would not be a power.
Power comes from the loader's `avg_power_w` (same boundaries). Medians per model; a model's
median time still mixes the tasks and settings it ran with, its power much less so.
"""

from __future__ import annotations

import pandas as pd

AXES = {  # kind -> (time label, energy label)
    "finetuning": ("fine-tuning time, fastest iteration (s)", "energy of that iteration (J)"),
    "inference": ("evaluation time per sample (s)", "evaluation energy per sample (J)"),
}
POWER_COLUMNS = ["model", "runs", "median_time_s", "median_energy_j", "median_power_w",
                 "min_power_w", "max_power_w", "energy_source"]


def _number(data: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(data[column], errors="coerce").astype("float64")


def energy_time_pairs(data: pd.DataFrame, kind: str) -> pd.DataFrame:
    """One row per run with both: `model`, `time_s`, `energy_j`, `power_w`, `energy_source`."""
    if "energy_j" not in data or "model" not in data:
        return pd.DataFrame(columns=["model", "time_s", "energy_j", "power_w", "energy_source"])
    if kind == "finetuning":
        time, energy = _number(data, "time"), _number(data, "finetuning_energy_j")
    else:
        energy = _number(data, "inference_energy_per_sample_j")
        samples = _number(data, "inference_energy_j") / energy
        time = _number(data, "inference_total_time") / samples
    pairs = pd.DataFrame({"model": data["model"], "time_s": time, "energy_j": energy,
                          "power_w": _number(data, "avg_power_w"),
                          "energy_source": data.get("energy_source")})
    usable = (pairs["time_s"] > 0) & (pairs["energy_j"] > 0) & pairs["model"].notna()
    return pairs.loc[usable.fillna(False).astype(bool)].reset_index(drop=True)


def power_by_model(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per model: runs, median time, energy and power, the power's range, the energy sources;
    fastest model first."""
    if pairs.empty:
        return pd.DataFrame(columns=POWER_COLUMNS)
    grouped = pairs.groupby("model", sort=True)
    table = pd.DataFrame({
        "runs": grouped.size(), "median_time_s": grouped["time_s"].median(),
        "median_energy_j": grouped["energy_j"].median(),
        "median_power_w": grouped["power_w"].median(), "min_power_w": grouped["power_w"].min(),
        "max_power_w": grouped["power_w"].max(),
        "energy_source": grouped["energy_source"].agg(
            lambda s: ", ".join(sorted(set(s.dropna().astype(str)))) or None),
    }).reset_index()
    return table.sort_values(["median_time_s", "model"], kind="mergesort") \
        .reset_index(drop=True)[POWER_COLUMNS]


def speed_for_power(table: pd.DataFrame) -> str | None:
    """One sentence: the fastest model's power against the most frugal model's (None: < 2)."""
    known = table.dropna(subset=["median_power_w"])
    if len(known) < 2:
        return None
    fast, frugal = known.iloc[0], known.loc[known["median_power_w"].idxmin()]
    if fast["model"] == frugal["model"]:
        return (f"The fastest model, {fast['model']}, also draws the least power "
                f"({fast['median_power_w']:.3g} W median): its speed costs no extra power.")
    ratio = fast["median_power_w"] / frugal["median_power_w"]
    return (f"The fastest model, {fast['model']}, draws {fast['median_power_w']:.3g} W (median), "
            f"{ratio:.2f}x the power of {frugal['model']} ({frugal['median_power_w']:.3g} W), "
            f"which takes {frugal['median_time_s'] / fast['median_time_s']:.2f}x its time.")
