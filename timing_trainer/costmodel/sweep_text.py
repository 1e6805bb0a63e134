"""A sweep's estimate as plain text: one line per run, the numbered reasons a run has no
interval, the total, then energy, money and emissions (what `timing-trainer predict --sweep`
prints without `--json`). The figures are sweep_estimate.py's and sweep_costs.py's; this module
only lays them out: seconds as `1h05m` or `2m30s`, kWh to three significant digits.
"""

from __future__ import annotations

import math

import pandas as pd

from timing_trainer.costmodel.sweep_costs import Amount, Rates
from timing_trainer.costmodel.sweep_estimate import SweepEstimate
from timing_trainer.runtime.durations import duration


def format_estimate(est: SweepEstimate) -> str:
    """A plain-text table of the runs and the total, hours where it helps; kWh beside the time
    where energy is predicted, and the totals of energy, money and emissions under it.

    The headline says what the fit stands on and, when the runs lie far outside it, that the
    prediction is an extrapolation (and, when every run does, that no total is given, with the
    pilot command to run instead); a run without an interval points to a numbered reason. A
    column of modes (`lora8 compile sdpa`) appears where the sweep sets any.
    """
    what = ("fine-tuning time x finetuning_iters" if est.kind == "finetuning"
            else "per-batch latency x evaluation batches")
    energy = "run_kwh" in est.runs
    lines = [f"sweep {est.name}: {len(est.runs)} runs on {est.platform} ({what}; 90% intervals)"]
    lines += [line for line in (est.fit, est.energy_fit, est.extrapolation,
                                est.architecture_note, est.unseen_modes, est.trust_note) if line]
    lines += [f"shape of {model}: not in the model table, read from {config}"
              for model, config in est.shape_fallbacks]
    modes = est.runs.apply(_modes, axis=1) if len(est.runs) else pd.Series(dtype=str)
    width = max([len(m) for m in modes] + [0])
    lines.append(f"{'task':<6} {'model':<26} {'len':>4} {'batch':>5} {'prec':>5} "
                 + (f"{'modes':<{width}} " if width else "")
                 + f"{'one run':>10} {'x':>4} {'run total':>10} {'interval':>23}"
                 + (f" {'kWh':>8} {'kWh interval':>20}" if energy else "") + "  support")
    notes = est.interval_notes
    if energy:
        notes += [n for n in pd.unique(est.runs["energy_interval_note"].fillna("").astype(str))
                  if n and n not in notes]
    lines += [_run_line(r, est.kind, notes, energy, m, width)
              for r, m in zip(est.runs.itertuples(), modes)]
    lines += [f"({i}) {note}" for i, note in enumerate(notes, 1)]
    lines += _total_lines(est)
    return "\n".join(lines)


def _total_lines(est: SweepEstimate) -> list[str]:
    """The total and its interval, then energy, money and emissions; one line saying why where
    the total is withheld (trust.py), and the reason beside a total given with `--force`."""
    if est.total_withheld:
        return [f"total: {est.total_note}"]
    total, low, high = est.total
    interval = (f"no 90% interval: {est.total_interval_note}" if est.total_interval_note
                else f"90% interval {_interval(low, high)}")
    forced = f" ({est.total_note})" if est.total_note else ""
    return [f"total: {duration(total)} ({total / 3600:.2f} h), {interval}{forced}",
            *format_totals(est.totals, est.rates, est.energy_source)]


def _modes(run) -> str:
    """A run's modes in a few characters ("" for full fine-tuning, eager-or-default, no
    compile): `lora8 compile sdpa`."""
    words = []
    rank = pd.to_numeric(run.get("lora_r"), errors="coerce")
    if pd.notna(rank) and rank > 0:
        words.append(f"lora{int(rank)}")
    if str(run.get("torch_compile")) == "True":
        words.append("compile")
    attn = run.get("attn_implementation")
    if isinstance(attn, str) and attn:
        words.append(attn)
    if str(run.get("padding_free")) == "True":
        words.append("padding-free")
    return " ".join(words)


def _run_line(r, kind: str, notes: list[str], energy: bool, modes: str = "",
              width: int = 0) -> str:
    """One run of the table; an interval it lacks points to its numbered reason."""
    batch = r.batch_size if kind == "finetuning" else r.eval_batch_size
    cell = (f"none ({notes.index(r.interval_note) + 1})" if r.interval_note
            else _interval(r.run_time_low, r.run_time_high))
    line = (f"{r.task:<6} {r.model:<26} {int(r.max_seq_length):>4} {int(batch):>5} "
            f"{r.precision:>5} " + (f"{modes:<{width}} " if width else "")
            + f"{duration(r.predicted):>10} {int(r.repeats):>4} {duration(r.run_time):>10} "
            f"{cell:>23}")
    if energy:
        kwh, kwh_interval = _kwh_cells(r.run_kwh, r.run_kwh_low, r.run_kwh_high)
        note = r.energy_interval_note
        line += f" {kwh:>8} {(f'none ({notes.index(note) + 1})' if note else kwh_interval):>20}"
    return f"{line}  {r.support}"


def _interval(low: float, high: float) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "n/a"
    return f"[{duration(low)}, {duration(high)}]"


def format_totals(totals: dict[str, Amount | None], rates: Rates, source: str) -> list[str]:
    """The lines under the time's total: energy, then money and emissions where asked for."""
    kwh = totals["energy_kwh"]
    counted = f" (energy counted by {source})" if source else ""
    lines = [f"energy: {_line(kwh, '{:.3g}', ' kWh')}{counted}" if kwh.value is not None
             else f"energy: {kwh.note}; hours only"]
    money = totals["money"]
    if money is not None:
        lines.append(f"money: {_line(money, '{:,.2f}', '')} (hours x "
                     f"{rates.price_per_hour:g} per hour)")
    emissions = totals["emissions_gco2e"]
    if emissions is not None and emissions.value is None:
        lines.append("emissions: not given: no energy prediction (see energy above)")
    elif emissions is not None:
        kg = emissions.value >= 1000
        shown = emissions.scaled(1e-3, "kgCO2e") if kg else emissions
        lines.append(f"emissions: {_line(shown, '{:.3g}', ' ' + shown.unit)} (kWh x "
                     f"{rates.grid_intensity:g} gCO2e/kWh)")
    return lines


def _line(amount: Amount, fmt: str, unit: str) -> str:
    """`1.23 kWh, 90% interval [1.1, 1.4] kWh`, or the value and why it has no interval."""
    value = fmt.format(amount.value) + unit
    if amount.low is None:
        return f"{value}, {amount.note}"
    return f"{value}, 90% interval [{fmt.format(amount.low)}, {fmt.format(amount.high)}]{unit}"


def _kwh_cells(value: float, low: float, high: float) -> tuple[str, str]:
    """A run's kWh and its interval for the table (three significant digits)."""
    def cell(x: float) -> str:
        return f"{x:.3g}" if math.isfinite(x) else "n/a"

    interval = (f"[{cell(low)}, {cell(high)}]" if math.isfinite(low) and math.isfinite(high)
                else "")
    return cell(value), interval
