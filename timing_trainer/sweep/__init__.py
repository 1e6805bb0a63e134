"""Sweeps: the one spec that generates the W&B sweep YAMLs, their validation, and a local agent.

Named `sweep`, not `sweeps`: `sweeps` is W&B's own controller package on PyPI, which this package
uses (its schema and its grid order) and must not shadow.

- `config/`: the sweep files: `spec` (every sweep's parameters, written down once), `generate`
  (`timing-trainer sweeps generate [--check]`), `validate` (W&B's schema plus "is every parameter
  an argument of the program"), `runs` (a sweep config expanded into its runs, in W&B's order,
  through `controller`, W&B's controller package), `macros` (a run's command, as W&B's agent
  builds it), `select` (`--only`), `grid_size`, `safe_yaml`.
- `agent/`: the local agent (`timing-trainer sweep FILE.yaml`) and its parts.
"""
