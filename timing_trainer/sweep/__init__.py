"""Sweeps: the one spec that generates the W&B sweep YAMLs, their validation, and a local agent.

Named `sweep`, not `sweeps`: `sweeps` is W&B's own controller package on PyPI, which this package
uses (its schema and its grid order) and must not shadow.

- `spec`: every sweep's parameters, written down once.
- `generate`: the YAML text of each sweep (`timing-trainer sweeps generate [--check]`).
- `validate`: W&B's schema plus "is every parameter an argument of the program".
- `runs`: a sweep config expanded into its runs, in W&B's order (torch-free), through
  `controller` (W&B's controller package, `sweeps`).
- `macros`: a run's command built by W&B's own helpers, with W&B's agent's macro meanings.
- `agent`: the local agent (`timing-trainer sweep FILE.yaml`); its options and planned runs are
  `plan`, one run's attempt is `attempt`, its process `child`, the workers over GPUs `workers`
  (the agent's docstring names the rest).
"""
