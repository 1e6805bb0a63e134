"""The GLUE program: `python -m timing_trainer.glue`, the modern form of the thesis's run_glue.py.

It fine-tunes and evaluates a model on one of the nine GLUE tasks under `TimingTrainer`, from the
Hub dataset `nyu-mll/glue` or from GLUE-baselines TSV folders, and writes `timing_results.json`.
See `timing_trainer.glue.run` for the flow and the exit codes. This package's top level imports
nothing heavy, so the CLI and the sweep validator can import its modules cheaply.
"""
