"""What a run measured, and the file that says so: torch-free, values in and figures out.

- `figures`: every figure declared once (name, JSON type, where else it goes); `schema` derives
  the results file's JSON schema from it; `reasons`: why a figure is null (no silent null).
- `measurement`: statistics of repeated timings; `flops`: model arithmetic and MFU; `energy`:
  joules into the energy figures; `evaluation`: one timed evaluation loop's figures.
- `file`: `RunResults`, the one type every reader and writer of `timing_results.json` goes
  through (its round trip, validated both ways); `run_results`: one run's results built from
  raw values; `writer`: the file, W&B's summary and the end of the run; `recorder`: the
  trainer's side of it.
- `wandb_logging` and `summary_line`: the same figures in W&B and in one printed line.
"""
