"""The compare report in `--out`: `compare.md`, `compare.json`, `compare.csv` (one row per
configuration both sides ran), `compare_only.csv` (those one side ran) and `compare_ratios.png`.

Matching is said first: the keys matched on, those that differed between the sides (and so are
part of what is compared), those no run records, and each side's hardware and software.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from timing_trainer.analysis.report import plots
from timing_trainer.analysis.report.interval_plots import ratio_plot
from timing_trainer.analysis.report.markdown import fmt, md_table
from timing_trainer.analysis.report.summary import clean
from timing_trainer.analysis.report.tables import write_csv
from timing_trainer.analysis.stats.bootstrap import CONFIDENCE, N_RESAMPLES, SEED
from timing_trainer.analysis.stats.compare import Comparison
from timing_trainer.runtime.atomic import atomic_write_json, atomic_write_text


def ratio_text(figure: dict[str, Any]) -> str:
    """`1.502 (95 % interval 1.47 to 1.53, 12 configurations)`, or why there is none."""
    if not figure or figure.get("ratio") is None:
        return "n/a (no configuration on both sides with this figure)"
    interval = (f"{CONFIDENCE:.0%} interval {fmt(figure['low'])} to {fmt(figure['high'])}"
                if figure.get("low") is not None else "no interval: one configuration")
    return f"{fmt(figure['ratio'])} ({interval}, {figure['n']} configurations)"


def _matching(c: Comparison, sources: dict[str, str]) -> list[str]:
    a, b = c.names
    lines = [f"- {a}: {sources.get(a, a)}", f"- {b}: {sources.get(b, b)}", "",
             f"Configurations matched on: {', '.join(f'`{k}`' for k in c.keys['matched'])}"
             + (f" (all but the compared factor `{c.factor}`)" if c.factor else "") + "."]
    for key, (left, right) in c.differed.items():
        lines.append(f"- `{key}` differed and was not matched on: {a} {', '.join(left)}; "
                     f"{b} {', '.join(right)}")
    if c.keys["absent"]:
        lines.append(f"- Recorded by no run: {', '.join(f'`{k}`' for k in c.keys['absent'])}")
    return lines + ["", "Hardware and software of each side:", "", md_table(c.context)]


def _overall(c: Comparison) -> list[str]:
    a, b = c.names
    return ["## Overall", "",
            f"Geometric mean over the configurations both ran of the ratio {b} / {a} of their "
            f"medians (below 1: {b} takes less):", "",
            f"- time: {ratio_text(c.overall['time'])}",
            f"- throughput (examples per second; the inverse of time for the same "
            f"configuration): {ratio_text(c.overall['throughput'])}",
            f"- energy: {ratio_text(c.overall['energy'])}", "",
            "By model, task and sequence length (time ratio):", "", md_table(c.by)]


def render_comparison(c: Comparison, sources: dict[str, str], figure: Path | None) -> str:
    """`compare.md`."""
    a, b = c.names
    lines = [f"# {b} against {a} ({c.kind})", ""] + _matching(c, sources) + _overall(c)
    lines += [f"- Note: {note}" for note in c.notes] + [""]
    lines += ["## Per configuration", "",
              f"Ratio {b} / {a} of the medians of each configuration's repeats (every timed "
              f"iteration of every run); {CONFIDENCE:.0%} interval: bootstrap of the ratio of "
              f"the medians, each side resampled apart ({N_RESAMPLES} resamples, seed {SEED}). "
              "Also `compare.csv`.", "", md_table(c.pairs, max_rows=60)]
    if figure is not None:
        lines += [f"![time ratios]({figure.name})", ""]
    for side in c.names:
        lines += [f"## Only {side} ran", "", md_table(c.only[side], max_rows=60)]
    return "\n".join(lines)


def _only_frame(c: Comparison) -> pd.DataFrame:
    frames = [frame.assign(side=side) for side, frame in c.only.items() if len(frame)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["side"])


def comparison_summary(c: Comparison, sources: dict[str, str]) -> dict[str, Any]:
    """`compare.json`."""
    return clean({"kind": c.kind, "names": list(c.names), "sources": sources,
                  "factor": c.factor, "keys": c.keys,
                  "differed": {k: dict(zip(c.names, v)) for k, v in c.differed.items()},
                  "overall": c.overall, "by": c.by, "configurations": c.pairs,
                  "only": {side: frame for side, frame in c.only.items()},
                  "context": c.context, "notes": c.notes,
                  "settings": {"confidence": CONFIDENCE, "resamples": N_RESAMPLES,
                               "seed": SEED}})


def write_comparison(c: Comparison, out_dir: Path, sources: dict[str, str],
                     plots_on: bool = True) -> Path:
    """Write the compare report's files into `out_dir`; return `compare.md`'s path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(c.pairs, out_dir / "compare.csv")
    write_csv(_only_frame(c), out_dir / "compare_only.csv")
    figure = None
    if plots_on and len(c.pairs):
        figure = plots.save(ratio_plot(c.pairs, c.keys["matched"], c.names),
                            out_dir / "compare_ratios.png")
    atomic_write_json(out_dir / "compare.json", comparison_summary(c, sources))
    return atomic_write_text(out_dir / "compare.md", render_comparison(c, sources, figure))
